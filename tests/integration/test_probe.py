"""probe() on real files: what a user sees in the File object, and a clear refusal for broken input."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from mediajet.errors import ProcessingError
from mediajet.media import probe as probe_module
from mediajet.media.binaries import ffmpeg, ffprobe
from mediajet.media.inputs import input_args
from mediajet.media.probe import probe, probe_argv
from tests.media import make_audio, make_image, make_video


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], check=True,
                   timeout=60, capture_output=True)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("probe")
    for name in ("clip.mp4", "clip.mov", "clip.webm", "clip.mkv", "clip.ts"):
        make_video(root / name, seconds=1)
    for name in ("tone.mp3", "tone.m4a", "tone.wav", "tone.flac", "tone.opus", "tone.ogg"):
        make_audio(root / name, seconds=1)
    for name in ("still.png", "still.jpg", "still.webp", "still.avif", "still.gif"):
        make_image(root / name)
    return root


@pytest.mark.parametrize(
    ("name", "kind", "fmt", "size", "codecs"),
    [
        ("clip.mp4", "video", "mp4", (320, 240), ("h264", "aac")),
        ("clip.mov", "video", "mov", (320, 240), ("h264", "aac")),
        ("clip.webm", "video", "webm", (320, 240), ("vp9", "opus")),
        ("clip.mkv", "video", "mkv", (320, 240), ("h264", "aac")),
        ("clip.ts", "video", "ts", (320, 240), ("h264", "aac")),
        ("tone.mp3", "audio", "mp3", (None, None), (None, "mp3")),
        ("tone.m4a", "audio", "m4a", (None, None), (None, "aac")),
        ("tone.wav", "audio", "wav", (None, None), (None, "pcm_s16le")),
        ("tone.flac", "audio", "flac", (None, None), (None, "flac")),
        ("tone.opus", "audio", "opus", (None, None), (None, "opus")),
        ("tone.ogg", "audio", "ogg", (None, None), (None, "vorbis")),
    ],
)
def test_video_and_audio_files_are_described(media: Path, name: str, kind: str, fmt: str,
                                             size: tuple[int | None, int | None],
                                             codecs: tuple[str | None, str | None]) -> None:
    path = media / name
    found = probe(path)
    assert (found.object, found.kind, found.format) == ("file", kind, fmt)
    assert (found.width, found.height) == size
    assert (found.codecs.video, found.codecs.audio) == codecs
    assert found.duration == pytest.approx(1.0, abs=0.1)
    assert found.filesize == path.stat().st_size
    assert found.bitrate and found.bitrate > 0
    assert found.fps == (25.0 if kind == "video" else None)
    assert found.url == path.as_uri()


@pytest.mark.parametrize(
    ("name", "fmt", "codec"),
    [("still.png", "png", "png"), ("still.jpg", "jpeg", "mjpeg"), ("still.webp", "webp", "webp"),
     ("still.avif", "avif", "av1"), ("still.gif", "gif", "gif")],
)
def test_stills_are_images_with_their_size(media: Path, name: str, fmt: str, codec: str) -> None:
    found = probe(media / name)
    assert (found.kind, found.format, found.width, found.height) == ("image", fmt, 320, 240)
    assert found.codecs.video == codec
    assert found.duration is None


def test_the_url_given_is_the_url_reported(media: Path) -> None:
    assert probe(media / "clip.mp4", url="https://example.com/a.mp4").url == "https://example.com/a.mp4"


def test_a_relative_path_works(media: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(media)
    assert probe(Path("clip.mp4")).width == 320


def test_files_without_an_extension_are_recognised_by_content(media: Path, tmp_path: Path) -> None:
    for name, fmt in (("clip.mov", "mov"), ("clip.webm", "webm"), ("still.png", "png")):
        nameless = tmp_path / f"input-{fmt}"
        nameless.write_bytes((media / name).read_bytes())
        assert probe(nameless).format == fmt


def test_a_rotated_phone_video_reports_its_upright_size(media: Path, tmp_path: Path) -> None:
    rotated = tmp_path / "portrait.mp4"
    _ffmpeg("-display_rotation", "90", "-i", str(media / "clip.mp4"), "-c", "copy", str(rotated))
    assert (probe(rotated).width, probe(rotated).height) == (240, 320)


@pytest.mark.parametrize("name", ["sideways.jpg", "sideways.webp"])
def test_a_photo_with_exif_orientation_reports_its_upright_size(tmp_path: Path, name: str) -> None:
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown turned 90° clockwise
    Image.new("RGB", (320, 240), (10, 120, 200)).save(tmp_path / name, exif=exif.tobytes())
    found = probe(tmp_path / name)
    assert (found.kind, found.width, found.height) == ("image", 240, 320)


def test_an_animated_webp_is_a_video(tmp_path: Path) -> None:
    from PIL import Image

    frames = [Image.new("RGB", (64, 48), (40 * i, 0, 0)) for i in range(4)]
    frames[0].save(tmp_path / "anim.webp", save_all=True, append_images=frames[1:], duration=100)
    found = probe(tmp_path / "anim.webp")
    assert (found.kind, found.format, found.width, found.height) == ("video", "webp", 64, 48)


def test_an_animated_gif_is_a_video(tmp_path: Path) -> None:
    gif = tmp_path / "anim.gif"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=5:duration=1", str(gif))
    found = probe(gif)
    assert (found.kind, found.format, found.width, found.height) == ("video", "gif", 64, 48)
    assert found.duration == pytest.approx(1.0, abs=0.1)


def test_cover_art_does_not_make_a_song_a_video(media: Path, tmp_path: Path) -> None:
    song = tmp_path / "with-cover.mp3"
    _ffmpeg("-i", str(media / "tone.mp3"), "-i", str(media / "still.jpg"), "-map", "0", "-map", "1",
            "-c", "copy", "-disposition:v", "attached_pic", str(song))
    found = probe(song)
    assert (found.kind, found.codecs.video, found.width) == ("audio", None, None)


def test_ffprobe_runs_behind_the_input_guard(tmp_path: Path) -> None:
    path = tmp_path / "x.mp4"
    assert probe_argv(path) == ["ffprobe", "-hide_banner", "-loglevel", "error", "-print_format", "json",
                                "-show_format", "-show_streams", *input_args(path)]


def test_mediajet_ffprobe_names_the_binary_the_runner_starts(media: Path, tmp_path: Path, env_settings) -> None:
    """The plan says "ffprobe"; the runner runs Settings.ffprobe (MEDIAJET_FFPROBE) in its place."""
    marker = tmp_path / "ran"
    wrapper = tmp_path / "my-ffprobe"
    wrapper.write_text(f'#!/bin/sh\ntouch "{marker}"\nexec "{ffprobe()}" "$@"\n')
    wrapper.chmod(0o755)
    env_settings("MEDIAJET_FFPROBE", str(wrapper))
    assert ffprobe() == str(wrapper)
    assert probe(media / "clip.mp4").width == 320
    assert marker.exists()


# --- broken input ------------------------------------------------------------------------------


def _cut(source: Path, target: Path, keep: float) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * keep)])
    return target


def _refusal(path: Path) -> ProcessingError:
    with pytest.raises(ProcessingError) as caught:
        probe(path)
    assert caught.value.kind == "unsupported_media", caught.value
    assert str(path.parent) not in caught.value.message, "working paths stay out of user messages"
    return caught.value


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.touch()
    assert "empty" in _refusal(empty).message


def test_a_text_file_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    assert "not a media file" in _refusal(text).message


@pytest.mark.parametrize("name", ["noise.bin", "noise.png", "noise.jpg", "noise.mov"])
def test_random_bytes_are_refused(tmp_path: Path, name: str) -> None:
    noise = tmp_path / name
    noise.write_bytes(bytes((i * 7919 + 13) % 251 for i in range(8192)))
    _refusal(noise)


@pytest.mark.parametrize("name", ["clip.mp4", "clip.webm", "tone.wav", "still.png"])
def test_a_file_cut_short_is_refused_even_when_its_header_is_intact(media: Path, tmp_path: Path,
                                                                    name: str) -> None:
    error = _refusal(_cut(media / name, tmp_path / name, keep=0.6))
    assert "incomplete" in error.message


def test_an_mp4_cut_before_its_index_is_refused(media: Path, tmp_path: Path) -> None:
    index_last = tmp_path / "index-last.mp4"
    _ffmpeg("-i", str(media / "clip.mp4"), "-c", "copy", str(index_last))  # no faststart: moov at the end
    assert "moov atom not found" in _refusal(_cut(index_last, tmp_path / "cut.mp4", keep=0.5)).message


def test_a_missing_file_is_unreachable(tmp_path: Path) -> None:
    with pytest.raises(ProcessingError) as caught:
        probe(tmp_path / "gone.mp4")
    assert caught.value.kind == "input_unreachable"


def test_a_probe_that_runs_out_of_time_is_a_timeout(media: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # ffprobe reading a named pipe nobody writes to blocks forever: a stuck probe, deterministically.
    stuck = tmp_path / "stuck"
    os.mkfifo(stuck)
    monkeypatch.setattr(probe_module, "probe_argv", lambda path, access=None: [ffprobe(), "-v", "error", "-i", str(stuck)])
    with pytest.raises(ProcessingError) as caught:
        probe(media / "clip.mp4", timeout=0.5)
    assert caught.value.kind == "timeout"
