"""AWS under moto for the Lambda-side code: DynamoDB (from dynamo_schema), the three buckets, and the
*synthesized* state machine run by moto's Step Functions interpreter, with each Lambda invocation
routed to the in-process handler of functions/<name>/handler.py."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from infra import names
from mediajet.store import dynamo_schema

REGION = "eu-west-1"
ACCOUNT = "123456789012"
TABLE, WORK, OUTPUT, INBOX = "mediajet-jobs", "mediajet-work", "mediajet-output", "mediajet-inbox"
DOWNLOAD_SECRET = "test-download-link-secret"  # the HMAC key of /downloads/ links (a secret in Secrets Manager)


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def load_handler(name: str) -> ModuleType:
    path = names.function_dir(name) / "handler.py"
    module_name = f"functions_{name}_handler"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[module_name] = module
    return sys.modules[module_name]


class LambdaContext:
    """The parts of the Lambda context object the handlers use."""

    def __init__(self, name: str, timeout_s: int = 900) -> None:
        self.function_name = name
        self.aws_request_id = "req-" + name
        self.invoked_function_arn = function_arn(name)
        self.memory_limit_in_mb = 1024
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def invoke(name: str, event: dict[str, Any]) -> dict[str, Any]:
    """What Lambda's Invoke API answers for an in-process run: the result, or FunctionError
    "Unhandled" with {errorMessage, errorType, stackTrace} as the Python runtime reports it."""
    try:
        result = load_handler(name).handler(event, LambdaContext(name))
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(result).encode())}
    except Exception as exc:  # noqa: BLE001 - reported like the Lambda runtime does
        return function_error(exc)


def function_error(exc: BaseException) -> dict[str, Any]:
    error = {"errorMessage": str(exc), "errorType": type(exc).__name__,
             "stackTrace": traceback.format_tb(exc.__traceback__)}
    return {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": io.BytesIO(json.dumps(error).encode())}


@dataclass
class Aws:
    s3: Any
    dynamodb: Any
    sfn: Any
    state_machine_arn: str
    invocations: list[str] = field(default_factory=list)  # function names, in the order they were invoked
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (function, event) per invocation
    retry_waits: list[float] = field(default_factory=list)
    # Runs before each Lambda invocation, inside the function: what it raises is the function's error
    # (FunctionError), except a botocore ClientError, which the Invoke API itself answers (throttle()).
    before_invoke: Callable[[str, dict[str, Any]], None] | None = None

    def wait(self, execution_arn: str, limit_s: float = 180) -> dict[str, Any]:
        """Poll until the execution ends (the limit only guards against a hang)."""
        deadline = time.monotonic() + limit_s
        while True:
            described = self.sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING" or time.monotonic() > deadline:
                return described
            time.sleep(0.05)

    def entered_states(self, execution_arn: str) -> list[str]:
        events = self.sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
        return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]

    def execution_arn(self, job_id: str) -> str:
        return self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{job_id}"


BUCKETS = {"StorageWork": WORK, "StorageOutput": OUTPUT, "StorageInbox": INBOX}  # logical id part → name


def resolved_definition(template: dict[str, Any], function_ids: dict[str, str]) -> str:
    """The template's DefinitionString with each function's GetAtt Arn replaced by a moto-style ARN and
    each bucket's Ref (the Map's ItemReader) by the harness's bucket name."""
    machine = next(r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine")
    by_id = {lid: name for name, lid in function_ids.items()}
    refs = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}
    for lid, resource in template["Resources"].items():
        for part, name in BUCKETS.items():
            if resource["Type"] == "AWS::S3::Bucket" and lid.startswith(f"MediaJet{part}"):
                refs[lid] = name

    def resolve(part: Any) -> str:
        if isinstance(part, str):
            return part
        if "Ref" in part:
            return refs[part["Ref"]]
        return function_arn(by_id[part["Fn::GetAtt"][0]])

    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return "".join(resolve(p) for p in parts)


@contextmanager
def moto_aws(monkeypatch: pytest.MonkeyPatch, scratch: Path, definition: str) -> Iterator[Aws]:
    import boto3
    from moto import mock_aws
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    from mediajet.aws import handlers

    for key, value in {"AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}.items():
        monkeypatch.setenv(key, value)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        s3 = boto3.client("s3", region_name=REGION)
        for bucket in (WORK, OUTPUT, INBOX):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(**dynamo_schema.create_table_kwargs(TABLE))
        sfn = boto3.client("stepfunctions", region_name=REGION)
        machine = sfn.create_state_machine(name="mediajet-pipeline", definition=definition, type="STANDARD",
                                           roleArn=f"arn:aws:iam::{ACCOUNT}:role/mediajet-pipeline")
        aws = Aws(s3=s3, dynamodb=dynamodb, sfn=sfn, state_machine_arn=machine["stateMachineArn"])
        # what the construct gives every function for connections (infra/stack.py)
        connections_key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
        # …and the API and webhook sender for signed /downloads/ links (infra/api.py)
        download_secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name="mediajet-download-links", SecretString=DOWNLOAD_SECRET)["ARN"]
        monkeypatch.setenv(names.ENV_DOWNLOAD_SECRET, download_secret)
        for key, value in {names.ENV_CONNECTIONS_KMS_KEY: connections_key, names.ENV_S3_SERVER_CREDENTIALS: "true",
                           names.ENV_S3_BUCKETS: f"*={INBOX}:read"}.items():
            monkeypatch.setenv(key, value)
        from mediajet.settings import get_settings

        get_settings.cache_clear()  # read again, with these
        for key, value in {names.ENV_TABLE: TABLE, names.ENV_WORK_BUCKET: WORK, names.ENV_OUTPUT_BUCKET: OUTPUT,
                           names.ENV_INBOX_BUCKET: INBOX, names.ENV_STATE_MACHINE_ARN: aws.state_machine_arn,
                           names.ENV_ENCODE_FUNCTION: "encode", names.ENV_SCRATCH_DIR: str(scratch),
                           names.ENV_DATA_DIR: str(scratch)}.items():
            monkeypatch.setenv(key, value)

        class LambdaClient:
            def invoke(self, FunctionName: str, Payload: bytes = b"{}", **_: Any) -> dict[str, Any]:
                from botocore.exceptions import ClientError

                name = FunctionName.rsplit(":", 1)[-1]
                event = json.loads(Payload or b"{}")
                aws.invocations.append(name)
                aws.events.append((name, event))
                try:
                    if aws.before_invoke is not None:
                        aws.before_invoke(name, event)
                except ClientError:
                    raise  # the Invoke API refused (e.g. throttle()): the function did not run
                except Exception as exc:  # noqa: BLE001 - as if the function had raised it
                    return function_error(exc)
                return invoke(name, event)

        monkeypatch.setattr(lambda_eval_utils, "boto_client_for", lambda **_: LambdaClient())
        fail_map_runs_beyond_tolerance(monkeypatch)
        name_lambda_service_errors(monkeypatch)
        # Retry waits are recorded instead of slept: the policy is checked, the test stays fast.
        monkeypatch.setattr(retrier_decl, "time", SimpleNamespace(sleep=aws.retry_waits.append))
        handlers.reset()
        try:
            yield aws
        finally:
            handlers.reset()
            get_settings.cache_clear()


def fail_map_runs_beyond_tolerance(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto 5.2.5 runs a Distributed Map natively (S3 ItemReader, child executions on worker threads,
    Retry per item) but lets the Map Run succeed whatever its children did: it counts a failed item
    and moves on, so the state after the Map would run. Step Functions fails the Map Run once more
    items fail than the Map tolerates (ToleratedFailureCount/Percentage, 0 by default), with
    States.ExceedToleratedFailureThreshold; this does the same once the items have run. The only
    change to moto's interpreter; the definition under test is the synthesized one, untouched."""
    from moto.stepfunctions.parser.api import HistoryEventType, MapRunFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
        distributed_iteration_component as distributed,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    real_map_run = distributed.DistributedIterationComponent._map_run

    def map_run(self: Any, env: Any, eval_input: Any) -> None:
        real_map_run(self, env, eval_input)
        items = eval_input.map_run_record.item_counter
        failed, total = items.failed.get() + items.timed_out.get(), max(1, items.total.get())
        tolerated = eval_input.tolerated_failure_count, eval_input.tolerated_failure_percentage
        if failed > tolerated[0] and failed * 100 / total > tolerated[1]:
            name = StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold)
            details = MapRunFailedEventDetails(error=name.error_name,
                                               cause="The specified tolerated failure threshold was exceeded")
            raise FailureEventException(FailureEvent(env=env, error_name=name, event_type=HistoryEventType.TaskFailed,
                                                     event_details=EventDetails(mapRunFailedEventDetails=details)))

    monkeypatch.setattr(distributed.DistributedIterationComponent, "_map_run", map_run)


def name_lambda_service_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """An error the Invoke API answers (a botocore ClientError: throttling, service errors) reaches the
    state machine as `Lambda.<code>`, e.g. Lambda.TooManyRequestsException, which the Retry rules
    match. moto 5.2.5 names it so for the lambda:invoke integration (StateTaskServiceLambda
    ._error_cause_from_client_error) but calls it "Exception" for a Task whose Resource is the function
    ARN, the form the CDK writes for LambdaInvoke(payload_response_only=True); this names it as its
    integration does. Function errors (FunctionError payloads) are left to moto."""
    from botocore.exceptions import ClientError
    from moto.stepfunctions.parser.api import HistoryEventType, LambdaFunctionFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_lambda
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_lambda import (
        StateTaskServiceLambda,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    real_from_error = state_task_lambda.StateTaskLambda._from_error

    def from_error(self: Any, env: Any, ex: Exception) -> Any:
        if not isinstance(ex, ClientError):
            return real_from_error(self, env, ex)
        error, cause = StateTaskServiceLambda._error_cause_from_client_error(ex)
        details = LambdaFunctionFailedEventDetails(error=error, cause=cause)
        return FailureEvent(env=env, error_name=CustomErrorName(error), event_type=HistoryEventType.LambdaFunctionFailed,
                            event_details=EventDetails(lambdaFunctionFailedEventDetails=details))

    monkeypatch.setattr(state_task_lambda.StateTaskLambda, "_from_error", from_error)


def throttle(operation: str = "Invoke") -> Exception:
    """Lambda's answer to an Invoke when no concurrency is left (HTTP 429). Raised by the harness's Lambda
    client (from Aws.before_invoke), it reaches the state machine as Lambda.TooManyRequestsException
    (see name_lambda_service_errors)."""
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "Rate Exceeded."},
                        "ResponseMetadata": {"HTTPStatusCode": 429, "RequestId": "req-throttled"},
                        "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"}, operation)


def http_event(method: str, path: str, body: Any = None, *, key: str | None = None,
               query: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event, as the `$default` route delivers it."""
    from urllib.parse import urlencode

    headers = {"host": "abc123.execute-api.eu-west-1.amazonaws.com", "user-agent": "curl/8"}
    if key is not None:
        headers["authorization"] = f"Bearer {key}"
    event: dict[str, Any] = {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": urlencode(query or {}),
        "headers": headers, "isBase64Encoded": False,
        "requestContext": {"accountId": ACCOUNT, "apiId": "abc123", "domainName": headers["host"],
                           "domainPrefix": "abc123", "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                                                              "sourceIp": "203.0.113.7", "userAgent": "curl/8"},
                           "requestId": "req-1", "routeKey": "$default", "stage": "$default",
                           "time": "24/Nov/2026:12:00:00 +0000", "timeEpoch": 1795521600000},
    }
    if query:
        event["queryStringParameters"] = query
    if body is not None:
        headers["content-type"] = "application/json"
        event["body"] = json.dumps(body)
    return event
