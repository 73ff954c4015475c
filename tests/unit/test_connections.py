"""Connections (spec §5.4): the CRUD routes, the rules that pick what serves an s3:// URL at POST time, secrets
encrypted at rest (never stored or shown in plaintext), the endpoint address policy, and the S3 client a step
makes from a connection."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from mediajet.connections import access, service
from mediajet.connections.crypto import KEY_FILE, KmsCipher, LocalCipher, SecretUnreadable
from mediajet.errors import ProcessingError
from mediajet.models.connection import Connection, secret_context
from mediajet.pipeline.context import StepContext
from mediajet.settings import Settings
from mediajet.storage.local import LocalBlobStore
from mediajet.store.base import JobQuery
from mediajet.store.sqlite import SqliteJobStore
from tests.unit.api_support import KEY_B, Api, make_api

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
URL = "https://example.com/upload.mov"


def body(**changes: Any) -> dict[str, Any]:
    return {"kind": "s3", "name": "main", "region": "us-east-1", "access_key_id": "AKIAIOSFODNN7EXAMPLE",
            "secret_access_key": SECRET, **changes}


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return make_api(tmp_path)


def create(api: Api, **changes: Any) -> dict[str, Any]:
    reply = api.call("POST", "/connections", body(**changes))
    assert reply.status == 201, reply.text
    return reply.body


# --- the routes -------------------------------------------------------------------------------------------


def test_create_answers_the_object_and_shows_the_secret_only_then(api: Api, tmp_path: Path) -> None:
    made = create(api)
    assert made["id"].startswith("con_") and made["object"] == "storage_connection"
    assert {k: made[k] for k in ("kind", "name", "endpoint", "region", "access_key_id", "secret_access_key",
                                 "is_default")} == {
        "kind": "s3", "name": "main", "endpoint": None, "region": "us-east-1",
        "access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": SECRET, "is_default": True}  # the first
    assert isinstance(made["created_at"], int) and made["created_at"] == made["updated_at"]
    for reply in (api.call("GET", f"/connections/{made['id']}"), api.call("GET", "/connections")):
        assert reply.status == 200 and SECRET not in reply.text and "****EKEY" in reply.text
    # what is stored: ciphertext bound to the record, never the secret
    record = api.store.get_record(Connection, made["id"], "prj_a")
    assert SECRET not in record.model_dump_json() and record.secret.startswith("v1:")
    db = b"".join(p.read_bytes() for p in tmp_path.glob("api.db*"))
    assert SECRET.encode() not in db
    assert LocalCipher(tmp_path / KEY_FILE).decrypt(record.secret, secret_context("prj_a", made["id"])) == \
        SECRET.encode()
    assert stat.S_IMODE(os.stat(tmp_path / KEY_FILE).st_mode) == 0o600


def test_ids_in_either_spelling_and_names_find_a_connection_of_the_project_only(api: Api) -> None:
    made = create(api)
    suffix = made["id"].removeprefix("con_")
    for ref in (made["id"], f"conn_{suffix}", "main"):
        assert api.call("GET", f"/connections/{ref}").body["id"] == made["id"]
    other = api.call("GET", f"/connections/{made['id']}", key=KEY_B)
    assert other.status == 404 and other.body["kind"] == "connection_not_found"
    assert api.call("GET", "/connections", key=KEY_B).body == []
    assert api.call("DELETE", f"/connections/{made['id']}", key=KEY_B).status == 404


def test_one_default_per_project(api: Api) -> None:
    first = create(api, name="a")
    second = create(api, name="b")
    assert (first["is_default"], second["is_default"]) == (True, False)
    third = create(api, name="c", is_default=True)
    listed = {c["name"]: c["is_default"] for c in api.call("GET", "/connections").body}
    assert listed == {"a": False, "b": False, "c": True}
    patched = api.call("PATCH", f"/connections/{second['id']}", {"is_default": True})
    assert patched.status == 200 and patched.body["is_default"]
    assert {c["name"]: c["is_default"] for c in api.call("GET", "/connections").body} == {
        "a": False, "b": True, "c": False}
    assert api.call("DELETE", f"/connections/{third['id']}").body["deleted"] is True
    assert api.call("GET", f"/connections/{third['id']}").status == 404


def test_patch_changes_the_given_fields_and_reencrypts_a_new_secret(api: Api) -> None:
    made = create(api)
    before = api.store.get_record(Connection, made["id"], "prj_a").secret
    reply = api.call("PATCH", f"/connections/{made['id']}", {"name": "renamed", "secret_access_key": "n" * 20 + "9876",
                                                             "id": made["id"], "object": "storage_connection"})
    assert reply.status == 200, reply.text
    assert (reply.body["name"], reply.body["secret_access_key"]) == ("renamed", "****9876")
    after = api.store.get_record(Connection, made["id"], "prj_a")
    assert after.secret != before and after.region == "us-east-1"


@pytest.mark.parametrize(("sent", "kind", "field"), [
    ({"name": None}, "name_required", "name"),
    ({"access_key_id": ""}, "access_key_id_required", "access_key_id"),
    ({"secret_access_key": None}, "secret_access_key_required", "secret_access_key"),
    ({"kind": "gcs"}, "invalid_kind", "kind"),
    ({"name": " padded"}, "invalid_name", "name"),
    ({"name": "con_lookalike"}, "invalid_name", "name"),
    ({"name": "x" * 101}, "invalid_name", "name"),
    ({"region": "US East"}, "invalid_region", "region"),
    ({"region": "auto"}, "invalid_region", "region"),  # auto needs an endpoint (R2, MinIO)
    ({"endpoint": "ftp://minio.example"}, "invalid_endpoint", "endpoint"),
    ({"endpoint": "https://key:secret@minio.example"}, "invalid_endpoint", "endpoint"),
    ({"endpoint": "https://minio.example/bucket"}, "invalid_endpoint", "endpoint"),
    ({"endpoint": 5}, "invalid_endpoint", "endpoint"),
    ({"endpoint": "http://127.0.0.1:9000"}, "endpoint_forbidden", "endpoint"),
    ({"endpoint": "http://169.254.169.254"}, "endpoint_forbidden", "endpoint"),
    ({"endpoint": "http://[::1]:9000"}, "endpoint_forbidden", "endpoint"),
    ({"access_key_id": "AKIA EXAMPLE"}, "invalid_access_key_id", "access_key_id"),
    ({"secret_access_key": "x" * 300}, "invalid_secret_access_key", "secret_access_key"),
    ({"is_default": "yes"}, "invalid_is_default", "is_default"),
    ({"bucket": "mine"}, "request_invalid", "bucket"),
])
def test_every_bad_field_is_a_400_naming_it(api: Api, sent: dict, kind: str, field: str) -> None:
    reply = api.call("POST", "/connections", body(**sent))
    assert reply.status == 400, reply.text
    assert (reply.body["kind"], reply.body["field"]) == (kind, field) and reply.body["message"]
    assert api.store.list_records(Connection, "prj_a", 1, 10) == []


def test_names_are_unique_and_a_retry_with_its_key_gets_the_original(api: Api) -> None:
    first = api.call("POST", "/connections", body(), headers={"Idempotency-Key": "conn-key-1"})
    again = api.call("POST", "/connections", body(), headers={"Idempotency-Key": "conn-key-1"})
    assert (first.status, again.status) == (201, 200) and first.body == again.body
    taken = api.call("POST", "/connections", body())
    assert taken.status == 409 and (taken.body["kind"], taken.body["field"]) == ("connection_name_taken", "name")
    assert api.call("POST", "/connections", "nope").status == 400


def test_a_private_endpoint_is_allowed_only_with_allow_private_urls(tmp_path: Path) -> None:
    api = make_api(tmp_path, allow_private_urls=True)
    made = create(api, endpoint="http://127.0.0.1:9000/", region="auto")
    assert made["endpoint"] == "http://127.0.0.1:9000"
    connection = api.store.get_record(Connection, made["id"], "prj_a")
    strict = Settings(data_dir=tmp_path)
    with pytest.raises(ProcessingError) as refused:  # checked again when a step makes its client
        access.s3_client(connection, LocalCipher(tmp_path / KEY_FILE), strict)
    assert refused.value.kind == "endpoint_forbidden"


def test_without_a_cipher_connections_are_not_supported(tmp_path: Path) -> None:
    from mediajet.api.app import create_app
    from mediajet.api.deps import ApiDeps

    api = make_api(tmp_path)
    api.app = create_app(ApiDeps(jobs=api.store, orchestrator=api.orchestrator, settings=api.settings,
                                 sign_url=lambda u: u))
    reply = api.call("POST", "/connections", body())
    assert reply.status == 501 and reply.body["kind"] == "not_supported"


# --- what serves an s3:// URL, decided at POST -------------------------------------------------------------


JOB = {"input": URL, "kind": "video", "output": "s3://customer/videos/{id}.mp4"}


def job_connection(api: Api, job_id: str) -> str | None:
    return api.store.get_job(job_id, "prj_a").connection_id


def test_without_a_connection_an_s3_output_is_refused_at_create(api: Api) -> None:
    reply = api.call("POST", "/jobs", JOB)
    assert reply.status == 400 and (reply.body["kind"], reply.body["field"]) == ("connection_required", "output")
    s3_input = api.call("POST", "/jobs", {"input": "s3://theirs/in.mp4", "kind": "audio"})
    assert (s3_input.status, s3_input.body["field"]) == (400, "input")
    assert api.store.list_jobs("prj_a", JobQuery()).items == []
    assert api.orchestrator.calls == []


def test_the_named_connection_then_the_default_serves_and_is_stored_on_the_job(api: Api) -> None:
    named = create(api, name="named", is_default=False)
    default = create(api, name="fallback", is_default=True)
    by_name = api.call("POST", "/jobs", {**JOB, "connection_id": "named"})
    by_alt_id = api.call("POST", "/jobs", {**JOB, "connection_id": "conn_" + named["id"].removeprefix("con_")})
    by_default = api.call("POST", "/jobs", JOB)
    plain = api.call("POST", "/jobs", {"input": URL, "kind": "video"})
    assert {r.status for r in (by_name, by_alt_id, by_default, plain)} == {201}
    assert [job_connection(api, r.body["id"]) for r in (by_name, by_alt_id, by_default, plain)] == [
        named["id"], named["id"], default["id"], None]
    missing = api.call("POST", "/jobs", {**JOB, "connection_id": "conn_doesnotexist"})
    assert missing.status == 400
    assert (missing.body["kind"], missing.body["field"]) == ("connection_not_found", "connection_id")


def test_another_projects_connection_is_not_found(api: Api) -> None:
    theirs = api.call("POST", "/connections", body(name="theirs"), key=KEY_B).body
    reply = api.call("POST", "/jobs", {**JOB, "connection_id": theirs["id"]})
    assert reply.status == 400 and reply.body["kind"] == "connection_not_found"
    # and their default serves only them
    assert api.call("POST", "/jobs", JOB).status == 400
    assert api.call("POST", "/jobs", JOB, key=KEY_B).status == 201


def test_allowed_buckets_use_the_servers_credentials_only_when_the_operator_says_so(tmp_path: Path) -> None:
    buckets = "prj_a=customer,inputs:read;*=shared"
    off = make_api(tmp_path / "off", s3_buckets=buckets)
    assert off.call("POST", "/jobs", JOB).body["kind"] == "connection_required"
    api = make_api(tmp_path / "on", s3_buckets=buckets, s3_server_credentials=True)
    allowed = api.call("POST", "/jobs", JOB)
    assert allowed.status == 201 and job_connection(api, allowed.body["id"]) is None
    assert api.call("POST", "/jobs", {**JOB, "output": "s3://shared/x.mp4"}, key=KEY_B).status == 201
    assert api.call("POST", "/jobs", {**JOB, "input": "s3://inputs/a.mov"}).status == 201
    # read-only buckets take no output; another project's bucket is not this one's
    assert api.call("POST", "/jobs", {**JOB, "output": "s3://inputs/x.mp4"}).body["field"] == "output"
    assert api.call("POST", "/jobs", JOB, key=KEY_B).body["kind"] == "connection_required"


def test_tasks_store_the_connection_that_serves_them(api: Api) -> None:
    made = create(api)
    export = api.call("POST", "/tasks", {"kind": "export", "input": {"url": URL},
                                         "options": {"url": "s3://customer/out.mp4"}})
    assert export.status == 201 and export.body["options"] == {"url": "s3://customer/out.mp4",
                                                                "connection_id": made["id"]}
    probe = api.call("POST", "/tasks", {"kind": "probe", "input": {"url": "s3://customer/in.mp4"}})
    assert probe.status == 201 and probe.body["options"] == {"connection_id": made["id"]}
    assert api.call("POST", "/tasks", {"kind": "probe", "input": {"url": URL}}).body["options"] == {}


@pytest.mark.parametrize("text", ["prj", "=b", "p=b:write-only"])
def test_a_malformed_bucket_list_is_a_server_error_not_a_silent_allow(text: str) -> None:
    with pytest.raises(access.BadSetting):
        access.allowed_buckets(text)


# --- secrets at rest ----------------------------------------------------------------------------------------


def test_local_cipher_round_trips_and_binds_to_its_context(tmp_path: Path) -> None:
    cipher = LocalCipher(tmp_path / "k" / KEY_FILE)
    token = cipher.encrypt(b"secret", "ctx-a")
    assert b"secret" not in token.encode() and cipher.decrypt(token, "ctx-a") == b"secret"
    assert cipher.encrypt(b"secret", "ctx-a") != token  # a fresh nonce each time
    with pytest.raises(SecretUnreadable):
        cipher.decrypt(token, "ctx-b")  # moved onto another record or project
    with pytest.raises(SecretUnreadable):
        LocalCipher(tmp_path / "other.key").decrypt(token, "ctx-a")  # another data dir's key
    assert LocalCipher(tmp_path / "k" / KEY_FILE).decrypt(token, "ctx-a") == b"secret"  # the same file, reread


def test_kms_cipher_round_trips_with_the_stacks_key(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from moto import mock_aws

    for name, value in {"AWS_DEFAULT_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        key = boto3.client("kms").create_key()["KeyMetadata"]["KeyId"]
        cipher = KmsCipher(key, lambda: boto3.client("kms"))
        token = cipher.encrypt(SECRET.encode(), "mediajet:connection:prj_a:con_1")
        assert token.startswith("kms1:") and SECRET not in token
        assert cipher.decrypt(token, "mediajet:connection:prj_a:con_1") == SECRET.encode()
        with pytest.raises(SecretUnreadable):
            cipher.decrypt(token, "mediajet:connection:prj_b:con_1")


# --- the client a step makes ----------------------------------------------------------------------------------


def test_a_step_uses_its_connections_endpoint_path_style_and_keys(api: Api, tmp_path: Path) -> None:
    made = create(api, endpoint="https://8.8.8.8:9000", region="auto")
    ctx = StepContext(jobs=api.store, work=LocalBlobStore(tmp_path / "w"), outputs=LocalBlobStore(tmp_path / "o"),
                      settings=api.settings, scratch=tmp_path / "s", cipher=LocalCipher(tmp_path / KEY_FILE))
    client = ctx.acting_for("prj_a", made["id"]).s3()
    assert client.meta.endpoint_url == "https://8.8.8.8:9000" and client.meta.region_name == "auto"
    assert client.meta.config.s3["addressing_style"] == "path"
    creds = client._request_signer._credentials
    assert (creds.access_key, creds.secret_key) == ("AKIAIOSFODNN7EXAMPLE", SECRET)
    with pytest.raises(ProcessingError) as other:
        ctx.acting_for("prj_b", made["id"]).s3()
    assert other.value.kind == "connection_not_found"
    with pytest.raises(ProcessingError) as none:  # the embedded server has no credentials of its own
        ctx.acting_for("prj_a", None).s3()
    assert none.value.kind == "connection_required"


def test_the_cli_manages_connections_in_a_local_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from mediajet.cli.main import main

    common = ["--local", "--data-dir", str(tmp_path), "--json"]
    assert main(["connections", "add", "s3", "--name", "r2", "--endpoint", "https://8.8.4.4", "--region", "auto",
                 "--access-key-id", "AKIA", "--secret-access-key", SECRET, *common]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["is_default"] and made["secret_access_key"] == SECRET
    assert main(["connections", "list", *common]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(c["name"], c["secret_access_key"]) for c in listed] == [("r2", "****EKEY")]
    assert main(["connections", "delete", "r2", *common]) == 0
    capsys.readouterr()
    assert main(["connections", "delete", "r2", *common]) == 2  # gone: connection_not_found
    assert service.all_of(SqliteJobStore(tmp_path / "mediajet.db"), "prj_default") == []
