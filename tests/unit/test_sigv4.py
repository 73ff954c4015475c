"""The API function signs its DynamoDB and Step Functions calls itself (aws/sigv4.py): a signature AWS would
refuse fails every request on Lambda. Checked against botocore's own SigV4 signer, request for request."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from mediajet.aws.sigv4 import Credentials, signed_headers

NOW = datetime(2026, 12, 3, 2, 30, 5, tzinfo=UTC)


def botocore_headers(url: str, headers: dict[str, str], body: bytes, credentials: Credentials, region: str,
                     service: str) -> dict[str, str]:
    request = AWSRequest("POST", url, headers=headers, data=body)
    request.context["timestamp"] = NOW.strftime("%Y%m%dT%H%M%SZ")
    signer = SigV4Auth(BotoCredentials(credentials.access_key, credentials.secret_key, credentials.token), service,
                       region)
    request.headers["X-Amz-Date"] = request.context["timestamp"]
    if credentials.token:
        request.headers["X-Amz-Security-Token"] = credentials.token
    canonical = signer.canonical_request(request)
    signature = signer.signature(signer.string_to_sign(request, canonical), request)
    signer._inject_signature_to_request(request, signature)
    return dict(request.headers.items())


@pytest.mark.parametrize(("url", "service", "region", "token", "body"), [
    ("https://dynamodb.eu-west-1.amazonaws.com", "dynamodb", "eu-west-1", None, b'{"TableName": "jobs"}'),
    ("https://states.us-east-1.amazonaws.com/", "states", "us-east-1", "IQoJb3JpZ2luX2VjE//session+token=",
     '{"input": "{\\"job_id\\": \\"job_é\\"}"}'.encode()),
    ("http://127.0.0.1:5000", "secretsmanager", "ap-southeast-2", "token", b""),
])
def test_the_signature_is_botocores(url: str, service: str, region: str, token: str | None, body: bytes) -> None:
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.PutItem"}

    mine = signed_headers("POST", url, headers, body, credentials, region, service, NOW)
    theirs = botocore_headers(url, {**headers, "Host": mine["Host"]}, body, credentials, region, service)

    assert mine["Authorization"] == theirs["Authorization"]
    assert mine["X-Amz-Date"] == "20261203T023005Z"
    assert mine.get("X-Amz-Security-Token") == token
