"""MediaJet as a construct inside someone else's CDK app, with its options."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.infra.conftest import resources, tag

TEAM_KEY = "arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_the_construct_in_a_team_stack_with_its_options_passes_nag(tmp_path: Path) -> None:
    import aws_cdk as cdk

    from infra import nag
    from infra.lambdas import FUNCTION_TAG
    from infra.stack import MediaJet

    # The team's own app: a bare App, none of this repository's cdk.json feature flags.
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "TeamMedia", env=cdk.Environment(region="us-east-2"))
    media = MediaJet(stack, "Media", architecture="x86_64", input_bucket_names=["team-uploads"],
                     export_bucket_names=["team-site"], input_kms_key_arns=[TEAM_KEY], encode_memory_mb=3008, chunk_concurrency=20,
                     chunk_reserved_concurrency=None, webhook_reserved_concurrency=None, api_memory_mb=1769,
                     placeholder_layers=True)
    cdk.CfnOutput(stack, "Api", value=media.api.url)
    nag.check(app)
    app.synth()  # raises when a cdk-nag finding is not acknowledged

    template: dict[str, Any] = json.loads((tmp_path / "TeamMedia.template.json").read_text())
    fns = {tag(r, FUNCTION_TAG): r["Properties"] for r in resources(template, "AWS::Lambda::Function").values()
           if tag(r, FUNCTION_TAG)}
    assert {p["Architectures"][0] for p in fns.values()} == {"x86_64"}
    assert fns["encode"]["MemorySize"] == fns["encode_chunk"]["MemorySize"] == 3008
    assert fns["api"]["MemorySize"] == 1769, "one vCPU for the API's cold starts"
    assert fns["probe"]["Environment"]["Variables"]["MEDIAJET_ENCODE_SPEED"] == "0.85", "1.7 vCPUs / 2"
    assert fns["encode"]["Environment"]["Variables"]["MEDIAJET_CHUNK_PARALLELISM"] == "20", "one wave of 20 parts"
    assert not any("ReservedConcurrentExecutions" in p for p in fns.values()), "a low quota cannot reserve"
    (machine,) = resources(template, "AWS::StepFunctions::StateMachine").values()
    asl = "".join(p for p in machine["Properties"]["DefinitionString"]["Fn::Join"][1] if isinstance(p, str))
    assert '"MaxConcurrency":20,' in asl, "at most 20 parts of a job at once"
    policies = json.dumps(resources(template, "AWS::IAM::Policy"))
    assert ":s3:::team-uploads/*" in policies and ":s3:::team-site/*" in policies
    for layer in resources(template, "AWS::Lambda::LayerVersion").values():
        assert layer["Properties"]["CompatibleArchitectures"] == ["x86_64"]

    # The roles that read s3:// inputs (GetObject and GetObjectVersion on the team's bucket) decrypt
    # with the team's key, and no other role does.
    from infra.stack import INPUT_READERS

    role_names = {lid: tag(r, FUNCTION_TAG) for lid, r in resources(template, "AWS::IAM::Role").items()}
    readers, decrypters = set(), {}
    for policy in resources(template, "AWS::IAM::Policy").values():
        names = {role_names.get(r["Ref"]) for r in policy["Properties"]["Roles"]}
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            acts = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if "s3:GetObjectVersion" in acts and "team-uploads" in json.dumps(statement["Resource"]):
                readers |= names
            if "kms:Decrypt" in acts and "ConnectionsKey" not in json.dumps(statement["Resource"]):
                decrypters |= {n: statement for n in names}  # (connection secrets: test_connections_aws.py)
    assert readers == set(INPUT_READERS)
    assert set(decrypters) == set(INPUT_READERS)
    for statement in decrypters.values():
        assert statement["Action"] == "kms:Decrypt" and statement["Resource"] == TEAM_KEY
        assert "Condition" not in statement


def test_an_api_memory_lambda_cannot_have_is_refused_at_synth() -> None:
    import aws_cdk as cdk
    import pytest

    from infra.stack import MediaJet

    stack = cdk.Stack(cdk.App(), "TeamMedia")
    with pytest.raises(ValueError, match="api_memory_mb must be between 128 and 10240"):
        MediaJet(stack, "Media", api_memory_mb=64, placeholder_layers=True)


def test_without_input_keys_no_role_may_use_kms(template: dict[str, Any]) -> None:
    # but the stack's own key of connection secrets (tests/infra/test_connections_aws.py)
    for policy in resources(template, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "kms:" in json.dumps(statement["Action"]):
                assert "ConnectionsKey" in json.dumps(statement["Resource"]), statement


def test_the_reservation_can_be_turned_off_from_the_command_line() -> None:
    from infra.stack import concurrency_option

    assert [concurrency_option(v) for v in ("none", "None", "off", "", None)] == [None] * 5
    assert (concurrency_option("50"), concurrency_option(50)) == (50, 50)


def test_the_stack_deploys_to_the_cdk_default_environment(monkeypatch, tmp_path: Path) -> None:
    """`cdk deploy` sets CDK_DEFAULT_ACCOUNT/REGION from the credentials and AWS_REGION or the profile
    (README "Bootstrap"); the stack uses them and pins no region of its own."""
    from aws_cdk import Stack, Token

    from infra.stack import build_app

    monkeypatch.setenv("CDK_DEFAULT_REGION", "ap-south-1")
    monkeypatch.setenv("CDK_DEFAULT_ACCOUNT", "111122223333")
    app = build_app(context={"mediajet:placeholderLayers": "true"}, outdir=str(tmp_path / "a"))
    (stack,) = [c for c in app.node.children if isinstance(c, Stack)]
    assert (stack.region, stack.account) == ("ap-south-1", "111122223333")

    monkeypatch.delenv("CDK_DEFAULT_REGION")
    monkeypatch.delenv("CDK_DEFAULT_ACCOUNT")
    app = build_app(context={"mediajet:placeholderLayers": "true"}, outdir=str(tmp_path / "b"))
    (stack,) = [c for c in app.node.children if isinstance(c, Stack)]
    assert Token.is_unresolved(stack.region), "no region configured: region-agnostic, not us-east-1"
