"""The IAM action lists in infra/access.py cover every AWS call the Lambda-side code makes."""

from __future__ import annotations

import re
from pathlib import Path

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
      "copy": "s3:PutObject"}


def test_the_job_store_calls_only_granted_dynamodb_operations() -> None:
    source = (PACKAGE / "store" / "dynamo.py").read_text()
    calls = set(re.findall(r'_(?:call|request)\("(\w+)"', source))
    assert calls, "the store's calls were found"
    assert "transact_write_items" not in calls or '"Update"' not in source, "transactions only Put"
    for operation in calls - OPERATOR_ONLY:
        assert DYNAMODB[operation] in access.TABLE_ACTIONS, operation


def test_the_s3_code_calls_only_granted_operations() -> None:
    granted = {*access.READ_OBJECTS, *access.WRITE_OBJECTS, *access.DELETE_OBJECTS, *access.LIST_BUCKET}
    sources = [PACKAGE / "storage" / "s3.py", PACKAGE / "storage" / "s3_fetch.py", PACKAGE / "aws" / "uploads.py",
               PACKAGE / "aws" / "handlers.py"]
    calls = set()
    for path in sources:
        text = path.read_text()
        calls |= set(re.findall(r"\b(?:client|s3)\.(\w+)\(", text))
        calls |= set(re.findall(r'get_paginator\("(\w+)"\)', text))
    calls -= {"get_paginator", "exceptions"}
    assert {"put_object", "get_object"} <= calls, "handlers.py: a failed part's error, kept and read back"
    assert {"upload_file", "download_file", "delete_objects"} <= calls
    for operation in calls:
        assert S3[operation] in granted, operation
