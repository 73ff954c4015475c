"""engine.encode for video, audio and adaptive_video on tiny generated clips, checked with ffprobe."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from mediajet.errors import Cancelled
from mediajet.media import engine, runner
from mediajet.media.binaries import ffmpeg, ffprobe
from mediajet.media.probe import probe
from mediajet.models.file import File
from mediajet.models.options import AdaptiveOptions, AudioOptions, VideoOptions
from tests.integration.test_shutdown import alive, gone_within, real_time, wait_for_encoder
from tests.media import make_audio, make_video

pytestmark = pytest.mark.slow
TIMEOUT = 120


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, File]:
    path = make_video(tmp_path_factory.mktemp("av") / "clip.mp4", seconds=1)
    return path, probe(path)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, File]:
    """For the slow encoders (x265, SVT-AV1): just enough picture and time to prove the point."""
    path = make_video(tmp_path_factory.mktemp("av") / "tiny.mp4", seconds=0.5, size="128x96")
    return path, probe(path)


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, File]:
    path = make_audio(tmp_path_factory.mktemp("av") / "song.mp3", seconds=1)
    return path, probe(path)


def _streams(path: Path) -> list[dict]:
    out = subprocess.run([ffprobe(), "-v", "error", "-print_format", "json", "-show_streams", str(path)],
                         check=True, capture_output=True, timeout=30).stdout
    return json.loads(out)["streams"]


def _top_level_boxes(path: Path) -> list[str]:
    data, boxes, offset = path.read_bytes(), [], 0
    while offset + 8 <= len(data):
        boxes.append(data[offset + 4:offset + 8].decode())
        offset += int.from_bytes(data[offset:offset + 4], "big")
    return boxes


# --- video -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "codec", "audio", "slow"),
    [
        ("mp4", "h264", "aac", False), ("mov", "h264", "aac", False), ("webm", "vp9", "opus", False),
        ("mp4", "h265", "aac", True), ("mov", "h265", "aac", True),
        ("mp4", "av1", "aac", True), ("webm", "av1", "opus", True),
    ],
)
def test_every_container_and_codec_pair_plays_back(request: pytest.FixtureRequest, tmp_path: Path, fmt: str,
                                                  codec: str, audio: str, slow: bool) -> None:
    src, source = request.getfixturevalue("tiny" if slow else "clip")
    out = engine.encode("video", VideoOptions(format=fmt, codec=codec), source, src, tmp_path, timeout=TIMEOUT)
    assert out == tmp_path / f"output.{fmt}"
    result = probe(out)
    assert (result.kind, result.format, result.codecs.video, result.codecs.audio) == ("video", fmt, codec, audio)
    assert (result.width, result.height) == (source.width, source.height)
    assert result.duration == pytest.approx(source.duration, abs=0.1)
    if fmt in ("mp4", "mov"):
        boxes = _top_level_boxes(out)
        assert boxes.index("moov") < boxes.index("mdat"), "faststart: the index comes first"
    if codec == "h265":
        assert _streams(out)[0]["codec_tag_string"] == "hvc1", "Apple players need the hvc1 tag"


def test_resize_trim_fps_and_mute_together(clip: tuple[Path, File], tmp_path: Path) -> None:
    src, source = clip
    options = VideoOptions(width=160, fps=10, start=0.2, end=0.7, mute=True)
    result = probe(engine.encode("video", options, source, src, tmp_path, timeout=TIMEOUT))
    assert (result.width, result.height, result.fps) == (160, 120, 10.0)
    assert result.duration == pytest.approx(0.5, abs=0.1)
    assert result.codecs.audio is None


def test_a_rotated_phone_video_comes_out_upright(clip: tuple[Path, File], tmp_path: Path) -> None:
    src, _ = clip
    rotated = tmp_path / "portrait.mp4"
    subprocess.run([ffmpeg(), "-v", "error", "-display_rotation", "90", "-i", str(src), "-c", "copy", str(rotated)],
                   check=True, capture_output=True, timeout=30)
    source = probe(rotated)
    result = probe(engine.encode("video", VideoOptions(height=160), source, rotated, tmp_path / "out",
                                 timeout=TIMEOUT))
    assert (result.width, result.height) == (120, 160)


def test_contain_pads_to_the_exact_box(clip: tuple[Path, File], tmp_path: Path) -> None:
    src, source = clip
    options = VideoOptions(format="webm", width=200, height=200, background="#ffffff")
    result = probe(engine.encode("video", options, source, src, tmp_path, timeout=TIMEOUT))
    assert (result.width, result.height) == (200, 200)


def test_progress_climbs_to_100(clip: tuple[Path, File], tmp_path: Path) -> None:
    src, source = clip
    seen: list[int] = []
    engine.encode("video", VideoOptions(), source, src, tmp_path, timeout=TIMEOUT, on_progress=seen.append)
    assert seen and seen[-1] == 100
    assert seen == sorted(seen)


def test_a_cancelled_job_stops_the_encode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cancelled while ffmpeg runs (slowed to real time, so it would run for 30 s): gone within a second."""
    src = make_video(tmp_path / "long.mp4", seconds=30, size="160x120", audio=False)
    monkeypatch.setattr(runner, "run", real_time(runner.run))
    cancel, stop = threading.Event(), threading.Event()
    raised: list[BaseException] = []

    def encode() -> None:
        try:
            engine.encode("video", VideoOptions(), probe(src), src, tmp_path / "out", timeout=TIMEOUT,
                          cancel=cancel, stop=stop)
        except BaseException as exc:  # noqa: BLE001 - checked below
            raised.append(exc)

    thread = threading.Thread(target=encode)
    thread.start()
    try:
        encoder = wait_for_encoder(os.getpid())
        time.sleep(0.3)
        assert alive(encoder) and thread.is_alive(), "the encode is running"
        cancel.set()
        assert gone_within(encoder, 2), "the encoder outlived the cancel"
        thread.join(5)
        assert not thread.is_alive()
        assert len(raised) == 1 and isinstance(raised[0], Cancelled), raised
    finally:
        stop.set()  # whatever happened above, no encoder is left running
        thread.join(10)


# --- audio -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "container", "codec"),
    [("mp3", "mp3", "mp3"), ("aac", "m4a", "aac"), ("ogg", "ogg", "vorbis"), ("opus", "opus", "opus"),
     ("wav", "wav", "pcm_s16le"), ("flac", "flac", "flac")],
)
def test_every_audio_format_from_a_video(clip: tuple[Path, File], tmp_path: Path, fmt: str, container: str,
                                         codec: str) -> None:
    src, source = clip
    result = probe(engine.encode("audio", AudioOptions(format=fmt), source, src, tmp_path, timeout=TIMEOUT))
    assert (result.kind, result.format, result.codecs.audio, result.codecs.video) == ("audio", container, codec,
                                                                                     None)
    assert result.duration == pytest.approx(1.0, abs=0.1)


def test_audio_trim_and_bitrate(song: tuple[Path, File], tmp_path: Path) -> None:
    src, source = song
    options = AudioOptions(format="mp3", start=0.25, end=0.75, bitrate=64_000)
    result = probe(engine.encode("audio", options, source, src, tmp_path, timeout=TIMEOUT))
    assert result.duration == pytest.approx(0.5, abs=0.1)
    assert _streams(tmp_path / "output.mp3")[0]["bit_rate"] == "64000"


# --- adaptive_video ----------------------------------------------------------------------------


def _playlist_entries(playlist: Path) -> list[str]:
    return [line for line in playlist.read_text().splitlines() if line and not line.startswith("#")]


def test_hls_has_a_master_and_a_folder_per_rendition(tmp_path: Path) -> None:
    src = make_video(tmp_path / "wide.mp4", seconds=1, size="640x360")
    out_dir = tmp_path / "hls"
    seen: list[int] = []
    master = engine.encode("adaptive_video", AdaptiveOptions(), probe(src), src, out_dir, timeout=TIMEOUT,
                           on_progress=seen.append)
    assert master == out_dir / "master.m3u8"
    text = master.read_text()
    assert _playlist_entries(master) == ["360p/stream.m3u8", "240p/stream.m3u8"]
    assert "RESOLUTION=640x360" in text and "RESOLUTION=426x240" in text
    for name, height in (("360p", 360), ("240p", 240)):
        playlist = out_dir / name / "stream.m3u8"
        assert "#EXT-X-PLAYLIST-TYPE:VOD" in playlist.read_text()
        segments = _playlist_entries(playlist)
        assert segments == ["segment-0.ts"]
        segment = probe(playlist.parent / segments[0])
        assert (segment.format, segment.codecs.video, segment.codecs.audio, segment.height) == (
            "ts", "h264", "aac", height)
    assert seen[-1] == 100


def test_hls_of_a_song_is_audio_only(song: tuple[Path, File], tmp_path: Path) -> None:
    src, source = song
    master = engine.encode("adaptive_video", AdaptiveOptions(), source, src, tmp_path, timeout=TIMEOUT)
    assert _playlist_entries(master) == ["audio/stream.m3u8"]
    segment = probe(tmp_path / "audio" / _playlist_entries(tmp_path / "audio" / "stream.m3u8")[0])
    assert (segment.format, segment.kind, segment.codecs.audio) == ("ts", "audio", "aac")


def _first_frame_rgb(path: Path, width: int, height: int) -> bytes:
    raw = subprocess.run([ffmpeg(), "-v", "error", "-i", str(path), "-frames:v", "1", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], check=True, capture_output=True, timeout=30).stdout
    assert len(raw) == width * height * 3
    return raw


def _rows_are(raw: bytes, width: int, rows: range, colour: tuple[int, int, int], tolerance: int = 40) -> None:
    for y in rows:
        for x in range(0, width, 4):
            pixel = tuple(raw[(y * width + x) * 3:(y * width + x) * 3 + 3])
            assert all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True)), (x, y, pixel, colour)


def test_contain_pads_with_the_background_instead_of_stretching(tmp_path: Path) -> None:
    """A red 4:3 picture in a 320x320 box: 40 px green bands above and below, red in between."""
    src = tmp_path / "red.mp4"
    subprocess.run([ffmpeg(), "-v", "error", "-f", "lavfi", "-i", "color=c=red:size=320x240:rate=10:duration=0.5",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(src)],
                   check=True, capture_output=True, timeout=30)
    options = VideoOptions(width=320, height=320, fit="contain", background="#00ff00", mute=True)
    out = engine.encode("video", options, probe(src), src, tmp_path / "out", timeout=TIMEOUT)
    assert (probe(out).width, probe(out).height) == (320, 320)
    raw = _first_frame_rgb(out, 320, 320)
    green, red = (0, 255, 0), (255, 0, 0)
    _rows_are(raw, 320, range(36), green)  # a few rows off each edge: chroma is shared by 2x2 pixels
    _rows_are(raw, 320, range(44, 276), red)
    _rows_are(raw, 320, range(284, 320), green)
