"""What the synthesized CloudFormation template promises an infra team."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import access, names
from infra.pipeline import DEFAULT_CHUNK_CONCURRENCY
from mediajet.pipeline.definition import (
    ALL_STEPS,
    ENCODE_CHUNK,
    FINALIZE,
    JOIN,
    LAMBDA_SERVICE_ERRORS,
    STEPS,
    THROTTLE_MAX_DELAY_S,
    THROTTLE_RETRY,
    THROTTLED,
    TRANSIENT_ERRORS,
)
from mediajet.store import dynamo_schema
from tests.infra.conftest import resources

Functions = dict[str, tuple[str, dict[str, Any]]]


def only(template: dict[str, Any], kind: str) -> dict[str, Any]:
    found = list(resources(template, kind).values())
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]["Properties"]


def definition(template: dict[str, Any]) -> dict[str, Any]:
    """The state machine's ASL, with the Lambda ARNs replaced by the functions' logical ids and other
    references (a bucket's name, the partition) by what they refer to."""
    parts = only(template, "AWS::StepFunctions::StateMachine")["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else p["Fn::GetAtt"][0] if "Fn::GetAtt" in p else p["Ref"]
                              for p in parts))


def task_states(asl: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every Task state by name, those inside a Map's item processor included."""
    found = {}
    for name, state in asl["States"].items():
        if state["Type"] == "Task":
            found[name] = state
        if state["Type"] == "Map":
            found |= task_states(state["ItemProcessor"])
    return found


def chunk_map(asl: dict[str, Any]) -> dict[str, Any]:
    (found,) = [s for s in asl["States"].values() if s["Type"] == "Map"]
    return found


def statements(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    found = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def role_id(function: dict[str, Any]) -> str:
    return function["Properties"]["Role"]["Fn::GetAtt"][0]


def actions_on(template: dict[str, Any], function: dict[str, Any], logical_id: str) -> set[str]:
    """The actions a function's role has on resources derived from `logical_id` (a bucket, table…)."""
    found: set[str] = set()
    for statement in statements(template, role_id(function)):
        targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if any(logical_id in json.dumps(t) for t in targets):
            found |= set([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    return found


def logical_id(template: dict[str, Any], kind: str, contains: str) -> str:
    return next(lid for lid in resources(template, kind) if contains in lid)


# --- Lambda ----------------------------------------------------------------------------------------


def test_every_function_has_its_handler_folder_and_runs_python313_on_arm64(functions: Functions) -> None:
    assert set(functions) == set(names.ALL_FUNCTIONS)
    for name, (_, fn) in functions.items():
        props = fn["Properties"]
        assert (props["Runtime"], props["Architectures"], props["Handler"]) == ("python3.13", ["arm64"],
                                                                               "handler.handler"), name
        assert (names.function_dir(name) / "handler.py").is_file()


def test_the_encoders_are_sized_for_video_and_the_rest_are_small(functions: Functions) -> None:
    encoders = ("encode", ENCODE_CHUNK.name)  # the single pass, and one part of a chunked encode
    for name in encoders:
        props = functions[name][1]["Properties"]
        assert (props["MemorySize"], props["EphemeralStorage"]["Size"], props["Timeout"]) == (10240, 10240, 900)
    join = functions[JOIN.name][1]["Properties"]
    # join holds an hour of 1080p's parts and their joined result at once (~8.6 GB for the HLS ladder).
    assert (join["MemorySize"], join["EphemeralStorage"]["Size"], join["Timeout"]) == (1024, 10240, 900)
    for name, (_, fn) in functions.items():
        if name not in (*encoders, JOIN.name):
            props = fn["Properties"]
            assert props["MemorySize"] <= 1024 and props["Timeout"] < 900, name
            # probe/import/export stage the largest accepted input (4 GiB) through /tmp.
            expected = 5120 if name in ("probe", "import", "export") else 512
            assert props["EphemeralStorage"]["Size"] == expected, name
    assert functions["api"][1]["Properties"]["Timeout"] < 30  # API Gateway's integration limit


def test_functions_log_json_to_their_own_group_with_retention_and_trace(template: dict[str, Any],
                                                                        functions: Functions) -> None:
    log_groups = resources(template, "AWS::Logs::LogGroup")
    seen = set()
    for name, (_, fn) in functions.items():
        config = fn["Properties"]["LoggingConfig"]
        assert config["LogFormat"] == "JSON" and config["ApplicationLogLevel"] == "INFO", name
        group = config["LogGroup"]["Ref"]
        assert log_groups[group]["Properties"]["RetentionInDays"] == 30, name
        assert fn["Properties"]["TracingConfig"] == {"Mode": "Active"}, name
        seen.add(group)
    assert len(seen) == len(functions), "one log group per function"
    assert all("RetentionInDays" in g["Properties"] for g in log_groups.values()), "no log kept forever"


def test_environment_names_the_resources_and_the_binaries(template: dict[str, Any], functions: Functions) -> None:
    table = logical_id(template, "AWS::DynamoDB::Table", "Jobs")
    for name, (_, fn) in functions.items():
        env = fn["Properties"]["Environment"]["Variables"]
        assert env[names.ENV_TABLE] == {"Ref": table}
        assert {names.ENV_WORK_BUCKET, names.ENV_OUTPUT_BUCKET, names.ENV_INBOX_BUCKET} <= set(env)
        assert env[names.ENV_PYDANTIC_DISABLE_PLUGINS] == "__all__", "no entry-point scan at each cold start"
        layers = fn["Properties"]["Layers"]
        if name in ("probe", "encode", ENCODE_CHUNK.name, JOIN.name):
            assert (env[names.ENV_FFMPEG], env[names.ENV_FFPROBE]) == ("/opt/bin/ffmpeg", "/opt/bin/ffprobe")
            assert len(layers) == 2, "ffmpeg + mediajet layers"
        else:
            assert names.ENV_FFMPEG not in env and len(layers) == 1, name
    for name in names.STEP_FUNCTIONS:  # admission: what one encode may take, at the encoders' speed
        env = functions[name][1]["Properties"]["Environment"]["Variables"]
        assert (env[names.ENV_STEP_TIMEOUT], env[names.ENV_ENCODE_SPEED]) == ("900", "2.89"), name
        assert env[names.ENV_CHUNK_PARALLELISM] == "100", "chunks sized so that a long input takes one wave of the Map"
    machine = logical_id(template, "AWS::StepFunctions::StateMachine", "StateMachine")
    for name in ("api", "on_upload"):
        assert functions[name][1]["Properties"]["Environment"]["Variables"][names.ENV_STATE_MACHINE_ARN] == {
            "Ref": machine}
    assert functions["api"][1]["Properties"]["Environment"]["Variables"][names.ENV_ENCODE_FUNCTION] == {
        "Ref": functions["encode"][0]}


def test_layers_are_for_python313_on_arm64(template: dict[str, Any]) -> None:
    layers = resources(template, "AWS::Lambda::LayerVersion")
    assert len(layers) == 2
    for layer in layers.values():
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


# --- IAM -------------------------------------------------------------------------------------------


def test_each_function_has_its_own_role_without_managed_policies(template: dict[str, Any],
                                                                 functions: Functions) -> None:
    roles = resources(template, "AWS::IAM::Role")
    ids = {role_id(fn) for _, fn in functions.values()}
    assert len(ids) == len(functions)
    for rid in ids:
        assert "ManagedPolicyArns" not in roles[rid]["Properties"]


def test_no_action_wildcards_and_resource_star_only_for_xray(template: dict[str, Any], functions: Functions) -> None:
    for name, (_, fn) in functions.items():
        for statement in statements(template, role_id(fn)):
            acts = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
            assert not any("*" in a for a in acts), (name, acts)
            if statement["Resource"] == "*":
                # dynamodb:ListStreams (no resource-level permissions): the stream's event source mapping
                stream = {"dynamodb:ListStreams"} if name == names.WEBHOOKS_FUNCTION else set()
                assert set(acts) - stream == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, (name, acts)


BUCKET_ACCESS = {  # function → bucket → actions on its objects (ListBucket is on the bucket itself)
    # presigned links of results; DELETE /files removes a file's bytes; POST /signatures presigns inbox uploads
    "api": {"Output": {"s3:GetObject", "s3:DeleteObject", "s3:ListBucket"},
            "Inbox": {"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"}},
    "probe": {"Work": {"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListBucket"},
              "Inbox": {"s3:GetObject", "s3:ListBucket"}},
    "import": {"Work": {"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListBucket"},
               "Inbox": {"s3:GetObject", "s3:ListBucket"}},
    "encode": {"Work": {"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListBucket"},
               "Inbox": {"s3:GetObject", "s3:ListBucket"},
               "Output": {"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject",
                          "s3:ListBucket"}},
    "export": {"Work": {"s3:GetObject", "s3:ListBucket"}, "Output": {"s3:PutObject", "s3:AbortMultipartUpload"}},
    # an HLS part writes its segments into the output bucket (the result's place) when the job names no destination
    ENCODE_CHUNK.name: {"Work": {"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListBucket"},
                        "Output": {"s3:PutObject", "s3:AbortMultipartUpload"}},
    # join writes an MP4 result into the output bucket itself (parts copied inside S3) and reads its header back
    JOIN.name: {"Work": {"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject",
                         "s3:ListBucket"},
                "Output": {"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListBucket"}},
    # finalize reads the error a failed part left (mediajet.aws.handlers) and removes the job's files.
    # ... and the segments a failed HLS job's parts had written into the output bucket.
    "finalize": {"Work": {"s3:GetObject", "s3:DeleteObject", "s3:ListBucket"},
                 "Output": {"s3:DeleteObject", "s3:ListBucket"}},
    "on_upload": {"Inbox": {"s3:GetObject", "s3:ListBucket"}},
    names.WEBHOOKS_FUNCTION: {"Output": {"s3:GetObject"}},  # presigned links in payloads, like the API's
}


@pytest.mark.parametrize("name", sorted(BUCKET_ACCESS))
def test_bucket_permissions_per_function(template: dict[str, Any], functions: Functions, name: str) -> None:
    fn = functions[name][1]
    for bucket in ("Work", "Output", "Inbox", "AccessLogs"):
        bucket_id = logical_id(template, "AWS::S3::Bucket", f"Storage{bucket}")
        assert actions_on(template, fn, bucket_id) == BUCKET_ACCESS[name].get(bucket, set()), (name, bucket)


def test_every_function_reads_and_writes_the_table_and_its_index(template: dict[str, Any],
                                                                 functions: Functions) -> None:
    table = logical_id(template, "AWS::DynamoDB::Table", "Jobs")
    stream_reads = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}
    for name, (_, fn) in functions.items():
        webhooks = name == names.WEBHOOKS_FUNCTION  # reads the stream; queries the outbox index, not the project's
        assert actions_on(template, fn, table) == set(access.TABLE_ACTIONS) | (stream_reads if webhooks else set()), name
        wanted = dynamo_schema.OUTBOX_INDEX if webhooks else dynamo_schema.PROJECT_INDEX
        for index in (dynamo_schema.PROJECT_INDEX, dynamo_schema.OUTBOX_INDEX):
            granted = [s for s in statements(template, role_id(fn)) if f"/index/{index}\"" in json.dumps(s)]
            assert bool(granted) == (index == wanted), f"{name}: Query on {index}"


def test_only_the_api_and_upload_trigger_start_jobs_and_only_the_api_stops_them(template: dict[str, Any],
                                                                                functions: Functions) -> None:
    machine = logical_id(template, "AWS::StepFunctions::StateMachine", "StateMachine")
    for name, (_, fn) in functions.items():
        acts = actions_on(template, fn, machine)
        expected = {"api": {"states:StartExecution", "states:StopExecution"},
                    "on_upload": {"states:StartExecution"}}.get(name, set())
        assert acts == expected, name
    stop = [s for s in statements(template, role_id(functions["api"][1])) if s["Action"] == "states:StopExecution"]
    assert ":execution:" in json.dumps(stop[0]["Resource"]), "StopExecution on this machine's executions only"


def test_only_the_api_the_upload_trigger_and_encode_itself_start_tasks(template: dict[str, Any],
                                                                       functions: Functions) -> None:
    """Standalone tasks run in the encode function: started by the API (POST /tasks, /files), the upload
    trigger (a media library upload's ingest) and the encode function itself (an automation's next tasks)."""
    encode_id = functions["encode"][0]
    for name, (_, fn) in functions.items():
        acts = actions_on(template, fn, encode_id)
        assert acts == ({"lambda:InvokeFunction"} if name in ("api", "on_upload", "encode") else set()), name


# --- Step Functions --------------------------------------------------------------------------------


def test_state_machine_is_standard_logged_and_traced(template: dict[str, Any]) -> None:
    props = only(template, "AWS::StepFunctions::StateMachine")
    assert props["StateMachineType"] == "STANDARD"
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is True
    group = props["LoggingConfiguration"]["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]
    assert resources(template, "AWS::Logs::LogGroup")[group["Fn::GetAtt"][0]]["Properties"]["RetentionInDays"] == 30


def test_states_follow_the_pipeline_definition(template: dict[str, Any], functions: Functions) -> None:
    asl = definition(template)
    states = asl["States"]
    order, state = [asl["StartAt"]], asl["StartAt"]
    while state != FINALIZE.name:  # the single pass: each Task's Next, each Choice's Default
        state = states[state]["Next"] if states[state]["Type"] == "Task" else states[state]["Default"]
        order.append(state)
    choice = f"encode_{STEPS[2].fan_out.key}"
    assert order == [*(s.name for s in STEPS[:3]), choice, *(s.name for s in STEPS[3:]), FINALIZE.name]
    for name, task in task_states(asl).items():
        assert task["Resource"] == functions[name][0], f"{name} invokes functions/{name}"
    assert set(task_states(asl)) == {s.name for s in ALL_STEPS}

    # encode's result names parts → the Map over them, then join, then export; otherwise export.
    (when,) = states[choice]["Choices"]
    assert when == {"Variable": "$.chunks.key", "IsPresent": True, "Next": "encode_chunk_map"}
    parts = states[when["Next"]]
    assert parts["Type"] == "Map" and parts["Next"] == JOIN.name and states[JOIN.name]["Next"] == "export"
    assert parts["ItemProcessor"]["StartAt"] == ENCODE_CHUNK.name
    assert parts["ItemProcessor"]["States"][ENCODE_CHUNK.name]["End"] is True
    assert "Parameters" not in parts["ItemProcessor"]["States"][ENCODE_CHUNK.name], "the item is the payload"


def test_the_parts_run_in_a_distributed_map_reading_their_list_from_the_working_bucket(
        template: dict[str, Any], functions: Functions) -> None:
    parts = chunk_map(definition(template))
    assert parts["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    work = logical_id(template, "AWS::S3::Bucket", "StorageWork")
    assert parts["ItemReader"] == {"Resource": "arn:AWS::Partition:states:::s3:getObject",
                                   "ReaderConfig": {"InputType": "JSON"},
                                   "Parameters": {"Bucket": work, "Key.$": "$.chunks.key"}}
    assert parts["ResultPath"] is None, "the parts' results are discarded (the state stays under 256 KB)"
    assert not any(k.startswith("ToleratedFailure") for k in parts), "no failure tolerated (the default, 0)"
    assert parts["MaxConcurrency"] == DEFAULT_CHUNK_CONCURRENCY
    # Reserved for the part function, so a burst of parts cannot starve the API (and capped there).
    chunk = functions[ENCODE_CHUNK.name][1]["Properties"]
    assert chunk["ReservedConcurrentExecutions"] == parts["MaxConcurrency"]
    assert all("ReservedConcurrentExecutions" not in fn["Properties"]  # (webhooks: a small reservation of its own)
               for name, (_, fn) in functions.items() if name not in (ENCODE_CHUNK.name, names.WEBHOOKS_FUNCTION))


def test_the_state_machine_may_read_the_list_of_parts_and_run_the_maps_child_executions(
        template: dict[str, Any]) -> None:
    machine = logical_id(template, "AWS::StepFunctions::StateMachine", "StateMachine")
    role = only(template, "AWS::StepFunctions::StateMachine")["RoleArn"]["Fn::GetAtt"][0]
    granted = statements(template, role)
    work = logical_id(template, "AWS::S3::Bucket", "StorageWork")
    reads = [s for s in granted if s["Action"] == "s3:GetObject"]
    assert len(reads) == 1 and {"Ref": work} in reads[0]["Resource"]["Fn::Join"][1], "the ItemReader reads items.json"
    by_action = {a: s for s in granted for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert by_action["states:StartExecution"]["Resource"] == {"Ref": machine}, "child executions of itself"
    for action in ("states:DescribeExecution", "states:StopExecution", "states:RedriveExecution"):
        assert ":execution:" in json.dumps(by_action[action]["Resource"]), action
    assert not any("states:" in a and "*" in a for a in by_action)


def test_retries_only_transient_errors_with_the_policy_and_throttling_with_jitter(template: dict[str, Any]) -> None:
    tasks = task_states(definition(template))
    for step in ALL_STEPS:
        transient, throttled = tasks[step.name]["Retry"]
        assert transient["ErrorEquals"] == [*TRANSIENT_ERRORS, *LAMBDA_SERVICE_ERRORS]
        assert "States.ALL" not in transient["ErrorEquals"] and "StepFailed" not in transient["ErrorEquals"]
        assert (transient["IntervalSeconds"], transient["MaxAttempts"], transient["BackoffRate"]) == (
            step.retry.interval_s, step.retry.max_attempts, step.retry.backoff_rate)
        assert "JitterStrategy" not in transient
        assert throttled == {"ErrorEquals": list(THROTTLED), "IntervalSeconds": THROTTLE_RETRY.interval_s,
                             "MaxAttempts": THROTTLE_RETRY.max_attempts, "BackoffRate": THROTTLE_RETRY.backoff_rate,
                             "MaxDelaySeconds": THROTTLE_MAX_DELAY_S, "JitterStrategy": "FULL"}, step.name
    assert "Retry" not in chunk_map(definition(template)), "a failed part is retried alone, inside the Map"


def test_every_step_catches_everything_into_finalize_with_the_error(template: dict[str, Any]) -> None:
    states = definition(template)["States"]
    catch_all = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": FINALIZE.name}]
    for step in (*STEPS, JOIN):
        assert states[step.name]["Catch"] == catch_all, step.name
    assert chunk_map(definition(template))["Catch"] == catch_all, "a failed part fails the Map: the job fails"
    assert "Catch" not in chunk_map(definition(template))["ItemProcessor"]["States"][ENCODE_CHUNK.name]
    assert "Catch" not in states[FINALIZE.name], "finalize retries but never loops into itself"
    outcome = states[states[FINALIZE.name]["Next"]]
    assert outcome["Type"] == "Choice" and states[outcome["Choices"][0]["Next"]]["Type"] == "Fail"


# --- DynamoDB, S3, API -----------------------------------------------------------------------------


def test_table_matches_the_schema_on_demand_pitr_encrypted_ttl(template: dict[str, Any]) -> None:
    props = only(template, "AWS::DynamoDB::Table")
    spec = dynamo_schema.create_table_kwargs("x")
    assert props["KeySchema"] == spec["KeySchema"]
    assert sorted(props["AttributeDefinitions"], key=str) == sorted(spec["AttributeDefinitions"], key=str)
    assert props["GlobalSecondaryIndexes"] == spec["GlobalSecondaryIndexes"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["TimeToLiveSpecification"] == {"AttributeName": dynamo_schema.TTL_ATTRIBUTE, "Enabled": True}
    assert props["StreamSpecification"] == {"StreamViewType": dynamo_schema.STREAM_VIEW}
    table = next(iter(resources(template, "AWS::DynamoDB::Table").values()))
    assert table["DeletionPolicy"] == "Retain"


def test_buckets_are_private_encrypted_tls_only_and_logged(template: dict[str, Any]) -> None:
    buckets = resources(template, "AWS::S3::Bucket")
    assert len(buckets) == 4
    policies = [p["Properties"] for p in resources(template, "AWS::S3::BucketPolicy").values()]
    log_bucket = logical_id(template, "AWS::S3::Bucket", "AccessLogs")
    for lid, bucket in buckets.items():
        props = bucket["Properties"]
        assert all(props["PublicAccessBlockConfiguration"].values()), lid
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        assert bucket["DeletionPolicy"] == "Retain", lid
        (policy,) = [p for p in policies if p["Bucket"] == {"Ref": lid}]
        assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                   for s in policy["PolicyDocument"]["Statement"]), f"{lid} accepts plain HTTP"
        if lid != log_bucket:
            assert props["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": log_bucket}, lid


def test_working_bucket_expires_temporary_files(template: dict[str, Any]) -> None:
    work = resources(template, "AWS::S3::Bucket")[logical_id(template, "AWS::S3::Bucket", "StorageWork")]
    rules = work["Properties"]["LifecycleConfiguration"]["Rules"]
    assert {"ExpirationInDays": names.WORK_EXPIRY_DAYS, "Id": "expire-temporary-files", "Status": "Enabled"} in rules
    output = resources(template, "AWS::S3::Bucket")[logical_id(template, "AWS::S3::Bucket", "StorageOutput")]
    assert not any("ExpirationInDays" in r for r in output["Properties"]["LifecycleConfiguration"]["Rules"]), \
        "results are never expired"


def test_inbox_object_created_events_invoke_on_upload(template: dict[str, Any], functions: Functions) -> None:
    (notification,) = resources(template, "Custom::S3BucketNotifications").values()
    props = notification["Properties"]
    assert props["BucketName"] == {"Ref": logical_id(template, "AWS::S3::Bucket", "StorageInbox")}
    (config,) = props["NotificationConfiguration"]["LambdaFunctionConfigurations"]
    assert config["Events"] == ["s3:ObjectCreated:*"]
    assert config["LambdaFunctionArn"] == {"Fn::GetAtt": [functions["on_upload"][0], "Arn"]}


def test_http_api_routes_everything_to_the_api_function_with_logs_and_throttling(
        template: dict[str, Any], functions: Functions) -> None:
    route = only(template, "AWS::ApiGatewayV2::Route")
    assert route["RouteKey"] == "$default"
    integration = only(template, "AWS::ApiGatewayV2::Integration")
    assert integration["IntegrationUri"] == {"Fn::GetAtt": [functions["api"][0], "Arn"]}
    assert integration["PayloadFormatVersion"] == "2.0"
    stage = only(template, "AWS::ApiGatewayV2::Stage")
    assert stage["StageName"] == "$default" and stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 200, "ThrottlingRateLimit": 100}
    log_format = json.loads(stage["AccessLogSettings"]["Format"])
    assert log_format["requestId"] == "$context.requestId" and "authorization" not in json.dumps(log_format).lower()


def test_outputs_name_the_url_buckets_table_and_state_machine(template: dict[str, Any]) -> None:
    assert set(template["Outputs"]) == {names.OUTPUT_API_URL, names.OUTPUT_INBOX_BUCKET, names.OUTPUT_OUTPUT_BUCKET,
                                        names.OUTPUT_WORK_BUCKET, names.OUTPUT_LOG_BUCKET, names.OUTPUT_TABLE,
                                        names.OUTPUT_STATE_MACHINE, names.OUTPUT_WEBHOOK_RETRY_QUEUE,
                                        names.OUTPUT_WEBHOOK_DEAD_LETTERS}
    assert "execute-api" in json.dumps(template["Outputs"][names.OUTPUT_API_URL]["Value"])
