"""The official `ittybit==1.0.0` Python SDK against a real `mediajet serve`: all 19 methods, with the sync and
the async client, each answer 2xx, and the raw JSON of every answer validates strictly against the SDK's own
response model (every field it marks required is there, not null, of its type; enum fields hold one of the
SDK's values). And the flow a user builds on it: an automation, an upload through a signed URL, the media item
it creates, the video and image the automation makes in it, then everything deleted, bytes included. The same
flow once more from node with `fetch`, as the TypeScript SDK (@ittybit/sdk 1.0.0) sends its requests (the SDK
itself is not installed here: tests use no registry).

The SDK parses answers without validating them (its models are "unchecked"), so a wrong field would only show
later in a user's code: hence the strict check here, on the raw JSON.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import subprocess
import time
import types
import typing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from ittybit import AsyncIttybit, Ittybit

from tests.e2e.conftest import API_KEY, Server
from tests.media import make_video

pytestmark = pytest.mark.slow

READY_TIMEOUT_S = 90


# --- strict validation of raw answers against the SDK's models ------------------------------------------


def strict(model: Any, data: Any, where: str = "answer") -> None:
    """`data` (raw JSON) as `model` (an SDK type: a pydantic model, a list of one, a Union or Literal)."""
    origin, args = typing.get_origin(model), typing.get_args(model)
    if origin in (typing.Union, types.UnionType):
        literals = [a for a in args if typing.get_origin(a) is typing.Literal]
        if literals:  # the SDK's enums: Union[Literal[...], Any]; "strictly" means one of the listed values
            allowed = {v for lit in literals for v in typing.get_args(lit)}
            assert data in allowed, f"{where}: {data!r} is none of {sorted(allowed)}"
            return
        choices = [a for a in args if a is not type(None)]
        errors = []
        for choice in choices:
            try:
                strict(choice, data, where)
                return
            except AssertionError as exc:
                errors.append(str(exc))
        raise AssertionError(f"{where}: matches none of {choices}: {errors}")
    if origin is typing.Literal:
        assert data in args, f"{where}: {data!r} is not {args}"
        return
    if origin in (list, typing.List):  # noqa: UP006 (the SDK spells it typing.List)
        assert isinstance(data, list), f"{where}: not a list: {data!r}"
        for n, item in enumerate(data):
            strict(args[0], item, f"{where}[{n}]")
        return
    if origin in (dict, typing.Dict):  # noqa: UP006
        assert isinstance(data, dict), f"{where}: not an object: {data!r}"
        return
    if isinstance(model, type) and hasattr(model, "model_fields"):
        assert isinstance(data, dict), f"{where}: not an object: {data!r}"
        for name, field in model.model_fields.items():
            key = field.alias or name
            if field.is_required():
                assert data.get(key) is not None, f"{where}.{key} is required by the SDK but missing or null"
            if data.get(key) is not None:
                strict(field.annotation, data[key], f"{where}.{key}")
        return
    scalar = {str: str, int: int, float: (int, float), bool: bool, dt.datetime: str}.get(model)
    if scalar is not None:
        assert isinstance(data, scalar) and not (model is not bool and isinstance(data, bool)), \
            f"{where}: {data!r} is not {model.__name__}"
        if model is dt.datetime:
            dt.datetime.fromisoformat(data)  # ISO 8601, `Z` included
        return
    assert model is typing.Any or model is object, f"{where}: no check for {model}"


def answer_model(method: Any) -> Any:
    """The SDK method's declared return type (the model its raw client parses the answer into)."""
    return typing.get_type_hints(method)["return"]


def checked(sdk_method: Any, /, *args: Any, **kwargs: Any) -> Any:
    """Call an SDK method through its raw client; check the status and the raw JSON; return the JSON."""
    method = sdk_method
    raw = getattr(method.__self__.with_raw_response, method.__name__)
    response = raw(*args, **kwargs)._response  # the SDK keeps the httpx response it parsed
    assert 200 <= response.status_code < 300, response.text
    body = response.json()
    strict(answer_model(method), body, method.__qualname__)
    return body


async def achecked(sdk_method: Any, /, *args: Any, **kwargs: Any) -> Any:
    method = sdk_method
    raw = getattr(method.__self__.with_raw_response, method.__name__)
    response = (await raw(*args, **kwargs))._response
    assert 200 <= response.status_code < 300, response.text
    body = response.json()
    strict(answer_model(method), body, method.__qualname__)
    return body


def wait_until(read: Any, ready: Any, what: str, server: Server) -> Any:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        value = read()
        if ready(value):
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} not reached in {READY_TIMEOUT_S} s: {value}\n{server.tail()}")


# --- the flow ---------------------------------------------------------------------------------------------


def test_upload_media_automation_and_delete_with_the_sync_client(server: Server, media_server: str,
                                                                 tmp_path: Path) -> None:
    client = Ittybit(api_key=API_KEY, base_url=server.url)

    # automations: create, list, get, update (the workflow runs on the next media item)
    auto = checked(client.automations.create, name="renditions", trigger={"kind": "event", "event": "media.created"},
                   workflow=[{"kind": "video", "ref": "small", "width": 160, "format": "mp4"},
                             {"kind": "image", "ref": "poster", "width": 160, "format": "jpeg"}])
    assert auto["id"].startswith("auto_") and auto["status"] == "active"
    assert [a["id"] for a in checked(client.automations.list, page=1, limit=10)] == [auto["id"]]
    assert checked(client.automations.get, auto["id"])["workflow"][1]["ref"] == "poster"
    renamed = checked(client.automations.update, auto["id"], description="a small mp4 and a poster")
    assert renamed["description"] == "a small mp4 and a poster" and renamed["name"] == "renditions"

    # signatures + upload: PUT the raw bytes to the signed URL (no API key), the answer is the File
    clip = make_video(tmp_path / "clip.mp4", seconds=1, size="320x240")
    sig = checked(client.signatures.create, filename="clip.mp4", folder="e2e/sdk", method="put")
    assert sig["url"].startswith(server.url) and sig["method"] == "put"
    with clip.open("rb") as body:
        put = requests.put(sig["url"], data=body, timeout=30)
    assert put.status_code == 201, put.text
    uploaded = put.json()
    strict(answer_model(client.files.get), uploaded, "upload")
    assert (uploaded["kind"], uploaded["width"], uploaded["height"], uploaded["status"]) == ("video", 320, 240, "ready")
    assert (uploaded["folder"], uploaded["filename"], uploaded["original"]) == ("e2e/sdk", "clip.mp4", True)
    assert requests.get(uploaded["url"], timeout=10).content == clip.read_bytes()  # its url downloads it
    again = requests.put(sig["url"], data=b"x", timeout=10)
    assert again.status_code == 409  # uploads never overwrite

    # the automation made a video and an image in the same media item
    media_id = uploaded["media_id"]

    def media() -> dict:
        return checked(client.media.get, media_id)

    done = wait_until(media, lambda m: {"small", "poster"} <= set(m["urls"]) and all(
        f["status"] in ("ready", "failed") for f in m["files"]), "the automation's files", server)
    refs = {f.get("ref"): f for f in done["files"]}
    assert refs["small"]["status"] == "ready" and refs["small"]["kind"] == "video" and refs["small"]["width"] == 160
    assert refs["poster"]["type"] == "image/jpeg" and refs["poster"]["width"] == 160
    assert done["urls"]["original"] == done["files"][0]["url"] and done["kind"] == "video"
    poster = requests.get(done["urls"]["poster"], headers={"Range": "bytes=0-1"}, timeout=10)
    assert poster.status_code == 206 and poster.content == b"\xff\xd8"  # a JPEG, through a Range request

    # tasks: the automation's tasks are listed; one more, from a library file
    listed = checked(client.tasks.list, page=1, limit=20)
    assert {t["options"].get("ref") for t in listed} >= {"small", "poster"}
    task = checked(client.tasks.create, request={"file_id": refs["small"]["id"], "kind": "image", "width": 80,
                                                 "format": "png", "ref": "tiny"})
    finished = wait_until(lambda: checked(client.tasks.get, task["id"]), lambda t: t["status"] in ("completed", "failed"),
                          "the task", server)
    assert finished["status"] == "completed" and finished["output"]["width"] == 80
    assert "tiny" in media()["urls"]  # a task on a library file adds its result to that file's media

    # pause, then delete the automation; delete the media item: its files and their bytes go with it
    assert checked(client.automations.update, auto["id"], status="paused")["status"] == "paused"
    checked(client.automations.delete, auto["id"])
    gone = checked(client.media.delete, media_id)
    assert "deleted" in gone["message"]
    assert requests.get(uploaded["url"], timeout=10).status_code == 404
    assert requests.get(f"{server.url}/files/{uploaded['id']}", headers={"Authorization": f"Bearer {API_KEY}",
                                                                       "Accept-Version": "2025-08-20"},
                        timeout=10).status_code == 404


def test_files_and_media_crud_with_the_sync_client(server: Server, media_server: str) -> None:
    client = Ittybit(api_key=API_KEY, base_url=server.url)
    media = checked(client.media.create, title="Interview", alt="a tone", metadata={"take": 3})
    assert media["id"].startswith("med_") and media["files"] == [] and media["urls"] == {}
    created = checked(client.files.create, url=f"{media_server}/interview.mp3", media_id=media["id"], folder="audio",
                      filename="interview.mp3", ref="original", metadata={"speaker": "Ada"})
    assert created["id"].startswith("file_") and created["media_id"] == media["id"]
    ready = wait_until(lambda: checked(client.files.get, created["id"]), lambda f: f["status"] != "processing",
                       "the ingest", server)
    assert (ready["status"], ready["kind"], ready["type"]) == ("ready", "audio", "audio/mpeg")
    assert ready["filesize"] > 1000 and ready["duration"] == pytest.approx(2, abs=0.2)
    assert requests.get(ready["url"], timeout=10).content[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")
    patched = checked(client.files.update, created["id"], filename="renamed.mp3", metadata={"speaker": "Grace"})
    assert (patched["filename"], patched["folder"], patched["metadata"]) == ("renamed.mp3", "audio", {"speaker": "Grace"})
    assert created["id"] in [f["id"] for f in checked(client.files.list, page=1, limit=100)]
    updated = checked(client.media.update, media["id"], title="Interview (edited)")
    assert updated["title"] == "Interview (edited)" and updated["metadata"] == {"take": 3}
    assert updated["duration"] == pytest.approx(2, abs=0.2) and updated["files"][0]["id"] == created["id"]
    assert media["id"] in [m["id"] for m in checked(client.media.list, page=1, limit=100)]
    stored = ready["url"]
    checked(client.files.delete, created["id"])
    assert requests.get(stored, timeout=10).status_code == 404  # the bytes went with it
    assert checked(client.media.get, media["id"])["files"] == []
    checked(client.media.delete, media["id"])


def test_every_method_with_the_async_client(server: Server, media_server: str) -> None:
    async def run() -> None:
        client = AsyncIttybit(api_key=API_KEY, base_url=server.url)
        auto = await achecked(client.automations.create, trigger={"kind": "event", "event": "media.created"},
                              workflow=[{"kind": "conditions", "conditions": [{"prop": "kind", "value": "audio"}],
                                         "next": [{"kind": "audio", "ref": "ogg", "format": "ogg"}]}],
                              status="paused")
        assert (await achecked(client.automations.get, auto["id"]))["status"] == "paused"
        assert auto["id"] in [a["id"] for a in await achecked(client.automations.list)]
        await achecked(client.automations.update, auto["id"], name="to ogg")
        await achecked(client.automations.delete, auto["id"])
        sig = await achecked(client.signatures.create, filename="a.mp4")
        assert sig["method"] == "get" and sig["expiry"] > time.time()
        media = await achecked(client.media.create, title="async")
        file = await achecked(client.files.create, url=f"{media_server}/upload.mov", media_id=media["id"])
        for _ in range(READY_TIMEOUT_S * 5):
            file = await achecked(client.files.get, file["id"])
            if file["status"] != "processing":
                break
            await asyncio.sleep(0.2)
        assert file["status"] == "ready" and file["kind"] == "video"
        await achecked(client.files.update, file["id"], ref="source")
        assert file["id"] in [f["id"] for f in await achecked(client.files.list, page=1, limit=100)]
        task = await achecked(client.tasks.create, request={"file_id": file["id"], "kind": "image", "format": "png",
                                                            "width": 64})
        assert (await achecked(client.tasks.get, task["id"]))["id"] == task["id"]
        assert task["id"] in [t["id"] for t in await achecked(client.tasks.list, page=1, limit=100)]
        await achecked(client.media.update, media["id"], alt="colour bars")
        assert media["id"] in [m["id"] for m in await achecked(client.media.list, page=1, limit=100)]
        source = (await achecked(client.media.get, media["id"]))["urls"]["source"]  # each answer signs anew
        assert urlsplit(source).path == urlsplit((await achecked(client.files.get, file["id"]))["url"]).path
        await achecked(client.files.delete, file["id"])
        await achecked(client.media.delete, media["id"])

    asyncio.run(run())


# --- the same flow from JavaScript: fetch, as the TypeScript SDK (@ittybit/sdk 1.0.0) sends it -------------

NODE_FLOW = """
const [base, key, clipPath] = process.argv.slice(2);
const fs = await import("node:fs");
// what @ittybit/sdk 1.0.0 sends on every call: the bearer key, JSON, and the version header
const headers = {"Authorization": `Bearer ${key}`, "Content-Type": "application/json", "Accept-Version": "2025-08-20"};
const call = async (method, path, body) => {
  const res = await fetch(base + path, {method, headers, body: body && JSON.stringify(body)});
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
};
const auto = await call("POST", "/automations", {trigger: {kind: "event", event: "media.created"},
  workflow: [{kind: "image", ref: "poster", format: "png", width: 100}]});
const sig = await call("POST", "/signatures", {filename: "from-node.mp4", folder: "js", method: "put"});
const put = await fetch(sig.url, {method: "PUT", body: fs.readFileSync(clipPath)});
const file = await put.json();
let media;
for (let n = 0; n < 300; n++) {
  media = await call("GET", `/media/${file.media_id}`);
  if (media.urls.poster) break;
  await new Promise(r => setTimeout(r, 200));
}
const poster = await fetch(media.urls.poster);
const png = new Uint8Array(await poster.arrayBuffer()).slice(1, 4);
await call("DELETE", `/automations/${auto.id}`);
const gone = await call("DELETE", `/media/${file.media_id}`);
console.log(JSON.stringify({put: put.status, kind: file.kind, refs: media.files.map(f => f.ref ?? null),
                            png: new TextDecoder().decode(png), gone: gone.message,
                            after: (await fetch(base + `/media/${file.media_id}`, {headers})).status}));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node (fetch)")
def test_the_flow_from_node_fetch(server: Server, tmp_path: Path) -> None:
    clip = make_video(tmp_path / "clip.mp4", seconds=1, size="320x240")
    script = tmp_path / "flow.mjs"
    script.write_text(NODE_FLOW)
    out = subprocess.run(["node", str(script), server.url, API_KEY, str(clip)], capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stderr + server.tail()
    result = json.loads(out.stdout)
    assert (result["put"], result["kind"], result["refs"], result["png"]) == (201, "video", [None, "poster"], "PNG")
    assert "deleted" in result["gone"] and result["after"] == 404
