"""Generated request bodies against POST /jobs and POST /tasks: whatever a client sends, the answer is
never a 5xx, and every error is `{kind, message}`."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.api_support import Api, make_api

OPTION_NAMES = ["format", "codec", "quality", "width", "height", "fit", "position", "background", "fps", "bitrate",
                "start", "end", "mute", "frames", "url", "connection_id"]
KINDS = ["video", "audio", "image", "animation", "adaptive_video", "probe", "import", "export"]
URLS = ["https://example.com/upload.mov", "http://127.0.0.1/a.mp4", "s3://bucket/key.mp4", "ftp://x/y", "file:///etc/passwd",
        "https://", "//example.com/a", "", "https://exa mple.com/a b.mp4", "https://[::1]:99999/x"]
OUTPUTS = ["s3://bucket/out/{filename}.{ext}", "s3://bucket/{id}/", "s3://bucket/{oops}", "s3://bucket", "s3:///key",
           "/local/path.mp4", "s3://bucket/a{b", "{date}", ""]

scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
option_values = (st.sampled_from(["mp4", "webm", "mov", "mp3", "ogg", "gif", "webp", "hls", "h264", "vp9", "av1",
                                  "high", "auto", "contain", "cover", "fill", "top_left", "#000000", "#fff", "50%",
                                  "0%", "101%", "12.5%", "720", "-1", "1e9"])
                 | st.integers(min_value=-10, max_value=70_000_000) | st.floats(allow_nan=False, allow_infinity=False)
                 | json_values)
options = st.dictionaries(st.sampled_from(OPTION_NAMES) | st.text(max_size=6), option_values, max_size=6)
job_bodies = st.fixed_dictionaries({}, optional={
    "input": st.sampled_from(URLS) | json_values,
    "kind": st.sampled_from(KINDS) | json_values,
    "options": options | json_values,
    "output": st.sampled_from(OUTPUTS) | json_values,
    "metadata": json_values,
    "webhook_url": st.sampled_from(URLS) | json_values,
    "quality": st.sampled_from(["high", "nope"]) | json_values,
})
task_bodies = st.fixed_dictionaries({}, optional={
    "kind": st.sampled_from(KINDS) | json_values,
    "input": st.fixed_dictionaries({}, optional={"url": st.sampled_from(URLS) | json_values,
                                                 "object": st.sampled_from(["file", "external_file", "x"])})
    | json_values,
    "options": options | json_values,
})


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Api:
    return make_api(tmp_path_factory.mktemp("fuzz"))


def check(api: Api, path: str, body: Any = None, raw: bytes | None = None, headers: dict | None = None) -> None:
    reply = api.call("POST", path, body, raw=raw, b64=raw is not None, headers=headers)
    assert reply.status < 500, reply.text
    data = reply.body
    if reply.status >= 400:
        assert isinstance(data["kind"], str) and data["kind"]
        assert isinstance(data["message"], str) and data["message"]
        assert set(data) <= {"kind", "message", "field"}
    else:
        assert reply.status == 201
        assert data["status"] in ("queued", "waiting")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=job_bodies | json_values)
def test_post_jobs_never_answers_5xx(api: Api, body: Any) -> None:
    check(api, "/jobs", body)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=task_bodies | json_values)
def test_post_tasks_never_answers_5xx(api: Api, body: Any) -> None:
    check(api, "/tasks", body)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=64) | st.text(max_size=64).map(str.encode), key=st.text(max_size=300))
def test_raw_bytes_and_odd_idempotency_keys_never_answer_5xx(api: Api, raw: bytes, key: str) -> None:
    check(api, "/jobs", raw=raw, headers={"Idempotency-Key": key})


@pytest.mark.parametrize("raw", [b'{"input": "https://e.com/\\ud800.mp4", "kind": "video"}',
                                 b'{"input": "https://e.com/a.mp4", "kind": "video", "metadata": {"\\udfff": 1}}',
                                 b"[" * 100_000 + b"]" * 100_000])
def test_pathological_json_is_a_400(tmp_path: Any, raw: bytes) -> None:
    api = make_api(tmp_path, max_body_bytes=1024 * 1024)
    reply = api.call("POST", "/jobs", raw=raw, b64=True, headers={"Idempotency-Key": "k"})
    assert reply.status == 400 and reply.body["kind"] == "request_invalid"
