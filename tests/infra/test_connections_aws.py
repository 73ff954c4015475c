"""Connections on AWS: the stack's KMS key for their secrets, granted exactly where it is used (the API
encrypts and decrypts, the steps that reach s3:// URLs decrypt, nothing else touches it), the environment
that tells every function the key and the buckets the stack's role may serve; and through the API function
under moto, a connection stored as KMS ciphertext."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import access, names
from infra.stack import CONNECTION_USERS
from tests.infra.conftest import resources
from tests.infra.test_api_lambda import call, clip, key  # noqa: F401  (the API function's fixtures)


def _key_id(template: dict[str, Any]) -> str:
    keys = {lid: r for lid, r in resources(template, "AWS::KMS::Key").items() if "ConnectionsKey" in lid}
    assert len(keys) == 1
    (lid, resource), = keys.items()
    assert resource["Properties"]["EnableKeyRotation"] is True and resource["DeletionPolicy"] == "Retain"
    return lid


def _role_of(template: dict[str, Any], function: str) -> str:
    lambdas = resources(template, "AWS::Lambda::Function")
    found = [r for r in lambdas.values() if r["Properties"].get("Environment", {}).get("Variables", {})
             and r["Properties"]["Handler"] and function_dir_matches(r, function)]
    assert len(found) == 1, function
    return found[0]["Properties"]["Role"]["Fn::GetAtt"][0]


def function_dir_matches(resource: dict[str, Any], function: str) -> bool:
    return resource["Properties"].get("Description", "").endswith(f": {function}") or (
        function == names.API_FUNCTION and resource["Properties"].get("Description") == "MediaJet HTTP API")


def _kms_grants(template: dict[str, Any], key_lid: str) -> dict[str, set[str]]:
    """role logical id → the kms actions its policies allow on the connections key."""
    grants: dict[str, set[str]] = {}
    for policy in resources(template, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            if not any(t == {"Fn::GetAtt": [key_lid, "Arn"]} for t in targets):
                continue
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            for role in policy["Properties"]["Roles"]:
                grants.setdefault(role["Ref"], set()).update(actions)
    return grants


def test_the_key_is_granted_least_privilege_to_the_api_and_the_s3_steps(template: dict[str, Any]) -> None:
    key_lid = _key_id(template)
    expected = {_role_of(template, names.API_FUNCTION): set(access.CONNECTION_SECRETS_API)}
    expected |= {_role_of(template, step): set(access.CONNECTION_SECRETS_STEPS) for step in CONNECTION_USERS}
    assert _kms_grants(template, key_lid) == expected


def test_every_function_knows_the_key_and_the_buckets_the_role_may_serve(template: dict[str, Any]) -> None:
    key_lid = _key_id(template)
    for function in resources(template, "AWS::Lambda::Function").values():
        env = function["Properties"].get("Environment", {}).get("Variables", {})
        if names.ENV_TABLE not in env:
            continue  # not one of ours (CDK's helper functions)
        assert env[names.ENV_CONNECTIONS_KMS_KEY] == {"Fn::GetAtt": [key_lid, "Arn"]}
        assert env[names.ENV_S3_SERVER_CREDENTIALS] == "true"
        assert "Inbox" in json.dumps(env[names.ENV_S3_BUCKETS]) and ":read" in json.dumps(env[names.ENV_S3_BUCKETS])


@pytest.mark.slow
def test_a_connection_made_through_the_api_function_is_kms_ciphertext(aws, key) -> None:  # noqa: F811
    from mediajet.aws import runtime
    from mediajet.models.connection import Connection

    status, made = call("POST", "/connections", key, {"kind": "s3", "name": "r2", "endpoint": "https://1.1.1.1",
                                                       "region": "auto", "access_key_id": "AKIA",
                                                       "secret_access_key": "r2-secret-0123456789"})
    assert status == 201, made
    stored = runtime.job_store().get_record(Connection, made["id"], None)
    assert stored.secret.startswith("kms1:") and "r2-secret" not in stored.model_dump_json()
    status, shown = call("GET", f"/connections/{made['id']}", key)
    assert status == 200 and shown["secret_access_key"] == "****6789"
    # a job without a connection may still read the inbox with the stack's role; other buckets need one
    status, job = call("POST", "/jobs", key, {"input": "s3://elsewhere/a.mp4", "kind": "video",
                                              "output": "s3://elsewhere/b.mp4", "connection_id": "nope"})
    assert status == 400 and job["kind"] == "connection_not_found"
