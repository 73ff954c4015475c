"""The Lambda functions' client for DynamoDB, Step Functions and Secrets Manager (aws/json_client.py, no
botocore): what the store and the orchestrator rely on from botocore's clients must hold for it too.
Against moto's server on loopback, and a scripted server for the retry rules."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from mediajet.aws import runtime
from mediajet.aws.json_client import AwsError, JsonClient
from mediajet.aws.orchestrator import StepFunctionsOrchestrator
from mediajet.aws.sigv4 import Credentials
from mediajet.models.job import Job
from tests.moto_server import moto_server

pytest.importorskip("flask", reason="moto's server mode needs moto[server] (flask, flask-cors)")
REGION = "eu-west-1"
CREDENTIALS = Credentials("testing", "testing", "session")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with moto_server() as url:
        yield url


def client(service: str, url: str, **kwargs: Any) -> JsonClient:
    return JsonClient(service, REGION, CREDENTIALS, url, **kwargs)


def test_items_with_binary_values_read_back_as_written_and_a_failed_condition_names_itself(server: str) -> None:
    dynamodb = client("dynamodb", server)
    dynamodb.create_table(TableName="json-client", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    item = {"pk": {"S": "job_é"}, "packed": {"B": b"\x00\xffzlib"}, "n": {"N": "12.5"},
            "m": {"M": {"B": {"S": "an attribute named B"}}}}
    try:
        dynamodb.put_item(TableName="json-client", Item=item)
        assert dynamodb.get_item(TableName="json-client", Key={"pk": {"S": "job_é"}}, ConsistentRead=True)["Item"] == item

        with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException) as refused:
            dynamodb.put_item(TableName="json-client", Item=item, ConditionExpression="attribute_not_exists(pk)",
                              ReturnValuesOnConditionCheckFailure="ALL_OLD")
        assert isinstance(refused.value, AwsError)
        assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert refused.value.response["Item"] == item
    finally:
        dynamodb.delete_table(TableName="json-client")


def test_a_job_started_twice_runs_once_and_secrets_read(server: str) -> None:
    sfn = client("stepfunctions", server)
    arn = sfn.create_state_machine(name="json-client", roleArn="arn:aws:iam::123456789012:role/x", definition=json.dumps(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    orchestrator = StepFunctionsOrchestrator(arn, sfn)
    job = Job(kind="video", input="https://media.example/a.mp4", project_id="prj")

    orchestrator.start_job(job)
    orchestrator.start_job(job)  # ExecutionAlreadyExists, as after a crash between the write and the start

    executions = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert [e["name"] for e in executions] == [job.id]
    secrets = client("secretsmanager", server)
    secret = secrets.create_secret(Name="json-client", SecretString="s3cret")["ARN"]
    assert secrets.get_secret_value(SecretId=secret)["SecretString"] == "s3cret"


class Scripted(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as AWS endpoints answer
    answers: ClassVar[list[tuple[int, dict[str, Any] | bytes]]] = []
    seen: ClassVar[list[dict[str, str]]] = []
    hang_up = False  # close each connection after its answer, without saying so (an idle timeout)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append(dict(self.headers.items()))
        status, body = type(self).answers.pop(0)
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = type(self).hang_up

    def log_message(self, *args: Any) -> None:
        pass


def answers() -> type[Scripted]:
    """A handler class of its own: its answers and what it saw are the test's."""
    return type("Answers", (Scripted,), {"answers": [], "seen": []})


@pytest.fixture
def scripted() -> Iterator[tuple[str, type[Scripted]]]:
    handler = answers()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", handler
    httpd.shutdown()
    httpd.server_close()


def test_throttling_and_5xx_are_retried_with_backoff_then_answered(scripted: tuple[str, type[Scripted]]) -> None:
    url, handler = scripted
    handler.answers[:] = [(400, {"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException", "message": "slow"}),
                          (503, {}), (200, {"Item": {"pk": {"S": "a"}}})]
    waits: list[float] = []

    answer = client("dynamodb", url, sleep=waits.append).get_item(TableName="t", Key={"pk": {"S": "a"}})

    assert answer == {"Item": {"pk": {"S": "a"}}}
    assert len(handler.seen) == 3 and len(waits) == 2 and 0 <= waits[0] <= 1 and 0 <= waits[1] <= 2
    assert {h["X-Amz-Target"] for h in handler.seen} == {"DynamoDB_20120810.GetItem"}
    assert all(h["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=testing/") for h in handler.seen)
    assert all(h["X-Amz-Security-Token"] == "session" for h in handler.seen)


def test_a_page_that_is_not_json_is_a_failure_like_any_other(scripted: tuple[str, type[Scripted]]) -> None:
    url, handler = scripted
    handler.answers[:] = [(502, b"<html>Bad Gateway</html>"), (200, b"<html>a portal</html>"), (200, {})]
    waits: list[float] = []

    assert client("dynamodb", url, sleep=waits.append).put_item(TableName="t", Item={}) == {}
    assert len(handler.seen) == 3 and len(waits) == 2

    handler.answers[:] = [(403, b"<html>Forbidden</html>")]
    with pytest.raises(AwsError, match=r"\(HTTP403\) when calling the PutItem operation: <html>Forbidden"):
        client("dynamodb", url).put_item(TableName="t", Item={})


def test_a_refusal_is_raised_at_once_and_throttling_after_three_attempts(scripted: tuple[str, type[Scripted]]) -> None:
    url, handler = scripted
    handler.answers[:] = [(400, {"__type": "ValidationException", "Message": "Item size has exceeded the maximum"})]
    with pytest.raises(AwsError, match=r"\(ValidationException\) when calling the PutItem operation: Item size"):
        client("dynamodb", url, sleep=lambda _: None).put_item(TableName="t", Item={})
    assert len(handler.seen) == 1

    handler.answers[:] = [(400, {"__type": "ThrottlingException"})] * 3
    with pytest.raises(AwsError) as throttled:
        client("stepfunctions", url, sleep=lambda _: None).start_execution(stateMachineArn="arn")
    assert throttled.value.response["Error"]["Code"] == "ThrottlingException" and len(handler.seen) == 4


def test_a_kept_connection_the_service_closed_is_replaced_without_a_retry(scripted: tuple[str, type[Scripted]]) -> None:
    url, handler = scripted
    handler.hang_up = True
    handler.answers[:] = [(200, {}), (200, {"Item": {"pk": {"S": "b"}}})]
    waits: list[float] = []
    dynamodb = client("dynamodb", url, sleep=waits.append)

    dynamodb.put_item(TableName="t", Item={"pk": {"S": "b"}})
    assert dynamodb.get_item(TableName="t", Key={"pk": {"S": "b"}}) == {"Item": {"pk": {"S": "b"}}}
    assert waits == [] and len(handler.seen) == 2


def test_an_unreachable_endpoint_is_an_oserror_after_three_attempts() -> None:
    waits: list[float] = []
    with pytest.raises(OSError):
        client("dynamodb", "http://127.0.0.1:9", sleep=waits.append).get_item(TableName="t", Key={})
    assert len(waits) == 2


def test_lambda_functions_get_it_for_json_services_and_boto3_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", REGION)  # Lambda sets both
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000")  # botocore's names for them
    monkeypatch.setenv("AWS_ENDPOINT_URL_SFN", "http://127.0.0.1:8001")
    runtime.reset()
    try:
        assert not isinstance(runtime.client("dynamodb"), JsonClient)  # not on Lambda
        runtime.reset()
        monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")
        dynamodb, states = runtime.client("dynamodb"), runtime.client("stepfunctions")
        assert isinstance(dynamodb, JsonClient) and dynamodb.endpoint == "http://127.0.0.1:8000"
        assert isinstance(states, JsonClient) and states.endpoint == "http://127.0.0.1:8001"
        assert runtime.client("secretsmanager").endpoint == f"https://secretsmanager.{REGION}.amazonaws.com"
        assert not isinstance(runtime.client("s3"), JsonClient)
    finally:
        runtime.reset()


def certificate(name: str, extension: Any, *, critical: bool, issuer: tuple[Any, Any] | None = None) -> tuple[Any, Any]:
    """(key, certificate) for `name`, valid today, signed by `issuer` (key, certificate) or by itself."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    signer, issuer_name = (issuer[0], issuer[1].subject) if issuer else (key, subject)
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1)).add_extension(extension, critical=critical)
            .sign(signer, hashes.SHA256()))
    return key, cert


def certificate_authority(name: str) -> tuple[Any, Any, bytes]:
    """A CA (key, certificate, PEM), made for the test."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key, cert = certificate(name, x509.BasicConstraints(ca=True, path_length=None), critical=True)
    return key, cert, cert.public_bytes(serialization.Encoding.PEM)


def server_certificate(ca_key: Any, ca_cert: Any, folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that the CA signed, and its key, as files in `folder`."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    key, cert = certificate("127.0.0.1", san, critical=False, issuer=(ca_key, ca_cert))
    (folder / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    return folder / "server.pem", folder / "server.key"


def hashed_folder(folder: Path, *pems: bytes) -> str:
    """CA certificates laid out as OpenSSL looks them up (`openssl rehash`)."""
    folder.mkdir()
    for index, pem in enumerate(pems):
        (folder / f"ca{index}.pem").write_bytes(pem)
    subprocess.run(["openssl", "rehash", str(folder)], check=True, capture_output=True)
    return str(folder)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to lay out a CA folder")
def test_https_verifies_the_server_against_the_hashed_ca_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ssl

    from mediajet.aws import json_client

    ca_key, ca_cert, ca_pem = certificate_authority("MediaJet test CA")
    _, _, stranger_pem = certificate_authority("Someone else's CA")
    cert, key = server_certificate(ca_key, ca_cert, tmp_path)
    handler = answers()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    tls_server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    tls_server.socket = context.wrap_socket(tls_server.socket, server_side=True)
    threading.Thread(target=tls_server.serve_forever, daemon=True).start()
    endpoint = f"https://127.0.0.1:{tls_server.server_port}"
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    try:
        monkeypatch.setattr(json_client, "CA_FOLDERS", (str(tmp_path / "missing"), hashed_folder(tmp_path / "ok", ca_pem)))
        monkeypatch.setattr(json_client, "_tls_context", None)
        handler.answers[:] = [(200, {"Item": {"pk": {"S": "tls"}}})]  # a CA the system does not know: found there
        assert client("dynamodb", endpoint).get_item(TableName="t", Key={}) == {"Item": {"pk": {"S": "tls"}}}

        monkeypatch.setattr(json_client, "CA_FOLDERS", (hashed_folder(tmp_path / "other", stranger_pem),))
        monkeypatch.setattr(json_client, "_tls_context", None)
        with pytest.raises(ssl.SSLCertVerificationError):
            client("dynamodb", endpoint, sleep=lambda _: None).get_item(TableName="t", Key={})
    finally:
        tls_server.shutdown()
        tls_server.server_close()
