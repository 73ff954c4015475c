"""Failures somebody sees: alarms (and their topic), the dashboard, the dead-letter queues, the
notifications handler's log retention, and synth refusing unbuilt layers unless allowed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra import names
from tests.infra.conftest import ROOT, resources

FUNCTIONS = set(names.ALL_FUNCTIONS)


def alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Alarm properties by logical id without its hash (MediaJetAlarms<Name>)."""
    return {lid[:-8]: r["Properties"] for lid, r in resources(template, "AWS::CloudWatch::Alarm").items()}


def by_suffix(found: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    (props,) = [p for key, p in found.items() if key.endswith(f"Alarms{name}")]
    return props


def ref_of(template: dict[str, Any], kind: str, fragment: str) -> str:
    (lid,) = [lid for lid in resources(template, kind) if fragment in lid]
    return lid


def test_every_alarm_watches_the_right_metric_with_a_description(template: dict[str, Any]) -> None:
    found = alarms(template)
    machine = ref_of(template, "AWS::StepFunctions::StateMachine", "StateMachine")
    for name, metric in (("ExecutionsFailed", "ExecutionsFailed"), ("ExecutionsTimedOut", "ExecutionsTimedOut")):
        props = by_suffix(found, name)
        assert (props["Namespace"], props["MetricName"], props["Statistic"]) == ("AWS/States", metric, "Sum")
        assert props["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": machine}}]
        assert (props["Threshold"], props["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    errors = {key: p for key, p in found.items() if p.get("MetricName") == "Errors"}
    assert len(errors) == len(FUNCTIONS), "one Errors alarm per function"
    assert all(p["Namespace"] == "AWS/Lambda" and p["Threshold"] == 1 for p in errors.values())
    throttles = by_suffix(found, "Throttles")
    stats = [m["MetricStat"]["Metric"] for m in throttles["Metrics"] if "MetricStat" in m]
    assert {m["MetricName"] for m in stats} == {"Throttles"} and len(stats) == len(FUNCTIONS) - 1, "not encode_chunk"
    api = ref_of(template, "AWS::ApiGatewayV2::Api", "HttpApi")
    api_5xx = by_suffix(found, "Api5xx")
    assert (api_5xx["Namespace"], api_5xx["MetricName"], api_5xx["Statistic"]) == ("AWS/ApiGateway", "5xx", "Sum")
    assert api_5xx["Dimensions"] == [{"Name": "ApiId", "Value": {"Ref": api}}]
    p99 = by_suffix(found, "ApiLatencyP99")
    assert (p99["MetricName"], p99["ExtendedStatistic"], p99["Threshold"]) == ("Latency", "p99", 5000)
    assert p99["EvaluationPeriods"] == p99["DatapointsToAlarm"] == 3
    for short in ("Uploads", "Tasks"):
        dead = by_suffix(found, f"DeadLetters{short}")
        assert (dead["Namespace"], dead["MetricName"], dead["Statistic"]) == (
            "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum")
        assert (dead["Threshold"], dead["ComparisonOperator"]) == (0, "GreaterThanThreshold")
        assert "requestPayload" in dead["AlarmDescription"]
    assert len(found) == 2 + len(FUNCTIONS) + 1 + 3 + 2
    for props in found.values():
        assert props["AlarmDescription"].startswith("MediaJet") and len(props["AlarmDescription"]) > 80
        assert props["TreatMissingData"] == "notBreaching"
        assert "AlarmActions" not in props and "OKActions" not in props, "no topic: no actions"


def test_the_dashboard_shows_the_key_metrics(template: dict[str, Any]) -> None:
    (dashboard,) = resources(template, "AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == "MediaJet-MediaJet"
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in ("ExecutionsFailed", "ExecutionsSucceeded", "5xx", "Latency", "Errors", "Throttles", "Duration",
                   "ApproximateNumberOfMessagesVisible", '\\"type\\":\\"alarm\\"'):
        assert metric in body, metric


def test_failed_async_invocations_land_in_encrypted_tls_only_queues(template: dict[str, Any],
                                                                      functions: dict[str, Any]) -> None:
    # (the webhook queues, a retry queue and its dead letters: tests/infra/test_webhooks_lambda.py)
    queues = {lid: q for lid, q in resources(template, "AWS::SQS::Queue").items() if "Webhooks" not in lid}
    assert len(queues) == 2
    for queue in queues.values():
        assert queue["Properties"] == {"MessageRetentionPeriod": 14 * 24 * 3600, "SqsManagedSseEnabled": True}
    policies = resources(template, "AWS::SQS::QueuePolicy").values()
    guarded = {p["Properties"]["Queues"][0]["Ref"] for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]
               if s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}}
    assert guarded >= set(queues)
    configs = {c["Properties"]["FunctionName"]["Ref"]: c["Properties"]
               for c in resources(template, "AWS::Lambda::EventInvokeConfig").values()}
    upload, encode = functions[names.UPLOAD_FUNCTION][0], functions[names.ENCODE_FUNCTION][0]
    assert set(configs) == {upload, encode}
    assert configs[upload]["MaximumRetryAttempts"] == 2, "as S3's async invocation did before"
    assert configs[encode]["MaximumRetryAttempts"] == 0, "a standalone task that died would die again"
    targets = {name: configs[name]["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
               for name in configs}
    assert set(targets.values()) == set(queues) and "Uploads" in targets[upload] and "Task" in targets[encode]
    # each function's role may send to its queue
    for function, queue in targets.items():
        fn = next(r for lid, r in functions.values() if lid == function)
        role_ref = fn["Properties"]["Role"]["Fn::GetAtt"][0]
        sends = [s for p in resources(template, "AWS::IAM::Policy").values()
                 if {"Ref": role_ref} in p["Properties"]["Roles"]
                 for s in p["Properties"]["PolicyDocument"]["Statement"]
                 if s["Resource"] == {"Fn::GetAtt": [queue, "Arn"]}]
        assert sends and "sqs:SendMessage" in json.dumps(sends)


def test_the_notifications_handler_logs_expire(template: dict[str, Any]) -> None:
    handler = next(r for lid, r in resources(template, "AWS::Lambda::Function").items()
                   if lid.startswith("BucketNotificationsHandler"))
    log_group = handler["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    assert template["Resources"][log_group]["Properties"]["RetentionInDays"] == 30
    assert template["Resources"][log_group]["DeletionPolicy"] == "Delete"


@pytest.mark.parametrize("as_arn", [False, True], ids=["topic", "topic ARN"])
def test_every_alarm_notifies_the_topic_when_one_is_given(tmp_path: Path, as_arn: bool) -> None:
    import aws_cdk as cdk
    from aws_cdk import assertions
    from aws_cdk import aws_sns as sns

    from infra.stack import MediaJet

    arn = "arn:aws:sns:us-east-2:111122223333:on-call"
    app = cdk.App(outdir=str(tmp_path), context=json.loads((ROOT / "cdk.json").read_text())["context"])
    stack = cdk.Stack(app, "TeamMedia", env=cdk.Environment(region="us-east-2"))
    MediaJet(stack, "Media", placeholder_layers=True,
             alarm_topic=arn if as_arn else sns.Topic.from_topic_arn(stack, "OnCall", arn))
    template = assertions.Template.from_stack(stack).to_json()
    found = resources(template, "AWS::CloudWatch::Alarm")
    assert len(found) == 2 + len(FUNCTIONS) + 1 + 3 + 2
    for alarm in found.values():
        assert alarm["Properties"]["AlarmActions"] == [arn]
        assert alarm["Properties"]["OKActions"] == [arn]
    (dashboard,) = resources(template, "AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == "TeamMedia-Media"


@pytest.fixture
def unbuilt_layers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(names, "FFMPEG_LAYER_BUILD_DIR", tmp_path / "no-ffmpeg")
    monkeypatch.setattr(names, "MEDIAJET_LAYER_BUILD_DIR", tmp_path / "no-mediajet")
    monkeypatch.delenv(names.ALLOW_PLACEHOLDERS_ENV, raising=False)


def test_synth_refuses_unbuilt_layers_unless_allowed(tmp_path: Path, unbuilt_layers: None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import aws_cdk as cdk

    from infra.layers import PlaceholderLayersError
    from infra.stack import MediaJet

    def build(context: dict[str, Any] | None = None, **options: Any) -> None:
        stack = cdk.Stack(cdk.App(outdir=str(tmp_path), context=context), "TeamMedia")
        MediaJet(stack, "Media", architecture="x86_64", **options)

    with pytest.raises(PlaceholderLayersError) as refused:
        build()
    message = str(refused.value)
    assert "python layers/ffmpeg/build.py --arch x86_64" in message
    assert "python layers/build_mediajet.py --arch x86_64" in message
    assert names.ALLOW_PLACEHOLDERS_ENV in message and names.ALLOW_PLACEHOLDERS_CONTEXT in message
    with pytest.raises(PlaceholderLayersError):
        build({names.ALLOW_PLACEHOLDERS_CONTEXT: "false"})
    build({names.ALLOW_PLACEHOLDERS_CONTEXT: "true"})
    build(allow_placeholder_layers=True)
    build(placeholder_layers=True)  # asking for the placeholders allows them
    monkeypatch.setenv(names.ALLOW_PLACEHOLDERS_ENV, "1")
    build()


def test_a_built_layer_needs_no_allowance(tmp_path: Path, unbuilt_layers: None) -> None:
    import aws_cdk as cdk

    from infra.stack import MediaJet

    for root in (names.FFMPEG_LAYER_BUILD_DIR, names.MEDIAJET_LAYER_BUILD_DIR):
        (root / "arm64" / "bin").mkdir(parents=True)
        (root / "arm64" / "bin" / "marker").write_text("built")
    MediaJet(cdk.Stack(cdk.App(outdir=str(tmp_path)), "TeamMedia"), "Media")
