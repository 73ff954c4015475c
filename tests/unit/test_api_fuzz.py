"""Generated request bodies against POST /jobs and POST /tasks: whatever a client sends, the answer is
never a 5xx, and every error is `{kind, message}`. What is accepted reads back (get, list, and a restart's
`active_*`); after what is refused, the server still lists its jobs."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mediajet.store.sqlite import SqliteJobStore
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
        assert api.call("GET", "/jobs").status == 200
    else:
        assert reply.status == 201
        assert data["status"] in ("queued", "waiting")
        reads_back(api, path, data)


def reads_back(api: Api, path: str, created: dict[str, Any]) -> None:
    """create → get → list → restart: a stored record is always readable."""
    got = api.call("GET", f"{path}/{created['id']}")
    assert got.status == 200 and got.body == created, got.text
    listing = api.call("GET", "/jobs")
    assert listing.status == 200
    if path == "/jobs":
        assert listing.body[0] == created  # the newest job
    restarted = SqliteJobStore(api.store.path)
    try:
        active = restarted.active_jobs() if path == "/jobs" else restarted.active_tasks()
        assert created["id"] in {record.id for record in active}
        assert not restarted.quarantined
    finally:
        restarted.close()


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


# --- the shapes that found the unbounded-body bugs ---------------------------------------------------------

JOB_SLOTS = ['{"input":"https://e.com/a.mp4","kind":"video","metadata":%s}',
             '{"input":"https://e.com/a.mp4","kind":"video","metadata":{"k":%s}}',
             '{"input":"https://e.com/a.mp4","kind":"video","options":%s}',
             '{"input":"https://e.com/a.mp4","kind":"audio","options":{"end":%s}}',
             '{"input":"https://e.com/a.mp4","kind":"video","options":{"width":%s,"fps":%s}}',
             '{"input":%s,"kind":"video"}', '{"input":"https://e.com/a.mp4","kind":"video","extra":%s}', "%s"]
TASK_SLOTS = ['{"kind":"probe","input":{"url":"https://e.com/a.mp4","x":%s}}', '{"kind":"probe","input":%s}',
              '{"kind":"import","input":{"url":"https://e.com/a.mp4"},"options":{"x":%s}}',
              '{"kind":"export","input":{"url":"https://e.com/a.mp4","codecs":%s},"options":{"url":"s3://b/k"}}',
              '{"kind":"audio","input":{"url":"https://e.com/a.mp4"},"options":{"start":%s}}']
OTHER_DIGITS = "٠١٢٣٤٥٦٧٨٩۰۱۲۳０１２３４５６７８９०१२३²³¹½"


def fill(slot: str, value: str) -> str:
    return slot.replace("%s", value)


def nest(depth: int, array: bool, leaf: str) -> str:
    return "[" * depth + leaf + "]" * depth if array else '{"a":' * depth + leaf + "}" * depth


deep_values = st.builds(nest, st.integers(min_value=30, max_value=5000), st.booleans(),
                        st.sampled_from(["1", '"x"', "null", "{}", "[]"]))
huge_numbers = (st.builds(lambda sign, digits, count: sign + "1" + digits * count, st.sampled_from(["", "-"]),
                          st.sampled_from("0123456789"), st.integers(min_value=15, max_value=5000))
                | st.sampled_from(["1e400", "-1e400", "1e300", "1e-300", "1e-400", "9007199254740991",
                                   "9007199254740992", "123456789012345678901234567890.5", "0e999999", "-0.0",
                                   "1E+308", "4.9e-324"]))
other_digit_text = st.text(alphabet=st.sampled_from(OTHER_DIGITS + "0123456789.%-e"), min_size=1, max_size=8)
other_digit_values = (other_digit_text.map(lambda text: f'"{text}"')  # as strings: valid JSON
                      | other_digit_text)  # as bare numbers: not JSON
metadata_keys = st.text(max_size=45) | st.text(alphabet=st.sampled_from(OTHER_DIGITS + "abc"), max_size=41)
metadata_values = (st.none() | st.booleans() | st.integers(min_value=-(2**60), max_value=2**60)
                   | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=520)
                   | st.builds(lambda char, count: char * count, st.sampled_from("xé😀\n"),
                               st.integers(min_value=490, max_value=510)))
huge_metadata = (st.dictionaries(metadata_keys, metadata_values, min_size=40, max_size=55)
                 | st.builds(lambda count, key, size, char: {f"{i}".ljust(key, "k"): char * size for i in range(count)},
                             st.integers(min_value=45, max_value=52), st.integers(min_value=30, max_value=42),
                             st.integers(min_value=480, max_value=520), st.sampled_from("x😀")))


@pytest.fixture(scope="module")
def roomy_api(tmp_path_factory: pytest.TempPathFactory) -> Api:
    """A body limit large enough that the shape limits, not the size limit, answer."""
    return make_api(tmp_path_factory.mktemp("fuzz-shapes"), max_body_bytes=4 * 1024 * 1024)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(slot=st.sampled_from(JOB_SLOTS), value=deep_values)
def test_deep_nesting_in_a_job_is_a_4xx(roomy_api: Api, slot: str, value: str) -> None:
    check(roomy_api, "/jobs", raw=fill(slot, value).encode())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(slot=st.sampled_from(TASK_SLOTS), value=deep_values)
def test_deep_nesting_in_a_task_is_a_4xx(roomy_api: Api, slot: str, value: str) -> None:
    check(roomy_api, "/tasks", raw=fill(slot, value).encode())


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(slot=st.sampled_from(JOB_SLOTS + TASK_SLOTS), value=huge_numbers | other_digit_values)
def test_huge_numbers_and_other_digits_never_answer_5xx(roomy_api: Api, slot: str, value: str) -> None:
    check(roomy_api, "/jobs" if slot in JOB_SLOTS else "/tasks", raw=fill(slot, value).encode())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(metadata=huge_metadata)
def test_huge_metadata_is_refused_or_reads_back(roomy_api: Api, metadata: dict[str, Any]) -> None:
    check(roomy_api, "/jobs", {"input": "https://e.com/a.mp4", "kind": "video", "metadata": metadata})


flat_metadata = st.dictionaries(st.text(min_size=1, max_size=40), metadata_values, max_size=8)
plausible_jobs = st.fixed_dictionaries(
    {"input": st.sampled_from(URLS[:3]), "kind": st.sampled_from(KINDS[:5])},
    optional={"options": options, "metadata": flat_metadata, "output": st.sampled_from(OUTPUTS[:2])})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=plausible_jobs)
def test_plausible_jobs_are_refused_or_read_back(roomy_api: Api, body: dict[str, Any]) -> None:
    check(roomy_api, "/jobs", body)
