"""Every validation rule of spec §1.5: the request that breaks it and the exact error kind."""

from __future__ import annotations

import pytest

from mediajet.errors import InvalidRequest
from mediajet.models import parse_job_create, parse_options, parse_task_create
from mediajet.models.requests import build_job

URL = "https://example.com/upload.mov"


def job(kind: str = "video", **options: object) -> dict:
    return {"input": URL, "kind": kind, "options": options}


def kind_of(body: object) -> tuple[str, str | None]:
    with pytest.raises(InvalidRequest) as err:
        parse_job_create(body)
    return err.value.kind, err.value.field


@pytest.mark.parametrize(
    ("body", "kind", "field"),
    [
        ({"kind": "video"}, "input_required", None),
        ({"input": "", "kind": "video"}, "input_required", None),
        ({"input": "ftp://example.com/a.mp4", "kind": "video"}, "invalid_input", "input"),
        ({"input": "file:///etc/passwd", "kind": "video"}, "invalid_input", "input"),
        ({"input": "/local/path.mp4", "kind": "video"}, "invalid_input", "input"),
        ({"input": URL}, "kind_required", None),
        ({"input": URL, "kind": "podcast"}, "invalid_kind", "kind"),
        (job(format="avi"), "invalid_format", "options.format"),
        (job("audio", format="mp4"), "invalid_format", "options.format"),
        (job("image", format="gif"), "invalid_format", "options.format"),
        (job("animation", format="mp4", end=2), "invalid_format", "options.format"),
        (job("adaptive_video", format="dash"), "invalid_format", "options.format"),
        (job(format="webm", codec="h264"), "invalid_codec", "options.codec"),
        (job(format="webm", codec="h265"), "invalid_codec", "options.codec"),
        (job(format="mp4", codec="vp9"), "invalid_codec", "options.codec"),
        (job(format="mov", codec="av1"), "invalid_codec", "options.codec"),
        (job(codec="mpeg2"), "invalid_codec", "options.codec"),
        (job(quality="ultra"), "invalid_option", "options.quality"),
        (job(width=0), "invalid_option", "options.width"),
        (job(width="150%"), "invalid_option", "options.width"),
        (job(width="wide"), "invalid_option", "options.width"),
        (job(height=-5), "invalid_option", "options.height"),
        (job(fit="stretch"), "invalid_option", "options.fit"),
        (job(position="middle"), "invalid_option", "options.position"),
        (job(background="black", fit="contain"), "invalid_option", "options.background"),
        (job(background="#000000", fit="cover"), "invalid_option", "options.background"),
        (job(background="#000000", width=100), "invalid_option", "options.background"),
        (job(fps=0), "invalid_option", "options.fps"),
        (job(fps=61), "invalid_option", "options.fps"),
        (job(bitrate=299_999), "invalid_option", "options.bitrate"),
        (job(bitrate=60_000_001), "invalid_option", "options.bitrate"),
        (job("audio", bitrate=31_999), "invalid_option", "options.bitrate"),
        (job("audio", bitrate=320_001), "invalid_option", "options.bitrate"),
        (job(start=-1), "invalid_option", "options.start"),
        (job(start=5, end=5), "invalid_option", "options.end"),
        (job(start=5, end=2), "invalid_option", "options.end"),
        (job("animation"), "end_required", "options.end"),
        (job("animation", start=1), "end_required", "options.end"),
        (job(mute="yes please"), "invalid_option", "options.mute"),
        (job("audio", width=100), "invalid_option", "options.width"),
        (job(colour="red"), "invalid_option", "options.colour"),
        ({"input": URL, "kind": "video", "options": "fast"}, "invalid_option", "options"),
        ([URL], "request_invalid", None),
    ],
)
def test_rule_gives_its_kind(body: object, kind: str, field: str | None) -> None:
    assert kind_of(body) == (kind, field)


def test_messages_tell_a_person_what_to_do() -> None:
    with pytest.raises(InvalidRequest) as err:
        parse_job_create(job(format="webm", codec="h264"))
    assert "webm" in err.value.message and "mp4" in err.value.message


@pytest.mark.parametrize(
    "body",
    [
        job(width=1280, height=720, format="mp4", quality="high"),
        job("audio", format="mp3", quality="high"),
        job("image", start=5, format="webp", width=640),
        job("adaptive_video", format="hls", quality="high"),
        job("animation", format="webp", end=3, fps=12, width="50%"),
        job(format="mov", codec="h265", fit="contain", background="#ff000080", width=100, height=100),
        job(format="webm", codec="av1", fps=24, bitrate=2_000_000, start=1.5, end=3, mute=True),
        {"input": "s3://bucket/key.mp4", "kind": "video", "output": "s3://out/{filename}.mp4",
         "metadata": {"a": 1}, "webhook_url": "https://hooks.example.com/x", "extra_field": 1},
    ],
)
def test_valid_requests_pass(body: dict) -> None:
    parse_job_create(body)


def test_contain_is_the_default_fit_with_both_sizes_so_background_is_allowed() -> None:
    options = parse_options("video", {"width": 100, "height": 100, "background": "#fff"})
    assert options.effective_fit == "contain"


def test_defaults_follow_the_cli_pages() -> None:
    assert parse_options("video", {}).video_codec == "h264"
    assert parse_options("video", {"format": "webm"}).video_codec == "vp9"
    assert parse_options("audio", {}).format == "mp3"
    assert parse_options("animation", {"end": 1}).fps == 10
    assert parse_options("video", {}).level == "medium"


def test_build_job_has_the_four_tasks_in_order() -> None:
    job_ = build_job(parse_job_create(job("audio", format="flac")), "prj_x")
    assert [t.kind for t in job_.tasks] == ["probe", "import", "audio", "export"]
    wire = job_.model_dump(mode="json")
    assert "project_id" not in wire and wire["status"] == "queued" and wire["output"] is None
    assert wire["options"] == {"format": "flac"}  # echoed as sent, no defaults filled in


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"input": {"url": URL}}, "kind_required"),
        ({"kind": "probe"}, "input_required"),
        ({"kind": "probe", "input": URL}, "invalid_input"),
        ({"kind": "probe", "input": {"url": "gopher://x"}}, "invalid_input"),
        ({"kind": "transcode", "input": {"url": URL}}, "invalid_kind"),
        ({"kind": "video", "input": {"url": URL}, "options": {"format": "avi"}}, "invalid_format"),
    ],
)
def test_task_rules(body: dict, kind: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        parse_task_create(body)
    assert err.value.kind == kind


def test_an_unknown_option_is_named_with_the_closest_known_one() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_options("video", {"widht": 640})
    assert (caught.value.kind, caught.value.field) == ("invalid_option", "options.widht")
    assert caught.value.message == "options.widht: unknown field 'widht' (did you mean 'width'?)"
    with pytest.raises(InvalidRequest) as far:
        parse_options("video", {"zzz": 1})
    assert "did you mean" not in far.value.message
