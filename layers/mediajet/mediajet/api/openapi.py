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
from pydantic import BaseModel, Field

from mediajet.models.file import File
from mediajet.models.job import JobKind, TaskKind
from mediajet.models.options import (
    AdaptiveOptions,
    AnimationOptions,
    AudioOptions,
    ImageOptions,
    VideoOptions,
)

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


class ErrorBody(BaseModel):
    kind: str = Field(description="snake_case error kind, e.g. input_required, job_not_found",
                      examples=["input_required"])
    message: str = Field(description="what went wrong and how to fix it")
    field: str | None = Field(default=None, description="the request field at fault, when there is one")


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str


class JobCreateBody(BaseModel):
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
    connection_id: str | None = Field(default=None, description="storage connection for s3:// input and output")


class TaskCreateBody(BaseModel):
    kind: TaskKind
    input: File | dict[str, Any] = Field(
        description="probe/import: `{\"url\": ...}`; other kinds: a File object from an earlier task",
        examples=[{"url": "https://example.com/video.mp4"}])
    options: dict[str, Any] | None = Field(
        default=None, description="encoding kinds: the options of POST /jobs for that kind; "
        "export: `{\"url\": \"s3://bucket/key\", \"connection_id\": ...}`")


StepKind = Literal["probe", "ingest", "video", "audio", "image", "adaptive_video", "upload"]


class StepCreateBody(BaseModel):
    kind: StepKind
    input: dict[str, Any] = Field(
        description="probe/ingest: `{\"url\": ...}` (http, https or s3); video/audio/image/adaptive_video/upload: "
        "a Source object, the `output` of a succeeded probe step (`null` is a 400 input_required)",
        examples=[{"url": "https://example.com/video.mp4"}])
    options: dict[str, Any] | None = Field(
        default=None, description="encoding kinds: the options of POST /jobs for that kind; upload: "
        "`{\"url\": \"s3://bucket/key\", \"connection_id\": \"conn_…\"}` (connection_id optional, kept as sent)")


def error_responses(*codes: int) -> dict[int, dict[str, Any]]:
    text = {400: "invalid request (kind names the problem, field the culprit)", 401: "token_missing or token_invalid",
            404: "not found", 405: "method_not_allowed", 409: "conflict", 413: "payload_too_large"}
    return {code: {"description": text[code], "content": {"application/json": {"model": ErrorBody}}}
            for code in codes}


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
}


class Resolver(APIGatewayHttpResolver):
    """Adds the request bodies the handlers read themselves to the generated document."""

    REQUEST_BODIES: ClassVar[dict[tuple[str, str], type[BaseModel]]] = {
        ("/jobs", "post"): JobCreateBody,
        ("/tasks", "post"): TaskCreateBody,
        ("/steps", "post"): StepCreateBody,
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
            for method in ("get", "post"):
                operation = getattr(item, method, None)
                if operation is not None and operation.responses:
                    operation.responses.pop(422, None)  # bad requests are 400 {kind, message, field} here
        for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
            components.pop(name, None)
        for path in self.PUBLIC_PATHS:
            item = (schema.paths or {}).get(path)
            if item is not None and item.get is not None:
                item.get.security = []
        if schema.components is not None:
            schema.components.schemas = components
        return schema
