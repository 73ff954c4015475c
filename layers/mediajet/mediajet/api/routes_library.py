"""The media library's routes (version 2025-08-20, spec §6.2; what the `ittybit` SDK 1.0.0 calls): /files,
/media, /automations and /signatures. Only version 2025-08-20 has them, so they answer in its format whatever
`Accept-Version` says; errors follow the header (api/wire: `{message}` for 2025-08-20, `{kind, message}`
without one). The handlers are in api/library.py, imported on the first library request: a cold start that
serves /jobs does not pay for it."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path

from mediajet.api.deps import ApiDeps
from mediajet.api.openapi import ErrorBody, Resolver, route_doc
from mediajet.api.wire import WireContext

NOTE = " Version 2025-08-20 (the `ittybit` SDK): ISO `created`/`updated`; lists take `page` and `limit` (1-100)."


def _doc(summary: str, operation: str, tag: str, description: str, *codes: int) -> dict[str, Any]:
    doc = route_doc(summary, operation, tag, description + NOTE, *codes)
    if operation.startswith(("update", "delete")):
        # Powertools adds a 422 of its own validation model to PATCH and DELETE; ours answers {message} there too
        doc["responses"][422] = {"description": "a kind of step MediaJet does not run (automations)",
                                 "content": {"application/json": {"model": ErrorBody}}}
    return doc


def register(app: Resolver, deps: ApiDeps) -> None:
    def ctx() -> WireContext:
        return WireContext(deps, app.current_event)

    def library() -> Any:
        from mediajet.api import library as handlers

        return handlers

    @app.post("/files", **_doc("Create a file from a URL", "createFile", "files",
              "Ingests `url` (SSRF-guarded, probed, size-limited) into a media item (`media_id`, or a new one). "
              "Answers 201 with the file `processing`; it is `ready` once stored.", 400, 401, 404, 409, 413))
    def create_file():
        return library().create_file(ctx())

    @app.get("/files", **_doc("List files", "listFiles", "files", "Newest first, a bare array.", 400, 401))
    def list_files():
        return library().list_files(ctx())

    @app.get("/files/<file_id>", **_doc("Get a file", "getFile", "files", "`url` is a signed download link.",
             401, 404))
    def get_file(file_id: Annotated[str, Path()]):
        return library().get_file(ctx(), file_id)

    @app.patch("/files/<file_id>", **_doc("Update a file", "updateFile", "files",
               "Changes the given ones of folder, filename, ref and metadata.", 400, 401, 404))
    def update_file(file_id: Annotated[str, Path()]):
        return library().update_file(ctx(), file_id)

    @app.delete("/files/<file_id>", **_doc("Delete a file", "deleteFile", "files",
                "202: the file and its stored bytes are gone.", 401, 404))
    def delete_file(file_id: Annotated[str, Path()]):
        return library().delete_file_route(ctx(), file_id)

    @app.post("/media", **_doc("Create a media item", "createMedia", "media", "An empty media item "
              "(`title`, `alt`, `metadata`); add files with POST /files and its `media_id`.", 400, 401))
    def create_media():
        return library().create_media(ctx())

    @app.get("/media", **_doc("List media", "listMedia", "media", "Newest first, each with its files.", 400, 401))
    def list_media():
        return library().list_media(ctx())

    @app.get("/media/<media_id>", **_doc("Get a media item", "getMedia", "media",
             "Its `files` and `urls` (by ref).", 401, 404))
    def get_media(media_id: Annotated[str, Path()]):
        return library().get_media(ctx(), media_id)

    @app.patch("/media/<media_id>", **_doc("Update a media item", "updateMedia", "media",
               "Changes the given ones of title, alt and metadata.", 400, 401, 404))
    def update_media(media_id: Annotated[str, Path()]):
        return library().update_media(ctx(), media_id)

    @app.delete("/media/<media_id>", **_doc("Delete a media item", "deleteMedia", "media",
                "202: the media item, its files and their stored bytes are gone.", 401, 404))
    def delete_media(media_id: Annotated[str, Path()]):
        return library().delete_media(ctx(), media_id)

    @app.post("/automations", **_doc("Create an automation", "createAutomation", "automations",
              "`trigger` {kind: event, event: media.created} runs `workflow` (video, image, audio and conditions "
              "steps; `next` chains) on each new media item. Other step kinds are a 422.", 400, 401))
    def create_automation():
        return library().create_automation(ctx())

    @app.get("/automations", **_doc("List automations", "listAutomations", "automations", "Newest first.",
             400, 401))
    def list_automations():
        return library().list_automations(ctx())

    @app.get("/automations/<automation_id>", **_doc("Get an automation", "getAutomation", "automations", "",
             401, 404))
    def get_automation(automation_id: Annotated[str, Path()]):
        return library().get_automation(ctx(), automation_id)

    @app.patch("/automations/<automation_id>", **_doc("Update an automation", "updateAutomation", "automations",
               "Changes the given fields; a new workflow is checked as at create.", 400, 401, 404))
    def update_automation(automation_id: Annotated[str, Path()]):
        return library().update_automation(ctx(), automation_id)

    @app.delete("/automations/<automation_id>", **_doc("Delete an automation", "deleteAutomation", "automations",
                "202; tasks it started run on.", 401, 404))
    def delete_automation(automation_id: Annotated[str, Path()]):
        return library().delete_automation(ctx(), automation_id)

    @app.post("/signatures", **_doc("Sign an upload or download URL", "createSignature", "signatures",
              "`{filename, folder?, expiry? (Unix s, default in 1 h), method? (get | put)}` → a URL: PUT the raw "
              "bytes to a `put` URL to upload a file (answered with the File); GET a `get` URL to download it.",
              400, 401))
    def create_signature():
        return library().create_signature(ctx())
