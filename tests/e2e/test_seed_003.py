"""Seed 003 (API version 2025-08-20) against a real `mediajet serve`: the page's JavaScript example, run with
`node` unchanged but for the base URL, the key, the file id and the version header, turns an ingested video
into a 320-pixel PNG thumbnail.

The header: the example sends no `Accept-Version`. Ittybit answered a header-less request in its newest
version, which was 2025-08-20 when the page was written; in MediaJet the newest generation is the Jobs API,
so a header-less `POST /tasks` is a Jobs API task (seed 001) and this body is a 400 there. The `ittybit` SDK
always sends `Accept-Version: 2025-08-20`, so the test adds exactly that header, as a client of this version
must; the second test shows what the example gets without it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import API_KEY, Server
from tests.seeds import page
from tests.unit.test_wire_v2025 import same_shape, seed_example

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("node") is None, reason="needs node (fetch)")]

C = {"Accept-Version": "2025-08-20"}
C_FINAL = ("completed", "failed", "cancelled")


def seed_script() -> str:
    """The page's JavaScript, verbatim: from `const body` to the end of the `fetch(...)` call."""
    text = page(3)
    start = text.index("const body")
    end = text.index("\n})", start) + len("\n})")
    return text[start:end]


def run_node(script: str, tmp_path: Path) -> dict:
    path = tmp_path / "seed003.mjs"  # a module: the example awaits at the top level
    path.write_text(script + "\n;console.log(JSON.stringify({status: task.status, body: await task.json()}));\n")
    out = subprocess.run(["node", str(path)], check=False, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    print(out.stdout)
    return json.loads(out.stdout)


def c_wait(server: Server, task_id: str, timeout: float = 120) -> dict:
    session = server.session()
    deadline = time.monotonic() + timeout
    task: dict = {}
    while time.monotonic() < deadline:
        task = session.get(f"{server.url}/tasks/{task_id}", headers=C, timeout=10).json()
        if task["status"] in C_FINAL:
            return task
        time.sleep(0.2)
    raise AssertionError(f"task {task_id} did not finish in {timeout} s: {task}\n{server.tail()}")


def ingest(server: Server, media_server: str) -> dict:
    created = server.session().post(f"{server.url}/tasks", headers=C, timeout=10,
                                    json={"url": f"{media_server}/video.mp4", "kind": "ingest", "ref": "original"})
    assert created.status_code == 201, created.text
    assert created.json()["kind"] == "ingest" and created.json()["status"] == "pending"
    done = c_wait(server, created.json()["id"])
    assert done["status"] == "completed", (done, server.tail())
    return done["output"]


def test_seed_javascript_example_makes_a_320_px_png(server: Server, media_server: str, tmp_path: Path) -> None:
    source = ingest(server, media_server)
    assert source["id"].startswith("file_") and source["type"] == "video/mp4" and source["ref"] == "original"
    assert (source["width"], source["height"], source["status"]) == (640, 360, "ready")

    script = seed_script()
    assert "Accept-Version" not in script  # see the module docstring
    for seed, real in (("https://api.ittybit.com", server.url), ("ITTYBIT_API_KEY", API_KEY),
                       ("file_abcdefgh1234", source["id"]),
                       ('headers: { "Authorization"', 'headers: { "Accept-Version": "2025-08-20", "Authorization"')):
        assert script.count(seed) == 1, seed
        script = script.replace(seed, real)

    reply = run_node(script, tmp_path)
    assert reply["status"] == 201, reply
    task = reply["body"]
    _, seed_response = seed_example()
    same_shape(task, seed_response)
    assert task["kind"] == "image" and task["status"] == "pending" and task["output"] is None
    assert task["options"] == seed_response["options"]
    assert task["input"]["id"] == source["id"] and task["input"]["kind"] == "video"

    done = c_wait(server, task["id"])
    assert done["status"] == "completed", (done, server.tail())
    out = done["output"]
    assert out["id"] == "file_" + task["id"].removeprefix("task_") and out["type"] == "image/png"
    assert out["ref"] == "thumbnail" and (out["width"], out["height"]) == (320, 180)
    image = requests.get(out["url"], timeout=30)  # the signed link: no key
    assert image.status_code == 200
    (tmp_path / "thumb.png").write_bytes(image.content)
    from PIL import Image

    with Image.open(tmp_path / "thumb.png") as img:
        assert img.format == "PNG" and img.size == (320, 180)
    listed = server.session().get(f"{server.url}/tasks", headers=C, params={"limit": 2}, timeout=10).json()
    assert [t["id"] for t in listed][:1] == [task["id"]]
    # The SDK's client-level version option arrives as a header literally named ACCEPT_VERSION.
    underscored = server.session().get(f"{server.url}/tasks/{task['id']}", headers={"ACCEPT_VERSION": "latest"},
                                       timeout=10)
    assert underscored.status_code == 200 and underscored.json()["status"] == "completed"


def test_the_example_without_the_header_reaches_the_jobs_api(server: Server, tmp_path: Path) -> None:
    script = seed_script()
    for seed, real in (("https://api.ittybit.com", server.url), ("ITTYBIT_API_KEY", API_KEY)):
        script = script.replace(seed, real)
    reply = run_node(script, tmp_path)
    assert reply["status"] == 400 and reply["body"]["kind"] == "input_required"  # a Jobs API task needs `input`
    assert re.search(r"input", reply["body"]["message"])
