"""Who may use an s3:// URL, and with which credentials.

At `POST` (jobs, tasks, steps, files): `resolve` picks what will serve a request's s3:// inputs and outputs,
in this order, and the job or task stores the answer so the pipeline uses exactly what was checked:
1. the connection the request names (`connection_id`: `con_…`, `conn_…` or a name), of the same project;
2. the project's default connection;
3. the server's own credentials, for a bucket the operator allows the project (MEDIAJET_S3_BUCKETS) when
   MEDIAJET_S3_SERVER_CREDENTIALS is on (always on AWS: the stack's role, on the buckets the construct was
   given).
Anything else is a 400 (`connection_not_found`, `connection_required`) before any work starts.

In the pipeline: `s3_client` makes the boto3 client of one connection: its endpoint (path-style addressing),
region and decrypted keys, never the default credential chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from mediajet.connections import endpoints, service
from mediajet.connections.crypto import Cipher
from mediajet.errors import ConnectionRequired, MediaJetError
from mediajet.models.connection import Connection
from mediajet.settings import Settings

Use = Literal["read", "write"]
DEFAULT_REGION = "us-east-1"


class BadSetting(MediaJetError):
    status = 500
    default_kind = "server_misconfigured"


@dataclass(frozen=True)
class S3Use:
    """One s3:// URL of a request: what is done with it, and the request field it came from."""

    url: str
    use: Use
    field: str

    @property
    def bucket(self) -> str:
        return self.url[len("s3://"):].split("/", 1)[0]


def s3_uses(*candidates: tuple[Any, Use, str]) -> list[S3Use]:
    """The s3:// ones among (value, use, field)."""
    return [S3Use(value.strip(), use, field) for value, use, field in candidates
            if isinstance(value, str) and value.strip().lower().startswith("s3://")]


@lru_cache(maxsize=8)
def allowed_buckets(text: str) -> dict[str, dict[str, frozenset[str]]]:
    """MEDIAJET_S3_BUCKETS, e.g. `prj_default=bucket-a,bucket-b;prj_x=bucket-c:read;*=shared:write` →
    {project: {bucket: uses}}. `*` is every project; `:read` / `:write` allow one direction only."""
    table: dict[str, dict[str, frozenset[str]]] = {}
    for entry in filter(None, (part.strip() for part in text.split(";"))):
        project, sep, buckets = entry.partition("=")
        if not sep or not project.strip():
            raise BadSetting(f"MEDIAJET_S3_BUCKETS: '{entry}' is not project=bucket[,bucket…]")
        grants = table.setdefault(project.strip(), {})
        for item in filter(None, (b.strip() for b in buckets.split(","))):
            bucket, _, mode = item.partition(":")
            if mode not in ("", "read", "write"):
                raise BadSetting(f"MEDIAJET_S3_BUCKETS: '{item}': a bucket may end in :read or :write only")
            uses = frozenset({"read", "write"} if not mode else {mode})
            grants[bucket] = grants.get(bucket, frozenset()) | uses
    return table


def server_may(settings: Settings, project_id: str, use: S3Use) -> bool:
    table = allowed_buckets(settings.s3_buckets)
    return any(use.use in table.get(who, {}).get(use.bucket, ()) for who in (project_id, "*"))


def resolve(store: Any, settings: Settings, project_id: str, ref: Any, uses: list[S3Use], *,
            field: str = "connection_id") -> str | None:
    """The id of the connection that serves `uses` (None: the server's own credentials, or nothing to serve);
    a 400 when nothing may."""
    if ref is not None:
        if not isinstance(ref, str) or not ref:
            raise ConnectionRequired(f"{field} must be a connection id (con_…) or name", kind="request_invalid",
                                     field=field)
        return service.find(store, project_id, ref, field=field).id
    if not uses:
        return None
    default = service.default_of(store, project_id)
    if default is not None:
        return default.id
    for use in uses:
        if not server_may(settings, project_id, use):
            verb = "read from" if use.use == "read" else "write to"
            raise ConnectionRequired(
                f"{use.field} is {use.url[:200]}, but this project has no connection to {verb} s3://{use.bucket}: "
                "create one (POST /connections; the first becomes the project's default) or name one in "
                "connection_id", field=use.field)
    if not settings.s3_server_credentials:
        raise ConnectionRequired(
            f"{uses[0].field} is in a bucket allowed to this project (MEDIAJET_S3_BUCKETS), but the server may not "
            "use its own AWS credentials (MEDIAJET_S3_SERVER_CREDENTIALS is off): create a connection instead",
            field=uses[0].field)
    return None


def for_task(store: Any, settings: Settings, project_id: str, kind: str, task_input: dict[str, Any],
             options: dict[str, Any]) -> dict[str, Any]:
    """A standalone task's options with `connection_id` set to what serves its s3:// input (and an export's
    `options.url`), or without it when the server's own credentials do."""
    uses = s3_uses((task_input.get("url"), "read", "input.url"),
                   (options.get("url") if kind == "export" else None, "write", "options.url"))
    chosen = resolve(store, settings, project_id, options.get("connection_id"), uses, field="options.connection_id")
    kept = {name: value for name, value in options.items() if name != "connection_id"}
    return {**kept, "connection_id": chosen} if chosen else kept


def s3_client(connection: Connection, cipher: Cipher, settings: Settings) -> Any:
    """A boto3 S3 client with exactly this connection's endpoint, region and keys."""
    import boto3
    from botocore.config import Config

    if connection.endpoint is not None:
        endpoints.check_reachable(connection.endpoint, settings, at_request=False)
    secret = service.secret_of(connection, cipher)
    custom = connection.endpoint is not None
    config = Config(
        signature_version="s3v4", retries={"mode": "standard"},
        connect_timeout=settings.connect_timeout_s, read_timeout=settings.read_timeout_s,
        # bucket names in the path: S3-compatible services (MinIO, R2, GCS) rarely serve virtual-host buckets
        s3={"addressing_style": "path" if custom else "virtual"},
        # checksums only where S3 requires them: several S3-compatible services refuse the newer default ones
        **({"request_checksum_calculation": "when_required", "response_checksum_validation": "when_required"}
           if custom else {}),
    )
    session = boto3.session.Session(aws_access_key_id=connection.access_key_id, aws_secret_access_key=secret,
                                    region_name=connection.region or DEFAULT_REGION)
    return session.client("s3", endpoint_url=connection.endpoint, config=config)
