"""Seed 004 (API version 2024-08-21) against a real `mediajet serve`: the page's curl and JavaScript examples,
run as the page writes them but for the base URL, the key, the ids and the input URL, plus one header:
`Accept-Version: 2024-08-21`. The page predates the header; without it MediaJet answers in the Jobs API
(generation A), which the last test shows. One created image task is followed to `ready` and its output
downloaded."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import shutil
import subprocess
import time
from typing import Any

import pytest
import requests
from PIL import Image

from tests.e2e.conftest import API_KEY, Server
from tests.unit.test_wire_v2024 import ISO, META_KEYS, seed_curls, seed_fetches, seed_responses

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("curl") is None or shutil.which("node") is None,
                                 reason="needs curl and node (20+: fetch)")]

SEED_BASE = "https://api.ittybit.com"
SEED_INPUT = "https://demo-files.ittybit.net/video.mp4"
SEED_ID = "tsk_abcdefgh1234"
HEADER = "Accept-Version: 2024-08-21"
D = {"Accept-Version": "2024-08-21"}


def swap(text: str, server: Server, media_server: str, task_id: str = SEED_ID) -> str:
    return (text.replace(SEED_BASE, server.url).replace(SEED_INPUT, f"{media_server}/video.mp4")
            .replace(SEED_ID, task_id))


def run_curl(command: str, server: Server, media_server: str, task_id: str = SEED_ID,
             header: bool = True) -> dict[str, Any]:
    argv = shlex.split(swap(command, server, media_server, task_id).replace("ITTYBIT_API_KEY", API_KEY))
    assert argv[0] == "curl"
    if header:
        argv += ["-H", HEADER]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True)
    return json.loads(out.stdout)


def run_fetch(snippet: str, server: Server, media_server: str, task_id: str = SEED_ID) -> dict[str, Any]:
    """The page flattens the example onto one line: each `const` starts a statement again. The key is the
    literal placeholder in one example and a variable in the others: both get the test key."""
    code = swap(snippet, server, media_server, task_id).replace("'Bearer ITTYBIT_API_KEY'", f"'Bearer {API_KEY}'")
    code = re.sub(r"\s(?=const )", "\n", code)
    code, added = re.subn(r"headers: \{", f"headers: {{ 'Accept-Version': '{HEADER.split(': ')[1]}',", code)
    assert added == 1, code
    script = ("const ITTYBIT_API_KEY = process.env.ITTYBIT_API_KEY;\n" + code
              + "\nconsole.log(JSON.stringify({ status: response.status, body: await response.json() }));\n")
    out = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=30,
                         check=False, env={**os.environ, "ITTYBIT_API_KEY": API_KEY})
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["status"] == answer["body"]["meta"]["status"]
    return answer["body"]


def assert_envelope(answer: dict[str, Any], seed: dict[str, Any], server: Server, method: str, path: str,
                    kind: str) -> None:
    assert set(answer) == set(seed) and set(answer["meta"]) == set(seed["meta"]) >= META_KEYS
    meta = answer["meta"]
    assert meta["id"].startswith("req_") and meta["project_id"] == "prj_default"
    assert (meta["method"], meta["host"], meta["path"]) == (method, server.url, path)
    assert (meta["version"], meta["status"], meta["type"]) == ("2024-08-21", 200, kind)
    assert set(answer["links"]) == set(seed["links"])


def assert_task(data: dict[str, Any], seed_data: dict[str, Any]) -> None:
    assert set(data) == set(seed_data)
    assert data["id"].startswith("tsk_") and data["object"] == "task" and data["input"].startswith("med_")
    assert {"id", "object", "kind"} <= set(data["output"]) and data["output"]["kind"] == "image"
    assert data["status"] in ("waiting", "processing", "ready", "error")
    assert ISO.fullmatch(data["created"]) and ISO.fullmatch(data["updated"])


def wait_ready(server: Server, task_id: str, timeout: float = 120) -> dict[str, Any]:
    session = server.session()
    deadline = time.monotonic() + timeout
    data: dict[str, Any] = {}
    while time.monotonic() < deadline:
        data = session.get(f"{server.url}/tasks/{task_id}", headers=D, timeout=10).json()["data"]
        if data["status"] in ("ready", "error"):
            return data
        time.sleep(0.2)
    raise AssertionError(f"task {task_id} did not finish in {timeout} s: {data}\n{server.tail()}")


def test_the_seed_examples_create_view_and_list(server: Server, media_server: str) -> None:
    curls, fetches, seeds = seed_curls(), seed_fetches(), seed_responses()
    assert len(curls) == len(fetches) == 3
    created = []
    for make in (lambda: run_curl(curls[0], server, media_server), lambda: run_fetch(fetches[0], server, media_server)):
        answer = make()
        assert_envelope(answer, seeds[0], server, "POST", "/tasks", "object")
        assert_task(answer["data"], seeds[0]["data"])
        assert answer["data"]["output"]["format"] == "jpeg"
        assert answer["links"] == {"self": f"{server.url}/tasks/{answer['data']['id']}",
                                   "parent": f"{server.url}/tasks"}
        created.append(answer["data"])

    for task in created:
        for view in (run_curl(curls[1], server, media_server, task["id"]),
                     run_fetch(fetches[1], server, media_server, task["id"])):
            assert_envelope(view, seeds[1], server, "GET", f"/tasks/{task['id']}", "object")
            assert_task(view["data"], seeds[1]["data"])
            assert view["data"]["id"] == task["id"] and view["data"]["created"] == task["created"]
        followed = server.session().get(view["links"]["self"], headers=D, timeout=10).json()
        assert followed["data"]["id"] == task["id"]

    for listed in (run_curl(curls[2], server, media_server), run_fetch(fetches[2], server, media_server)):
        assert_envelope(listed, seeds[2], server, "GET", "/tasks", "list")
        meta = listed["meta"]
        assert meta["limit"] == 12 and meta["page"] == 1 and meta["total"] >= 2
        assert meta["pages"] == -(-meta["total"] // 12) and listed["links"]["prev"] is None
        ids = [t["id"] for t in listed["data"]]
        assert ids[:2] == [created[1]["id"], created[0]["id"]]  # newest first
        for data in listed["data"]:
            assert set(data) >= {"id", "object", "input", "output", "status", "created", "updated"}

    ready = wait_ready(server, created[0]["id"])
    assert ready["status"] == "ready", ready.get("error")
    output = ready["output"]
    assert output["id"] == "file_" + created[0]["id"].removeprefix("tsk_") and output["object"] == "source"
    assert (output["kind"], output["format"], output["type"]) == ("image", "jpeg", "image/jpeg")
    assert ISO.fullmatch(output["created"]) and output["url"].startswith(server.url)
    got = requests.get(output["url"], timeout=30)
    assert got.status_code == 200 and got.content[:2] == b"\xff\xd8"  # a JPEG
    assert len(got.content) == output["filesize"]
    with Image.open(io.BytesIO(got.content)) as picture:
        assert picture.size == (output["width"], output["height"]) == (640, 360)


def test_a_named_and_sized_image_task_finishes_with_its_filename(server: Server, media_server: str) -> None:
    reply = server.session().post(f"{server.url}/tasks", headers=D, timeout=10, json={
        "url": f"{media_server}/video.mp4", "kind": "image", "filename": "poster.jpg", "width": 320})
    assert reply.status_code == 200, reply.text
    asked = reply.json()["data"]["output"]
    assert {k: asked[k] for k in ("kind", "filename", "width")} == {"kind": "image", "filename": "poster.jpg",
                                                                     "width": 320}
    ready = wait_ready(server, reply.json()["data"]["id"])
    assert ready["status"] == "ready", ready.get("error")
    assert (ready["output"]["filename"], ready["output"]["width"], ready["output"]["height"]) == ("poster.jpg", 320,
                                                                                                  180)
    got = requests.get(ready["output"]["url"], timeout=30)
    with Image.open(io.BytesIO(got.content)) as picture:
        assert picture.size == (320, 180)


def test_a_list_of_more_than_a_page_is_followed_through_its_links(server: Server, media_server: str) -> None:
    session = server.session()
    for _ in range(13):
        reply = session.post(f"{server.url}/tasks", headers=D, timeout=10,
                             json={"url": f"{media_server}/interview.mp3", "format": "wav"})
        assert reply.status_code == 200, reply.text
    link: str | None = f"{server.url}/tasks?kind=audio&limit=5"
    seen: list[str] = []
    total = None
    while link:
        answer = session.get(link, headers=D, timeout=10).json()
        total = answer["meta"]["total"]
        seen += [t["id"] for t in answer["data"]]
        link = answer["links"]["next"]
    assert total is not None and len(seen) == len(set(seen)) == total >= 13


def test_without_the_header_the_seed_create_example_reaches_the_jobs_api(server: Server, media_server: str) -> None:
    answer = run_curl(seed_curls()[0], server, media_server, header=False)
    assert set(answer) >= {"kind", "message"} and "meta" not in answer  # gen A's error: the body has no `input`
