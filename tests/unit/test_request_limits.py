"""Bounded request data, checked before anything is stored (README "Limits").

Each reported bug is reproduced as it was found: deep `metadata` that was accepted and then broke every list
and the next start, 1 MB metadata that made 100 MB list pages, `end: 1e300` and `end: 1e-9` that failed jobs
instead of their requests, a newline in `background` that reached ffmpeg's filter graph. Every accepted body
must read back: create → get → list → restart."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from mediajet.api.body import MAX_DEPTH, check_shape
from mediajet.api.jobs import PAGE_BUDGET_BYTES, fit_page
from mediajet.errors import InvalidRequest
from mediajet.models.job import Job
from mediajet.store.base import JobPage, JobQuery
from mediajet.store.sqlite import SqliteJobStore
from tests.unit.api_support import Api, Reply, make_api

VIDEO = {"input": "https://example.com/upload.mov", "kind": "video"}


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return make_api(tmp_path)


def nested_json(depth: int, leaf: str = "1", *, array: bool = False) -> str:
    return ("[" * depth + leaf + "]" * depth) if array else ('{"a":' * depth + leaf + "}" * depth)


def post_raw(api: Api, path: str, text: str) -> Reply:
    return api.call("POST", path, raw=text.encode(), b64=True)


def assert_400(reply: Reply, kind: str, field: str) -> dict[str, Any]:
    assert reply.status == 400, reply.text
    body = reply.body
    assert (body["kind"], body.get("field")) == (kind, field), body
    assert set(body) == {"kind", "message", "field"} and len(reply.text) < 1000
    return body


def assert_nothing_stored_and_still_readable(api: Api, tmp_path: Path) -> None:
    assert api.orchestrator.calls == []
    listing = api.call("GET", "/jobs")
    assert listing.status == 200 and listing.body == []
    restarted = SqliteJobStore(tmp_path / "api.db")
    assert restarted.active_jobs() == [] and restarted.active_tasks() == []
    restarted.close()


# --- 1. deep nesting ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [33, 200, 256, 990, 5000])
def test_deeply_nested_metadata_is_refused_and_the_server_stays_up(api: Api, tmp_path: Path, depth: int) -> None:
    """Was: 201 at depth 200, then GET /jobs 500 and no restart; a 500 on the POST at 256-990."""
    reply = post_raw(api, "/jobs", '{"input":"https://e.com/a.mp4","kind":"video","metadata":'
                                   + nested_json(depth) + "}")
    assert reply.status == 400, reply.text
    # json.loads itself gives up on the deepest ones (how deep depends on the stack): the body is at fault
    assert reply.body["field"] in ("metadata", "body") and reply.body["kind"] == "request_invalid"
    assert f"more than {MAX_DEPTH} levels" in reply.body["message"]
    assert_nothing_stored_and_still_readable(api, tmp_path)


@pytest.mark.parametrize("array", [False, True])
def test_deeply_nested_task_input_is_refused(api: Api, tmp_path: Path, array: bool) -> None:
    reply = post_raw(api, "/tasks", '{"kind":"probe","input":{"url":"https://e.com/a.mp4","x":'
                                    + nested_json(200, array=array) + "}}")
    assert_400(reply, "invalid_input", "input")
    assert_nothing_stored_and_still_readable(api, tmp_path)


def test_the_depth_limit_is_exactly_32_levels(api: Api) -> None:
    # The body is level 1, metadata level 2, so 30 objects under "k" reach level 32 and pass the body check
    # (metadata's own rule then refuses objects); 31 are one level too many.
    at_limit = post_raw(api, "/jobs", '{"input":"https://e.com/a.mp4","kind":"video","metadata":{"k":'
                                      + nested_json(30) + "}}")
    assert "levels" not in assert_400(at_limit, "request_invalid", "metadata.k")["message"]
    over = post_raw(api, "/jobs", '{"input":"https://e.com/a.mp4","kind":"video","metadata":{"k":'
                                  + nested_json(31) + "}}")
    assert "more than 32 levels" in assert_400(over, "request_invalid", "metadata")["message"]


def test_the_depth_check_does_not_recurse() -> None:
    deep: Any = 1
    for _ in range(100_000):  # far past Python's recursion limit
        deep = [deep]
    with pytest.raises(InvalidRequest, match="more than 32 levels"):
        check_shape({"metadata": deep})


def test_an_options_object_nested_deep_keeps_the_option_kind(api: Api) -> None:
    reply = post_raw(api, "/jobs", '{"input":"https://e.com/a.mp4","kind":"video","options":' + nested_json(40) + "}")
    assert_400(reply, "invalid_option", "options")


# --- numbers --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("literal", "why"), [("1" * 5000, "out of range"), ("1" * 4301, "out of range"),
                                              ("9007199254740992", "out of range"), ("-1e300", "out of range"),
                                              ("1e400", "out of range"), ("1e-300", "too close to zero")])
def test_numbers_out_of_range_are_refused_with_their_field(api: Api, literal: str, why: str) -> None:
    """5000 digits used to hit int()'s 4300-digit limit; 1e400 used to be 'not valid JSON'."""
    reply = post_raw(api, "/jobs", '{"input":"https://e.com/a.mp4","kind":"video","metadata":{"n":' + literal + "}}")
    assert why in assert_400(reply, "request_invalid", "metadata.n")["message"]


@pytest.mark.parametrize("text", ['{"input":"https://e.com/a.mp4","kind":"video","metadata":{"n":١٢٣}}',
                                  '{"input":"https://e.com/a.mp4","kind":"video","metadata":{"n":1٢}}'])
def test_non_ascii_digits_are_not_json_numbers(api: Api, text: str) -> None:
    assert_400(post_raw(api, "/jobs", text), "request_invalid", "body")


@pytest.mark.parametrize("width", ["١٢٨٠", "²", "٥٠%", "1٢%"])
def test_non_ascii_digits_are_not_dimensions(api: Api, width: str) -> None:
    reply = api.call("POST", "/jobs", {**VIDEO, "options": {"width": width}})
    body = assert_400(reply, "invalid_option", "options.width")
    assert "pixels" in body["message"]


# --- 1b. metadata ---------------------------------------------------------------------------------------------


def biggest_metadata(char: str = "x") -> dict[str, Any]:
    """50 keys of 40 characters; 500-character strings and the extreme numbers."""
    data: dict[str, Any] = {f"{i:02d}".ljust(40, char): char * 500 for i in range(45)}
    data.update({"max".ljust(40, "_"): 2**53 - 1, "min".ljust(40, "_"): -(2**53 - 1), "tiny".ljust(40, "_"): 1e-128,
                 "flag".ljust(40, "_"): True, "none".ljust(40, "_"): None})
    return data


def test_a_megabyte_of_metadata_is_refused(tmp_path: Path) -> None:
    """Was: accepted; 100 such jobs made `GET /jobs?limit=100` answer 104 MB."""
    api = make_api(tmp_path, max_body_bytes=4 * 1024 * 1024)
    reply = api.call("POST", "/jobs", {**VIDEO, "metadata": {"blob": "x" * 1024 * 1024}})
    assert "at most 500 characters" in assert_400(reply, "request_invalid", "metadata.blob")["message"]


@pytest.mark.parametrize(("metadata", "field", "says"), [
    ({f"k{i}": i for i in range(51)}, "metadata", "at most 50"),
    ({"k" * 41: 1}, "metadata", "1 to 40 characters"),
    ({"": 1}, "metadata", "1 to 40 characters"),
    ({"a\nb": 1}, "metadata", "control characters"),
    ({"note": "x" * 501}, "metadata.note", "at most 500 characters"),
    ({"customer": {"id": "42"}}, "metadata.customer", "not objects"),
    ({"tags": ["a", "b"]}, "metadata.tags", "not arrays"),
])
def test_metadata_past_its_limits_is_refused(api: Api, tmp_path: Path, metadata: dict, field: str, says: str) -> None:
    reply = api.call("POST", "/jobs", {**VIDEO, "metadata": metadata})
    assert says in assert_400(reply, "request_invalid", field)["message"]
    assert_nothing_stored_and_still_readable(api, tmp_path)


def test_metadata_that_is_not_an_object_is_refused(api: Api) -> None:
    assert_400(api.call("POST", "/jobs", {**VIDEO, "metadata": ["a"]}), "request_invalid", "metadata")


@pytest.mark.parametrize("metadata", [{}, {"customer": "42"}, biggest_metadata(), biggest_metadata("é"),
                                      biggest_metadata("😀"), {"note": "line 1\nline 2", "score": 0.1}])
def test_metadata_within_its_limits_round_trips(api: Api, tmp_path: Path, metadata: dict) -> None:
    created = api.call("POST", "/jobs", {**VIDEO, "metadata": metadata})
    assert created.status == 201, created.text
    assert_round_trip(api, tmp_path, created.body)


# --- 1c. POST /tasks input and options ------------------------------------------------------------------------


FILE_INPUT = {"object": "file", "kind": "video", "url": "https://example.com/a.mp4", "format": "mp4", "width": 1280,
              "height": 720, "duration": 12.5, "codecs": {"video": "h264", "audio": "aac"}, "filesize": 123456,
              "fps": 25.0, "bitrate": 800000}


@pytest.mark.parametrize(("body", "kind", "field"), [
    ({"kind": "probe", "input": {"url": "https://e.com/a.mp4", "codecs": {"video": {"name": "h264"}}}},
     "invalid_input", "input.codecs.video"),
    ({"kind": "probe", "input": {"url": "https://e.com/a.mp4", "list": [1, 2]}}, "invalid_input", "input.list"),
    ({"kind": "probe", "input": {"url": "https://e.com/" + "a" * 8200}}, "invalid_input", "input.url"),
    ({"kind": "probe", "input": {"url": "https://e.com/a.mp4", **{f"k{i}": i for i in range(40)}}},
     "invalid_input", "input"),
    ({"kind": "probe", "input": {"url": "https://e.com/a.mp4"}, "options": {"x": {"y": 1}}},
     "invalid_option", "options.x"),
    ({"kind": "import", "input": {"url": "https://e.com/a.mp4"}, "options": {"x": list(range(33))}},
     "invalid_option", "options.x"),
    ({"kind": "export", "input": {"url": "https://e.com/a.mp4"}, "options": {"url": "s3://b/k", "x": [[1]]}},
     "invalid_option", "options.x"),
    ({"kind": "video", "input": {"url": "https://e.com/a.mp4"}, "options": {"width": {"a": 1}}},
     "invalid_option", "options.width"),
])
def test_task_input_and_options_past_their_limits_are_refused(api: Api, tmp_path: Path, body: dict, kind: str,
                                                              field: str) -> None:
    assert_400(api.call("POST", "/tasks", body), kind, field)
    assert_nothing_stored_and_still_readable(api, tmp_path)


@pytest.mark.parametrize("body", [
    {"kind": "probe", "input": {"url": "https://example.com/a.mp4"}},
    {"kind": "export", "input": FILE_INPUT, "options": {"url": "s3://bucket/out.mp4"}},
    {"kind": "import", "input": FILE_INPUT, "options": {"tags": ["a", 1, None], "note": "é" * 100}},
])
def test_tasks_within_their_limits_round_trip(api: Api, tmp_path: Path, body: dict) -> None:
    api.call("POST", "/connections", {"name": "out", "access_key_id": "AKIA", "secret_access_key": "s"})
    created = api.call("POST", "/tasks", body)
    assert created.status == 201, created.text
    task = created.body
    got = api.call("GET", f"/tasks/{task['id']}")
    assert got.status == 200 and got.body == task
    restarted = SqliteJobStore(tmp_path / "api.db")
    assert [t.id for t in restarted.active_tasks()] == [task["id"]]
    restarted.close()


# --- 3. options and strings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "options", "field", "says"), [
    ("video", {"end": 1e300}, "options.end", "out of range"),  # was: a failed job, encode_failed
    ("video", {"end": 21601}, "options.end", "21600"),
    ("video", {"start": 30000}, "options.start", "21600"),
    ("audio", {"end": 1e-9}, "options.end", "0.01 s after start"),  # was: a failed job, unsupported_media
    ("audio", {"start": 10, "end": 10.005}, "options.end", "0.01 s after start"),
    ("animation", {"end": 99999}, "options.end", "21600"),
    ("video", {"width": 64, "height": 64, "background": "#000000\n"}, "options.background", "hex colour"),
    ("video", {"width": 64, "height": 64, "background": "#000000\x00"}, "options.background", "hex colour"),
    ("image", {"width": 64, "height": 64, "background": "black:x=1,drawtext"}, "options.background", "hex colour"),
    ("video", {"fps": 0}, "options.fps", "1"),
    ("video", {"fps": 121}, "options.fps", "60"),
    ("video", {"bitrate": 1}, "options.bitrate", "300000"),
    ("audio", {"bitrate": 10**9}, "options.bitrate", "320000"),
])
def test_bad_options_are_a_400_at_create(api: Api, tmp_path: Path, kind: str, options: dict, field: str,
                                         says: str) -> None:
    reply = api.call("POST", "/jobs", {"input": "https://e.com/a.mp4", "kind": kind, "options": options})
    assert says in assert_400(reply, "invalid_option", field)["message"]
    assert_nothing_stored_and_still_readable(api, tmp_path)


@pytest.mark.parametrize(("kind", "options"), [
    ("audio", {"start": 10, "end": 10.01}),
    ("video", {"start": 0, "end": 21600}),
    ("video", {"width": 64, "height": 64, "background": "#fff"}),
    ("image", {"width": 64, "height": 64, "background": "#00000080"}),
    ("animation", {"end": 2.5, "fps": 60}),
])
def test_options_at_their_limits_are_accepted(api: Api, kind: str, options: dict) -> None:
    reply = api.call("POST", "/jobs", {"input": "https://e.com/a.mp4", "kind": kind, "options": options})
    assert reply.status == 201, reply.text


@pytest.mark.parametrize(("field", "value", "kind"), [
    ("input", "https://e.com/" + "a" * 8200, "invalid_input"),
    ("output", "s3://bucket/" + "a" * 2100, "invalid_output"),
    ("webhook_url", "https://e.com/" + "a" * 8200, "request_invalid"),
    ("connection_id", "c" * 300, "request_invalid"),
])
def test_overlong_strings_are_refused(api: Api, field: str, value: str, kind: str) -> None:
    assert_400(api.call("POST", "/jobs", {**VIDEO, field: value}), kind, field)


def test_an_unknown_option_with_a_huge_name_is_not_echoed_whole(api: Api) -> None:
    reply = api.call("POST", "/jobs", {**VIDEO, "options": {"x" * 100_000: 1}})
    assert reply.status == 400 and reply.body["kind"] == "invalid_option" and len(reply.text) < 500


# --- 1d. every accepted body reads back -----------------------------------------------------------------------


def assert_round_trip(api: Api, tmp_path: Path, job: dict[str, Any]) -> None:
    got = api.call("GET", f"/jobs/{job['id']}")
    assert got.status == 200 and got.body == job
    listing = api.call("GET", "/jobs", query={"limit": 100})
    assert listing.status == 200 and job in listing.body
    restarted = SqliteJobStore(tmp_path / "api.db")
    resumed = {j.id: j for j in restarted.active_jobs()}
    restarted.close()
    assert resumed[job["id"]].metadata == job["metadata"]


# --- 2. list pages bounded in bytes ---------------------------------------------------------------------------


def make_jobs(count: int) -> list[Job]:
    return [Job(kind="video", input=f"https://e.com/{i}.mp4", project_id="p") for i in range(count)]


def sized(size: int) -> Callable[[Job], str]:
    """Renders every job as exactly `size` bytes of JSON."""
    return lambda job: json.dumps({"id": job.id, "pad": "x" * (size - 21 - len(job.id))})


@pytest.mark.parametrize(("query", "kept"), [(JobQuery(), slice(0, 3)), (JobQuery(after="job_0"), slice(0, 3)),
                                             (JobQuery(before="job_z"), slice(2, 5))])
def test_a_page_ends_early_at_its_byte_budget_on_the_cursor_side(query: JobQuery, kept: slice) -> None:
    jobs = make_jobs(5)
    page, texts = fit_page(JobPage(items=jobs, has_more=False), query, sized(100), budget=2 + 3 * 100 + 2)
    assert page.items == jobs[kept] and page.has_more
    assert len(f"[{','.join(texts)}]") <= 2 + 3 * 100 + 2
    assert [json.loads(t)["id"] for t in texts] == [job.id for job in jobs[kept]]


def test_a_page_that_fits_is_left_alone_and_one_huge_job_still_makes_a_page() -> None:
    jobs = make_jobs(3)
    whole, _ = fit_page(JobPage(items=jobs, has_more=False), JobQuery(), sized(100), budget=10_000)
    assert whole.items == jobs and not whole.has_more
    one, texts = fit_page(JobPage(items=jobs, has_more=False), JobQuery(), sized(100), budget=50)
    assert one.items == jobs[:1] and one.has_more and len(texts) == 1


def follow(api: Api, query: dict[str, Any], rel: str) -> list[list[str]]:
    """Every page's ids, following Link[rel] while Has-More says so; each page within the budget."""
    pages = []
    while True:
        reply = api.call("GET", "/jobs", query=query)
        assert reply.status == 200
        assert len(reply.text.encode()) <= PAGE_BUDGET_BYTES
        pages.append([job["id"] for job in reply.body])
        if reply.headers["Has-More"] != "true":
            assert "Link" not in reply.headers
            return pages
        link = re.fullmatch(r'<([^>]*)>; rel="(\w+)"', reply.headers["Link"])
        assert link and link.group(2) == rel
        query = dict(parse_qsl(urlsplit(link.group(1)).query))


def test_big_jobs_make_short_pages_that_still_reach_every_job(tmp_path: Path) -> None:
    api = make_api(tmp_path)
    # The largest metadata allowed, in 4-byte characters: ~110 kB of JSON per job, so ~9 jobs per MiB.
    ids = [api.call("POST", "/jobs", {**VIDEO, "metadata": biggest_metadata("😀")}).body["id"] for _ in range(24)]
    assert all(ids)

    forward = follow(api, {"limit": 100}, "next")
    assert len(forward) >= 3 and all(len(page) < 20 for page in forward)
    assert [i for page in forward for i in page] == list(reversed(ids))  # each job once, newest first

    backward = follow(api, {"limit": 100, "order": "asc", "before": ids[-1]}, "prev")
    assert len(backward) >= 3
    assert [i for page in reversed(backward) for i in page] == ids[:-1]  # pages before the cursor, in order


# --- what a job may cost: an output the options alone make too large -------------------------------------


@pytest.mark.parametrize(("kind", "options"), [
    ("video", {"width": 8192, "height": 8192}),  # the upscaling bomb: 110 s and 8.7 GB from a 30 KB input
    ("animation", {"width": 5000, "height": 5000, "end": 1}),
    ("adaptive_video", {"width": 8192, "height": 4320}),
    ("image", {"width": 16384}),  # one side past MEDIAJET_MAX_DIMENSION
])
def test_an_output_too_large_to_make_is_refused_at_create(api: Api, tmp_path: Path, kind: str,
                                                          options: dict[str, Any]) -> None:
    body = assert_400(api.call("POST", "/jobs", {**VIDEO, "kind": kind, "options": options}),
                      "resolution_too_large", "options.width")
    assert "MEDIAJET_MAX" in body["message"]
    task = api.call("POST", "/tasks", {"kind": kind, "input": {"url": VIDEO["input"]}, "options": options})
    assert_400(task, "resolution_too_large", "options.width")
    assert_nothing_stored_and_still_readable(api, tmp_path)


@pytest.mark.parametrize(("kind", "options"), [
    ("video", {"width": 3840, "height": 2160}),
    ("video", {"width": 8192}),  # one side: the output never grows past the input, which probe checks
    ("image", {"width": 8192, "height": 8192}),  # a still may be as large as an input picture
])
def test_large_but_allowed_outputs_are_accepted(api: Api, kind: str, options: dict[str, Any]) -> None:
    assert api.call("POST", "/jobs", {**VIDEO, "kind": kind, "options": options}).status == 201


# --- what is stored fits DynamoDB's 400 KB items and Lambda's 6 MB answers ----------------------------------


def test_a_task_whose_record_would_not_fit_is_refused_before_it_is_stored(api: Api, tmp_path: Path) -> None:
    # every string within its own bound and the body under 1 MiB, but 4-byte characters: 320 KB stored
    wide = "\U0001F600" * 4000
    body = {"kind": "probe", "input": {"url": "https://example.com/a.mp4", **{f"k{n}": wide for n in range(20)}}}
    reply = api.call("POST", "/tasks", body)
    assert reply.status == 413 and reply.body["kind"] == "payload_too_large" and "KiB" in reply.body["message"]
    assert api.orchestrator.calls == []


def test_the_largest_metadata_the_limits_allow_still_makes_a_job_that_fits(api: Api) -> None:
    metadata = {f"key{n:02d}-" + "\U0001F600" * 34: "\U0001F600" * 500 for n in range(50)}
    reply = api.call("POST", "/jobs", {**VIDEO, "metadata": metadata})
    assert reply.status == 201, reply.text
