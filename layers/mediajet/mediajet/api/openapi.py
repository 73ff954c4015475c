"""The OpenAPI 3.1 document: document-only models, the bearer scheme, shared error responses.

Request bodies are read by the handlers themselves (api/body.py), so Powertools cannot see them; the
resolver subclass below adds them to the generated document. Powertools' OpenAPI object models are
imported only when a document is built: they cost more at cold start than the whole request path.
Anything beyond the Ittybit Jobs API is marked "MediaJet extension" in its description and with
`x-mediajet-extension: true`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from pydantic import BaseModel, ConfigDict, Field

from mediajet.models.file import File
from mediajet.models.job import JobKind, TaskKind
from mediajet.models.options import (
    AdaptiveOptions,
    AnimationOptions,
    AudioOptions,
    ImageOptions,
    VideoOptions,
)
from mediajet.models.webhook_requests import KNOWN_TOPICS, MAX_DESCRIPTION_CHARS, MAX_TOPICS
from mediajet.models.webhooks import Delivery

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI

TITLE = "MediaJet Jobs API"
DESCRIPTION = (
    "A self-hosted media-processing API, wire-compatible with the Ittybit Jobs API: send a URL, pick a kind, "
    "get the processed file back. Authenticate with `Authorization: Bearer <key>`. Errors are "
    "`{kind, message}` (plus `field` when one field is at fault). Operations and fields beyond the Ittybit "
    "Jobs API are marked **MediaJet extension**.\n\n"
    "**API generations.** One engine serves every generation of Ittybit's API; the request picks the wire "
    "format. `/jobs` is the Jobs API. `/steps` is the steps variant (ids `step_…`). On `/tasks`, "
    "`Accept-Version` (or `ACCEPT_VERSION`) decides: none → the Jobs API's standalone task; `2025-08-20` or "
    "`latest` → version 2025-08-20 (flat body, ISO `created`/`updated`, errors `{message}`); `2024-08-21` → "
    "the `{meta, data, links}` envelope (ids `tsk_…`). Any other value is a 400 `invalid_version`."
)
EXTENSION = "**MediaJet extension** (not in the Ittybit Jobs API). "
EXT = {"x-mediajet-extension": True}
SECURITY_SCHEME = "bearerAuth"


class DocModel(BaseModel):
    """A model only the OpenAPI document reads: its schema is built when the document (or a route's response
    check) first needs it, not when this module is imported on a cold start's first request."""

    model_config = ConfigDict(defer_build=True)


class ErrorBody(DocModel):
    kind: str = Field(description="snake_case error kind, e.g. input_required, job_not_found",
                      examples=["input_required"])
    message: str = Field(description="what went wrong and how to fix it")
    field: str | None = Field(default=None, description="the request field at fault, when there is one")


class Health(DocModel):
    status: Literal["ok"] = "ok"
    version: str


class JobCreateBody(DocModel):
    input: str = Field(description="URL of the file to process: http://, https:// or s3://",
                       examples=["https://example.com/upload.mov"])
    kind: JobKind
    options: VideoOptions | AudioOptions | ImageOptions | AnimationOptions | AdaptiveOptions | None = Field(
        default=None, description="options for the kind; unknown keys are an invalid_option error")
    output: str | None = Field(
        default=None, description="S3 destination `s3://bucket/key` (a folder ending in `/` for adaptive_video); "
        "path templates `{id}`, `{date}`, `{filename}`, `{kind}`, `{ext}`. Default: the server's own storage, "
        "and `job.output` becomes a signed download link.", examples=["s3://my-bucket/processed/{filename}.mp4"])
    metadata: dict[str, Any] | None = Field(default=None, description="free key/value pairs, echoed back")
    webhook_url: str | None = Field(
        default=None, description=EXTENSION + "http(s) URL that receives the job when it ends, with "
        "Standard Webhooks signature headers.")
    connection_id: str | None = Field(default=None, description="the storage connection (`con_…`, `conn_…` or its "
                                      "name) for s3:// input and output; default: the project's default connection")


class TaskCreateBody(DocModel):
    kind: TaskKind
    input: File | dict[str, Any] = Field(
        description="probe/import: `{\"url\": ...}`; other kinds: a File object from an earlier task",
        examples=[{"url": "https://example.com/video.mp4"}])
    options: dict[str, Any] | None = Field(
        default=None, description="encoding kinds: the options of POST /jobs for that kind; "
        "export: `{\"url\": \"s3://bucket/key\", \"connection_id\": ...}`")


StepKind = Literal["probe", "ingest", "video", "audio", "image", "adaptive_video", "upload"]


class StepCreateBody(DocModel):
    kind: StepKind
    input: dict[str, Any] = Field(
        description="probe/ingest: `{\"url\": ...}` (http, https or s3); video/audio/image/adaptive_video/upload: "
        "a Source object, the `output` of a succeeded probe step (`null` is a 400 input_required)",
        examples=[{"url": "https://example.com/video.mp4"}])
    options: dict[str, Any] | None = Field(
        default=None, description="encoding kinds: the options of POST /jobs for that kind; upload: "
        "`{\"url\": \"s3://bucket/key\", \"connection_id\": \"conn_…\"}` (connection_id optional: the project's "
        "default connection otherwise)")


# --- webhooks (api/routes_webhooks.py) -----------------------------------------------------------------
Topic = Literal[KNOWN_TOPICS]  # type: ignore[valid-type]
TOPICS_HELP = ("what the endpoint receives: `job.created`, `job.updated`, `job.succeeded`, `job.failed`, "
               "`job.cancelled`, the same five for standalone tasks (`task.…`), or the wildcards `job.*`, "
               f"`task.*`, `*`; 1-{MAX_TOPICS} of them, duplicates dropped (a bad one: 400 invalid_topic)")
URL_HELP = ("https:// URL that receives the events (plain http:// and private or loopback hosts only where the "
            "server sets MEDIAJET_ALLOW_PRIVATE_URLS; a bad one: 400 invalid_webhook_url)")


class WebhookEndpointCreateBody(DocModel):
    url: str = Field(description=URL_HELP, examples=["https://example.com/webhooks/mediajet"])
    topics: list[Topic] = Field(description=TOPICS_HELP, examples=[["job.*", "task.failed"]])
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION_CHARS)


class WebhookEndpointUpdateBody(DocModel):
    url: str | None = Field(default=None, description=URL_HELP)
    topics: list[Topic] | None = Field(default=None, description=TOPICS_HELP)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION_CHARS, description="null clears it")
    status: Literal["active", "disabled"] | None = Field(
        default=None, description="a disabled endpoint receives no new events")


class WebhookEndpointView(DocModel):
    id: str = Field(examples=["we_01jz8k2m3n4p5q6r7s8t9v0w1x"])
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    url: str
    topics: list[Topic]
    description: str | None = None
    status: Literal["active", "disabled"]
    created_at: int = Field(description="Unix ms")
    updated_at: int = Field(description="Unix ms")


class EventView(DocModel):
    id: str = Field(description="`evt_…`: also the `webhook-id` header of every delivery of this event (the "
                    "same on each retry, so a receiver can drop duplicates)",
                    examples=["evt_01jz8k2m3n4p5q6r7s8t9v0w1x"])
    object: Literal["event"] = "event"
    kind: Topic = Field(description="the topic, e.g. job.succeeded")
    data: dict[str, Any] = Field(description="the job or standalone task as the API showed it when the change "
                                 "happened (in the API generation it was created in), links signed anew")
    created_at: int = Field(description="Unix ms")
    deliveries: list[Delivery] = Field(description="one per receiver: the record's own `webhook_url` "
                                       "(`endpoint_id` null) and each subscribed endpoint, with every attempt")


class WebhookSecretView(DocModel):
    object: Literal["webhook_secret"] = "webhook_secret"
    secret: str = Field(description="the Standard Webhooks secret (`whsec_` + base64) that `webhook-signature` "
                        "is made with", examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
    previous_expires_at: int | None = Field(description="Unix ms until which the secret before the last rotation "
                                            "still signs too (each request then carries both signatures)")


def error_responses(*codes: int) -> dict[int, dict[str, Any]]:
    text = {400: "invalid request (kind names the problem, field the culprit)", 401: "token_missing or token_invalid",
            404: "not found", 405: "method_not_allowed", 409: "conflict", 413: "payload_too_large"}
    return {code: {"description": text[code], "content": {"application/json": {"model": ErrorBody}}}
            for code in codes}


def route_doc(summary: str, operation: str, tag: str, description: str, *codes: int, model: Any = None,
              extension: bool = False, deleted: int = 202) -> dict[str, Any]:
    """A resource route's OpenAPI metadata, from its operation id: `create…` answers 201, `delete…` `deleted`,
    the rest 200; `list…` an array of `model` (default: any object). `extension`: not in Ittybit's API."""
    model = dict[str, Any] if model is None else model
    success = 201 if operation.startswith("create") else deleted if operation.startswith("delete") else 200
    answer = list[model] if operation.startswith("list") else model
    doc: dict[str, Any] = {"summary": summary, "tags": [tag], "operation_id": operation,
                           "description": (EXTENSION if extension else "") + description,
                           "responses": {**ok(success, summary.lower(), answer), **error_responses(*codes)}}
    if extension:
        doc["openapi_extensions"] = EXT
    return doc


def ok(code: int, description: str, model: Any, headers: dict[str, Any] | None = None) -> dict[int, dict[str, Any]]:
    response: dict[str, Any] = {"description": description, "content": {"application/json": {"model": model}}}
    if headers:
        response["headers"] = headers
    return {code: response}


# The request bodies Swagger UI offers ("Try it out"): the seed pages' own examples, each one a request this
# server accepts as shown (tests/unit/test_api.py sends every one). Without them Swagger UI fills a body from
# the schema ("string" for every text), which the API refuses.
EXAMPLES: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("/jobs", "post"): {
        "video": {"summary": "a 1280x720 MP4", "value": {
            "input": "https://example.com/upload.mov", "kind": "video",
            "options": {"width": 1280, "height": 720, "format": "mp4", "quality": "high"}}},
        "audio": {"summary": "the sound as MP3", "value": {
            "input": "https://example.com/interview.mp4", "kind": "audio", "options": {"format": "mp3"}}},
        "image": {"summary": "a poster frame", "value": {
            "input": "https://example.com/video.mp4", "kind": "image",
            "options": {"start": 5, "format": "webp", "width": 640}}},
        "adaptive_video": {"summary": "an HLS ladder", "value": {
            "input": "https://example.com/video.mp4", "kind": "adaptive_video", "metadata": {"customer": "42"}}},
    },
    ("/tasks", "post"): {"probe": {"summary": "describe a file", "value": {
        "kind": "probe", "input": {"url": "https://example.com/video.mp4"}}}},
    ("/steps", "post"): {"probe": {"summary": "describe a file", "value": {
        "kind": "probe", "input": {"url": "https://example.com/video.mp4"}}}},
    ("/files", "post"): {"ingest": {"summary": "add a file by URL", "value": {
        "url": "https://example.com/video.mp4", "folder": "talks", "ref": "original"}}},
    ("/media", "post"): {"empty": {"summary": "an empty media item", "value": {"title": "Intro talk"}}},
    ("/automations", "post"): {"renditions": {"summary": "a small MP4 and a poster for every new media item",
                                              "value": {"name": "renditions",
                                                        "trigger": {"kind": "event", "event": "media.created"},
                                                        "workflow": [{"kind": "video", "ref": "small", "width": 640},
                                                                     {"kind": "image", "ref": "poster",
                                                                      "format": "jpeg", "width": 640}]}}},
    ("/signatures", "post"): {"upload": {"summary": "a URL to PUT a file to", "value": {
        "filename": "video.mp4", "folder": "talks", "method": "put"}}},
    ("/webhooks/endpoints", "post"): {"jobs": {"summary": "every job change, and failed tasks", "value": {
        "url": "https://example.com/webhooks/mediajet", "topics": ["job.*", "task.failed"],
        "description": "production receiver"}}},
    ("/connections", "post"): {"aws": {"summary": "an AWS S3 bucket's credentials", "value": {
        "kind": "s3", "name": "my-aws", "region": "us-east-1", "access_key_id": "AKIAIOSFODNN7EXAMPLE",
        "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}}},
}


class Resolver(APIGatewayHttpResolver):
    """Adds the request bodies the handlers read themselves to the generated document."""

    REQUEST_BODIES: ClassVar[dict[tuple[str, str], type[BaseModel]]] = {
        ("/jobs", "post"): JobCreateBody,
        ("/tasks", "post"): TaskCreateBody,
        ("/steps", "post"): StepCreateBody,
        ("/webhooks/endpoints", "post"): WebhookEndpointCreateBody,
        ("/webhooks/endpoints/{endpoint_id}", "patch"): WebhookEndpointUpdateBody,
    }
    PUBLIC_PATHS: ClassVar[tuple[str, ...]] = ("/health",)

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> OpenAPI:
        # Imported here: Powertools' OpenAPI models take longer to import than answering a request
        # does, and only /openapi.json and /docs need them.
        from aws_lambda_powertools.event_handler.openapi.models import RequestBody, Schema

        schema = super().get_openapi_schema(*args, **kwargs)
        components = schema.components.schemas if schema.components and schema.components.schemas is not None else {}
        for (path, method), model in self.REQUEST_BODIES.items():
            item = (schema.paths or {}).get(path)
            operation = getattr(item, method, None) if item is not None else None
            if operation is None:
                continue
            doc = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, sub in doc.pop("$defs", {}).items():
                components.setdefault(name, Schema.model_validate(sub))
            components[model.__name__] = Schema.model_validate(doc)
            operation.requestBody = RequestBody.model_validate({
                "required": True,
                "description": "JSON (any Content-Type is accepted, so `curl -d` works without -H)",
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"},
                                                 "examples": EXAMPLES.get((path, method), {})}},
            })
        for (path, method), examples in EXAMPLES.items():
            item = (schema.paths or {}).get(path)
            operation = getattr(item, method, None) if item is not None else None
            if operation is not None and operation.requestBody is None:  # the library's bodies: examples only
                operation.requestBody = RequestBody.model_validate({
                    "required": True, "description": "JSON",
                    "content": {"application/json": {"schema": {"type": "object"}, "examples": examples}}})
        for item in (schema.paths or {}).values():
            for method in ("get", "post", "patch", "delete"):
                operation = getattr(item, method, None)
                if operation is not None and operation.responses:
                    answer = operation.responses.get(422)
                    # bad requests are 400 {kind, message, field} here; a 422 a route documents itself stays
                    if method in ("get", "post") or "HTTPValidationError" in str(answer):
                        operation.responses.pop(422, None)
        for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
            components.pop(name, None)
        for path in self.PUBLIC_PATHS:
            item = (schema.paths or {}).get(path)
            if item is not None and item.get is not None:
                item.get.security = []
        if schema.components is not None:
            schema.components.schemas = components
        return schema
