"""Seed 000 ("Create Step", generation B): the page's compose example, probe then encode with the probe's
output as input, in each of its three languages (curl under bash, JavaScript under node, Python under this
test's interpreter, the venv's), against a real `mediajet serve`.

The code is the page's own, cut out of `tests.seeds.page(0)`. Only three things change: the base URL
(https://api.ittybit.com → the server), the key (`$KEY`, `process.env.ITTYBIT_API_KEY` and `api_key` are given
the test key through the environment or a variable) and the input (https://example.com/video.mp4 → wide.mp4
from the media server: 960x540, so the example's `width: 720` is a downscale; MediaJet never upscales a lone
width, and video.mp4 is only 640 wide).

The page posts the encode right after the probe's 201, while the probe's `output` is still null; MediaJet
answers that with a 400 input_required (last test). What the page means is: probe, and once the probe step
has succeeded, encode its output. So each example runs in two parts, split at its `# 2.` / `// 2.` comment:
part 1, then GET /steps/{id} until the probe succeeded, then part 2 with the finished probe in the page's
variable (`probeResult`, `probe_result`) or, for curl, its output's JSON in place of `<probe_output>`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import API_KEY, Server
from tests.e2e.test_serve import ffprobe_json
from tests.seeds import page

pytestmark = pytest.mark.slow

PAGE = page(0)
BASE_URL = "https://api.ittybit.com"
INPUT_URL = "https://example.com/video.mp4"
INPUT_NAME = "wide.mp4"  # 960x540, 2 s: wider than the 720 px the example asks for
WIDTH = 720  # the page's options.width


def block(first_line: str, last_line_start: str) -> str:
    """The page's code from the line `first_line` starts to the end of the line that `last_line_start` starts."""
    begin = PAGE.index(first_line)
    end = PAGE.index("\n", PAGE.index("\n" + last_line_start, begin) + 1)
    return PAGE[begin:end + 1]


CURL = block("# 1. Probe\ncurl", "  -d '{\"kind\": \"video\"")
JAVASCRIPT = block("// 1. Probe", "const encodeResult")
PYTHON = block("import requests", "encode_result =")


def adapted(code: str, server: Server, media_server: str) -> str:
    """The base URL and the input URL replaced; each must occur, so a changed page fails here, loudly."""
    assert BASE_URL in code and INPUT_URL in code, code
    return code.replace(BASE_URL, server.url).replace(INPUT_URL, f"{media_server}/{INPUT_NAME}")


def parts(code: str, marker: str) -> tuple[str, str]:
    """The code up to the step-2 comment (the probe, with anything before it) and from it on (the encode)."""
    head, tail = code.split(marker, 1)
    return head, marker + tail


def probe_created(body: dict[str, Any], media_server: str) -> str:
    assert body["object"] == "step" and body["kind"] == "probe" and body["status"] == "waiting", body
    assert body["id"].startswith("step_") and body["output"] is None
    assert body["input"] == {"object": "external_file", "url": f"{media_server}/{INPUT_NAME}"}
    return body["id"]


def probe_finished(server: Server, step_id: str) -> dict[str, Any]:
    step = server.wait(step_id, path="steps")
    assert step["status"] == "succeeded", (step["error"], server.tail())
    source = step["output"]
    assert source["object"] == "source" and source["kind"] == "video", source
    assert (source["width"], source["height"], source["codecs"]["video"]) == (960, 540, "h264")
    return step


def encode_downloads_at_720(server: Server, body: dict[str, Any], tmp_path: Path) -> None:
    assert body["object"] == "step" and body["kind"] == "video" and body["status"] == "waiting", body
    assert body["input"]["object"] == "source" and body["options"] == {"width": WIDTH}
    step = server.wait(body["id"], path="steps")
    assert step["status"] == "succeeded", (step["error"], server.tail())
    assert step["output"]["object"] == "source" and step["output"]["width"] == WIDTH
    resp = requests.get(step["output"]["url"], timeout=30)  # a signed link: no API key
    assert resp.status_code == 200, resp.text
    out = tmp_path / "encoded.mp4"
    out.write_bytes(resp.content)
    video = next(s for s in ffprobe_json(out)["streams"] if s["codec_type"] == "video")
    assert (video["codec_name"], video["width"]) == ("h264", WIDTH)
    assert abs(video["height"] - WIDTH * 540 / 960) <= 2  # the aspect ratio kept, rounded to even


PRINT_PROBE = '\nimport json\nprint(json.dumps({"status": probe.status_code, "body": probe_result}))\n'
PRINT_ENCODE = '\nimport json\nprint(json.dumps({"status": encode.status_code, "body": encode_result}))\n'


def run(argv: list[str], env: dict[str, str]) -> str:
    out = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=60, env={**os.environ, **env})
    assert out.returncode == 0, (out.returncode, out.stdout, out.stderr)
    return out.stdout


def test_the_page_has_the_three_examples_with_a_step_2_each() -> None:
    assert CURL.count("curl ") == 2 and "<probe_output>" in CURL
    assert JAVASCRIPT.count("await fetch(") == 2 and "input: probeResult.output" in JAVASCRIPT
    assert PYTHON.count("requests.post(") == 2 and '"input": probe_result["output"]' in PYTHON
    for code, marker in ((CURL, "# 2."), (JAVASCRIPT, "// 2."), (PYTHON, "# 2.")):
        assert code.count(marker) == 1, code


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_curl_example(server: Server, media_server: str, tmp_path: Path) -> None:
    probe, encode = parts(adapted(CURL, server, media_server), "# 2.")
    step = probe_created(json.loads(run(["bash", "-c", probe], {"KEY": API_KEY})), media_server)

    source = json.dumps(probe_finished(server, step)["output"])
    assert "'" not in source  # it goes inside the page's single-quoted -d '…'
    encode = encode.replace("<probe_output>", source)
    encode_downloads_at_720(server, json.loads(run(["bash", "-c", encode], {"KEY": API_KEY})), tmp_path)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node (v18+, for global fetch)")
def test_javascript_example(server: Server, media_server: str, tmp_path: Path) -> None:
    probe, encode = parts(adapted(JAVASCRIPT, server, media_server), "// 2.")
    env = {"ITTYBIT_API_KEY": API_KEY}
    # .mjs: the page's top-level `await` needs an ES module. Each part prints what it got.
    part1 = tmp_path / "probe.mjs"
    part1.write_text(probe + "\nconsole.log(JSON.stringify({status: probe.status, body: probeResult}));\n")
    got = json.loads(run(["node", str(part1)], env))
    assert got["status"] == 201, got
    step = probe_created(got["body"], media_server)

    finished = probe_finished(server, step)
    part2 = tmp_path / "encode.mjs"
    part2.write_text(f"const probeResult = {json.dumps(finished)};\n" + encode
                     + "\nconsole.log(JSON.stringify({status: encode.status, body: encodeResult}));\n")
    got = json.loads(run(["node", str(part2)], env))
    assert got["status"] == 201, got
    encode_downloads_at_720(server, got["body"], tmp_path)


def python(script: Path, code: str) -> dict[str, Any]:
    """`code` under this test's Python (the venv's: it has requests), with the key in the page's `api_key`;
    it prints `{"status", "body"}` of the page's last request."""
    script.write_text(f"api_key = {API_KEY!r}\n" + code)
    return json.loads(run([sys.executable, str(script)], {}))


def test_python_example(server: Server, media_server: str, tmp_path: Path) -> None:
    setup_and_probe, encode = parts(adapted(PYTHON, server, media_server), "# 2.")
    setup = setup_and_probe[:setup_and_probe.index("# 1.")]  # the page's import and headers
    got = python(tmp_path / "probe.py", setup_and_probe + PRINT_PROBE)
    assert got["status"] == 201, got
    step = probe_created(got["body"], media_server)

    finished = probe_finished(server, step)
    given = f"import json\nprobe_result = json.loads({json.dumps(finished)!r})\n"
    got = python(tmp_path / "encode.py", setup + given + encode + PRINT_ENCODE)
    assert got["status"] == 201, got
    encode_downloads_at_720(server, got["body"], tmp_path)


def test_run_straight_through_the_encode_is_refused_while_the_probe_has_no_output(
        server: Server, media_server: str, tmp_path: Path) -> None:
    """The page's Python as it stands: the encode goes out with the probe's 201, whose `output` is null."""
    got = python(tmp_path / "both.py", adapted(PYTHON, server, media_server) + PRINT_ENCODE)
    assert got["status"] == 400
    error = got["body"]
    assert (error["kind"], error["field"]) == ("input_required", "input")
    assert "GET /steps/{id}" in error["message"] and "succeeded" in error["message"]
