"""The IAM action lists in infra/access.py cover every AWS call the Lambda-side code makes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import mediajet
from infra import access

PACKAGE = Path(mediajet.__file__).parent
# AWS operation → the IAM action that authorises it.
DYNAMODB = {"get_item": "dynamodb:GetItem", "put_item": "dynamodb:PutItem", "query": "dynamodb:Query",
            "transact_write_items": "dynamodb:PutItem",  # authorised per item; the store only Puts
            "update_item": "dynamodb:UpdateItem", "delete_item": "dynamodb:DeleteItem"}
OPERATOR_ONLY = {"scan"}  # active_jobs/active_tasks: not on any Lambda's path
S3 = {"upload_file": "s3:PutObject", "put_object": "s3:PutObject", "download_file": "s3:GetObject",
      "head_object": "s3:GetObject",
      "get_object": "s3:GetObject", "list_objects_v2": "s3:ListBucket", "delete_objects": "s3:DeleteObject",
      "generate_presigned_url": "s3:GetObject",
      # server-side (multipart) copy: PutObject on the destination, and GetObject on the source, which
      # export has on the working bucket (infra/pipeline.py)
      "copy": "s3:PutObject",
      # a join's multipart upload: parts uploaded or copied (GetObject on the source, the working bucket)
      "create_multipart_upload": "s3:PutObject", "upload_part": "s3:PutObject", "upload_part_copy": "s3:PutObject",
      "complete_multipart_upload": "s3:PutObject", "abort_multipart_upload": "s3:AbortMultipartUpload"}


def test_the_job_store_calls_only_granted_dynamodb_operations() -> None:
    source = "\n".join(path.read_text() for path in sorted((PACKAGE / "store").glob("dynamo*.py")))
    calls = set(re.findall(r'_(?:call|request)\("(\w+)"', source))
    assert calls, "the store's calls were found"
    assert "transact_write_items" not in calls or '"Update"' not in source, "transactions only Put"
    for operation in calls - OPERATOR_ONLY:
        assert DYNAMODB[operation] in access.TABLE_ACTIONS, operation


def test_the_s3_code_calls_only_granted_operations() -> None:
    granted = {*access.READ_OBJECTS, *access.WRITE_OBJECTS, *access.DELETE_OBJECTS, *access.LIST_BUCKET}
    sources = [PACKAGE / "storage" / "s3.py", PACKAGE / "storage" / "s3_fetch.py", PACKAGE / "storage" / "s3_compose.py",
               PACKAGE / "aws" / "uploads.py",
               PACKAGE / "aws" / "handlers.py", PACKAGE / "aws" / "library_uploads.py",
               PACKAGE / "storage" / "loopback.py"]
    calls: set[str] = set()
    for path in sources:
        found = s3_calls(path.read_text())
        calls |= found
        if path.name == "s3.py":
            # a signed link is made by another client (SigV4, its own endpoint) built from ours
            assert "generate_presigned_url" in found, "sigv4_client(self.client).generate_presigned_url( is seen"
    assert {"put_object", "get_object"} <= calls, "handlers.py: a failed part's error, kept and read back"
    assert {"upload_file", "download_file", "delete_objects", "head_object", "list_objects_v2", "copy",
            "upload_part_copy", "abort_multipart_upload"} <= calls
    for operation in calls:
        assert operation in S3, f"{operation}: an S3 call this test does not know; add its IAM action to S3"
        assert S3[operation] in granted, operation


def _is_client(node: ast.expr) -> bool:
    """`client`, `s3`, `self.client`, `ctx.s3_client`, and calls that make one: `runtime.client("s3")`,
    `sigv4_client(self.client)`, `boto3.client(...)`."""
    if isinstance(node, ast.Call):
        node = node.func
        name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
        return name in ("client", "sigv4_client", "_sigv4_client")
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return name in ("client", "s3", "s3_client")


def s3_calls(source: str) -> set[str]:
    """Every method called on an S3 client in `source`, however the client is reached, and the
    operations behind its paginators."""
    calls = set()
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_client(node.func.value)):
            continue
        if node.func.attr == "get_paginator":
            calls.add(node.args[0].value)  # type: ignore[attr-defined]
        elif node.func.attr != "exceptions":
            calls.add(node.func.attr)
    return calls


def test_the_s3_scan_sees_calls_through_a_derived_client() -> None:
    source = """
client.put_object(Bucket=b)
self.client.upload_file(p, b, k)
sigv4_client(self.client).generate_presigned_url("get_object", Params={})
runtime.client("s3").get_object(Bucket=b, Key=k)
self.client.get_paginator("list_objects_v2").paginate(Bucket=b)
state.copy()
"""
    assert s3_calls(source) == {"put_object", "upload_file", "generate_presigned_url", "get_object",
                                "list_objects_v2"}


def test_a_pinned_version_is_granted_on_input_buckets_and_named_when_refused(tmp_path: Path) -> None:
    """s3_fetch pins the VersionId head_object saw: on a versioned bucket that GET needs
    s3:GetObjectVersion, which reading a bucket the app does not own (an input bucket) grants."""
    import aws_cdk as cdk
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_s3 as s3
    from botocore.exceptions import ClientError

    from mediajet.errors import ProcessingError
    from mediajet.settings import Settings
    from mediajet.storage.s3_fetch import fetch_s3

    assert '"VersionId": head["VersionId"]' in (PACKAGE / "storage" / "s3_fetch.py").read_text()
    assert "s3:GetObjectVersion" in access.READ_VERSIONS

    stack = cdk.Stack(cdk.App(outdir=str(tmp_path)), "S")
    role = iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    access.objects(role, s3.Bucket.from_bucket_name(stack, "Theirs", "team-uploads"), read=True)
    access.objects(role, s3.Bucket(stack, "Ours"), read=True)
    statements = cdk.assertions.Template.from_stack(stack).find_resources("AWS::IAM::Policy")
    granted = [s for p in statements.values() for s in p["Properties"]["PolicyDocument"]["Statement"]
               if "s3:GetObject" in s["Action"]]
    theirs = [s["Action"] for s in granted if "team-uploads" in str(s["Resource"])]
    ours = [s["Action"] for s in granted if "team-uploads" not in str(s["Resource"])]
    assert theirs == [["s3:GetObject", "s3:GetObjectVersion"]] and ours == ["s3:GetObject"]

    class Versioned:
        def head_object(self, **kwargs: object) -> dict[str, object]:
            return {"ContentLength": 5, "VersionId": "v1"}

        def download_file(self, *args: object, **kwargs: object) -> None:
            raise ClientError({"Error": {"Code": "AccessDenied"}, "ResponseMetadata": {"HTTPStatusCode": 403}},
                              "GetObject")

    with pytest.raises(ProcessingError, match="s3:GetObjectVersion") as caught:
        fetch_s3("s3://team-uploads/a.mp4", tmp_path / "in", settings=Settings(), s3_client=Versioned())
    assert caught.value.kind == "input_forbidden"
