"""IAM for DynamoDB, evaluated here: the synthesized policies of each function's role, the DynamoDB requests the
code makes (recorded under moto, which does not enforce IAM), and a small evaluator for the subset of the policy
language infra/access.py writes: Allow statements, actions and resources (exact or `*`-wildcards), and the
`ForAllValues:StringLike` condition on `dynamodb:LeadingKeys`.

What DynamoDB authorises per request:
- GetItem / PutItem / UpdateItem / DeleteItem: the table; the leading key is the item's partition key.
- Query: the table, or the index (`<table arn>/index/<name>`) when IndexName is given; the leading key is the
  partition key value of the key condition (the index's partition key on an index).
- TransactWriteItems: each item as its own action (a Put as PutItem, ...), each with its partition key.
- Scan: the table with no leading key at all, which a `ForAllValues` condition lets through (an empty set
  satisfies "for all"): scans must not be granted.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mediajet.store import dynamo_schema

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"
INDEX_PARTITION_KEYS = {dynamo_schema.PROJECT_INDEX: dynamo_schema.PROJECT_INDEX_PARTITION_KEY,
                        dynamo_schema.OUTBOX_INDEX: dynamo_schema.OUTBOX_INDEX_PARTITION_KEY}
TRANSACT = {"Put": "dynamodb:PutItem", "Update": "dynamodb:UpdateItem", "Delete": "dynamodb:DeleteItem",
            "ConditionCheck": "dynamodb:ConditionCheckItem"}
SINGLE = {"get_item": ("dynamodb:GetItem", "Key"), "put_item": ("dynamodb:PutItem", "Item"),
          "update_item": ("dynamodb:UpdateItem", "Key"), "delete_item": ("dynamodb:DeleteItem", "Key")}


@dataclass(frozen=True)
class Request:
    """One authorisation DynamoDB makes: `action` on `resource` with these leading keys."""

    action: str
    resource: str
    leading_keys: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.action} {self.resource.rsplit(':', 1)[-1]} {list(self.leading_keys)}"


# --- the synthesized template ------------------------------------------------------------------------------------


def resolve(value: Any, refs: Mapping[str, str], arns: Mapping[str, str]) -> Any:
    """The intrinsics the grants use (Ref, Fn::GetAtt …Arn, Fn::Join), with names for the resources involved;
    anything else becomes a string no request matches."""
    if isinstance(value, list):
        return [resolve(v, refs, arns) for v in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        return refs.get(value["Ref"], f"<unresolved {value['Ref']}>")
    if "Fn::GetAtt" in value:
        lid, attribute = value["Fn::GetAtt"]
        return arns.get(lid, f"<unresolved {lid}.{attribute}>") if attribute == "Arn" else f"<{lid}.{attribute}>"
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(str(resolve(p, refs, arns)) for p in parts)
    return {k: resolve(v, refs, arns) for k, v in value.items()}


def role_statements(template: Mapping[str, Any], role_lid: str, *, table_arn: str) -> list[dict[str, Any]]:
    """The statements attached to one role (its policies, inline or not), with the table's ARN resolved."""
    resources = template["Resources"]
    table_lid = next(lid for lid, r in resources.items() if r["Type"] == "AWS::DynamoDB::Table")
    refs = {"AWS::Partition": "aws", "AWS::Region": table_arn.split(":")[3], "AWS::AccountId": table_arn.split(":")[4],
            "AWS::URLSuffix": "amazonaws.com", table_lid: table_arn.rsplit("/", 1)[-1]}
    arns = {table_lid: table_arn}
    statements: list[dict[str, Any]] = []
    for resource in resources.values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_lid} in props.get("Roles", []):
            statements += props["PolicyDocument"]["Statement"]
    for policy in resources[role_lid]["Properties"].get("Policies", []):
        statements += policy["PolicyDocument"]["Statement"]
    return [resolve(s, refs, arns) for s in statements]


def function_statements(template: Mapping[str, Any], function_lid: str, *, table_arn: str) -> list[dict[str, Any]]:
    role = template["Resources"][function_lid]["Properties"]["Role"]["Fn::GetAtt"][0]
    return role_statements(template, role, table_arn=table_arn)


# --- the evaluator -------------------------------------------------------------------------------------------------


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _like(pattern: str, value: str) -> bool:
    """StringLike / ARN matching: `*` any run of characters, `?` one character; nothing else is special."""
    return re.fullmatch("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern),
                        value, re.DOTALL) is not None


SUPPORTED_CONDITIONS = {("ForAllValues:StringLike", "dynamodb:LeadingKeys")}


def _condition_holds(condition: Mapping[str, Any], request: Request) -> bool:
    for operator, tests in condition.items():
        for key, patterns in tests.items():
            if (operator, key) not in SUPPORTED_CONDITIONS:
                raise AssertionError(f"condition {operator} {key}: this evaluator does not know it")
            # ForAllValues: every value of the request's key matches one of the patterns (none: it holds).
            if not all(any(_like(p, v) for p in _listed(patterns)) for v in request.leading_keys):
                return False
    return True


def allows(statements: list[dict[str, Any]], request: Request) -> bool:
    """Whether the statements allow the request (an explicit Deny wins; nothing matching: denied)."""
    allowed = False
    for statement in statements:
        if "NotAction" in statement or "NotResource" in statement:
            raise AssertionError(f"NotAction/NotResource: this evaluator does not know them: {statement}")
        if not any(_like(a, request.action) for a in _listed(statement["Action"])):
            continue
        if not any(_like(r, request.resource) for r in _listed(statement["Resource"])):
            continue
        if not _condition_holds(statement.get("Condition", {}), request):
            continue
        if statement["Effect"] == "Deny":
            return False
        allowed = True
    return allowed


# --- requests from DynamoDB API calls ------------------------------------------------------------------------------


def _partition_value(params: Mapping[str, Any], attribute: str) -> str | None:
    """The value `attribute` equals in a Query's KeyConditionExpression."""
    names = params.get("ExpressionAttributeNames", {})
    values = params.get("ExpressionAttributeValues", {})
    for name, placeholder in re.findall(r"([#\w]+)\s*=\s*(:\w+)", params.get("KeyConditionExpression", "")):
        if names.get(name, name) == attribute:
            return next(iter(values[placeholder].values()))
    return None


def requests_of(operation: str, params: Mapping[str, Any], table_arn_of: Any) -> list[Request]:
    """What DynamoDB authorises for one API call (botocore's operation name, e.g. GetItem, and its params)."""
    pk = dynamo_schema.PARTITION_KEY
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()
    if snake in SINGLE:
        action, field_name = SINGLE[snake]
        return [Request(action, table_arn_of(params["TableName"]), (params[field_name][pk]["S"],))]
    if snake == "query":
        index = params.get("IndexName")
        resource = table_arn_of(params["TableName"]) + (f"/index/{index}" if index else "")
        value = _partition_value(params, INDEX_PARTITION_KEYS[index] if index else pk)
        assert value is not None, f"a Query without its partition key: {params}"
        return [Request("dynamodb:Query", resource, (value,))]
    if snake == "transact_write_items":
        found = []
        for item in params["TransactItems"]:
            ((kind, body),) = item.items()
            key = body["Item"] if kind == "Put" else body["Key"]
            found.append(Request(TRANSACT[kind], table_arn_of(body["TableName"]), (key[pk]["S"],)))
        return found
    if snake == "scan":
        return [Request("dynamodb:Scan", table_arn_of(params["TableName"]), ())]
    return [Request(f"dynamodb:{operation}", table_arn_of(params.get("TableName", "*")), ())]


# --- recording under moto ------------------------------------------------------------------------------------------


def calling_function(frame: Any) -> str | None:
    """The function (functions/<name>/handler.py) whose handler is on this stack, if any."""
    while frame is not None:
        path = Path(frame.f_code.co_filename)
        if path.name == "handler.py" and path.parent.parent == FUNCTIONS_DIR:
            return path.parent.name
        frame = frame.f_back
    return None


@dataclass
class Recorder:
    """The DynamoDB calls made inside a Lambda handler, per function: (function, operation, params).
    Calls made by the test itself (setup, checks) are not the functions' and are not kept; calls made on a
    thread the handler started have no handler on their stack, and are kept as `<thread name>` so that the
    check reports them instead of skipping them."""

    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, operation: str, params: Mapping[str, Any]) -> None:
        function = calling_function(sys._getframe(2))
        if function is None:
            thread = threading.current_thread()
            if thread is threading.main_thread() or not thread.name.startswith("mediajet"):
                return
            function = f"<{thread.name}>"
        with self.lock:
            self.calls.append((function, operation, dict(params)))

    def requests(self, table_arn_of: Any) -> Iterator[tuple[str, Request]]:
        for function, operation, params in list(self.calls):
            for request in requests_of(operation, params, table_arn_of):
                yield function, request


@contextmanager
def recording(monkeypatch: Any) -> Iterator[Recorder]:
    """Every DynamoDB call made through botocore while this is open, attributed to the calling function."""
    from botocore.client import BaseClient

    recorder = Recorder()
    real = BaseClient._make_api_call

    def make_api_call(self: Any, operation_name: str, api_params: Mapping[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            recorder.record(operation_name, api_params)
        return real(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", make_api_call)
    yield recorder


def denied(template: Mapping[str, Any], functions: Mapping[str, str], recorder: Recorder, *,
           region: str, account: str) -> list[str]:
    """The recorded requests each function's role does not allow, as readable lines (empty: all allowed).
    `functions`: function name → the logical id of its AWS::Lambda::Function."""

    def table_arn_of(name: str) -> str:
        return f"arn:aws:dynamodb:{region}:{account}:table/{name}"

    found, cache = [], {}
    for function, request in recorder.requests(table_arn_of):
        if function not in functions:
            found.append(f"{function}: {request} (a call from a thread the handler started, or an unknown function)")
            continue
        table_arn = request.resource.split("/index/")[0]
        if (function, table_arn) not in cache:
            cache[function, table_arn] = function_statements(template, functions[function], table_arn=table_arn)
        if not allows(cache[function, table_arn], request):
            found.append(f"{function}: {request}")
    return sorted(set(found))


def key_pattern(key: str) -> str:
    """A leading key with its ids and project replaced by `*` (JOB#job_01h… → JOB#job_*), for reports."""
    return re.sub(r"(?<=[#_])[0-9a-z]{26}\b|(?<=#)prj_\w+|(?<=#)[0-9a-f]{64}", "*", key)
