"""The ffmpeg commands behind stills and animations, compared as exact argv lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediajet.errors import ProcessingError
from mediajet.media.inputs import SAFE_DEMUXERS
from mediajet.media.plans import animation, image
from mediajet.models.file import Codecs, File
from mediajet.models.options import AnimationOptions, ImageOptions
from mediajet.settings import Settings

SRC = Path("/work/in/source")
OUT = Path("/work/out")
VIDEO = File(url="file:///work/in/source", kind="video", format="mp4", width=320, height=240, duration=10.0,
             fps=25, codecs=Codecs(video="h264", audio="aac"))
PNG = File(url="file:///work/in/source", kind="image", format="png", width=320, height=240,
           codecs=Codecs(video="png"))
AUDIO = File(url="file:///work/in/source", kind="audio", format="mp3", duration=10.0, codecs=Codecs(audio="mp3"))
SETTINGS = Settings()


GUARD = ["-protocol_whitelist", "file,pipe", "-format_whitelist", ",".join(SAFE_DEMUXERS),
         "-max_pixels", "67108864"]  # decoders refuse any frame over MEDIAJET_MAX_PIXELS


def head() -> list[str]:
    return ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:2", "-nostats"]


# --- image -------------------------------------------------------------------------------------


def test_image_input_needs_no_ffmpeg_run() -> None:
    todo = image.plan(ImageOptions(format="webp", width=100), PNG, SRC, OUT, SETTINGS)
    assert todo.argv == []
    assert todo.finish is not None
    assert todo.output == OUT / "output.webp"


def test_video_frame_at_start_is_piped_as_ppm() -> None:
    todo = image.plan(ImageOptions(start=1.5), VIDEO, SRC, OUT, SETTINGS)
    assert todo.argv == [*head(), *GUARD, "-ss", "1.5", "-i", str(SRC), "-map", "0:v:0", "-frames:v", "1",
                         "-f", "image2pipe", "-c:v", "ppm", "pipe:1"]
    assert todo.capture_stdout
    assert todo.output == OUT / "output.jpg"


def test_poster_frame_reads_from_the_first_frame_without_seeking() -> None:
    todo = image.plan(ImageOptions(), VIDEO, SRC, OUT, SETTINGS)
    assert "-ss" not in todo.argv
    assert todo.argv[todo.argv.index("-i") + 1] == str(SRC)


def test_start_past_the_end_keeps_the_last_frame() -> None:
    todo = image.plan(ImageOptions(start=60, format="png"), VIDEO, SRC, OUT, SETTINGS)
    assert todo.argv == [*head(), *GUARD, "-sseof", "-2", "-i", str(SRC), "-map", "0:v:0", "-update", "1",
                         "-f", "image2", "-c:v", "ppm", str(OUT / ".last-frame.ppm")]
    assert not todo.capture_stdout
    assert todo.output == OUT / "output.png"


def test_no_frame_after_start_fails_naming_the_start_option() -> None:
    todo = image.plan(ImageOptions(start=9.0), VIDEO, SRC, OUT, SETTINGS)  # video track ended before 9 s
    assert todo.finish is not None
    with pytest.raises(ProcessingError) as caught:
        todo.finish(b"")
    assert (caught.value.kind, caught.value.field) == ("invalid_option", "start")
    assert "start=9 s" in caught.value.message


def test_start_in_the_last_half_second_also_takes_the_last_frame() -> None:
    assert "-sseof" in image.plan(ImageOptions(start=9.8), VIDEO, SRC, OUT, SETTINGS).argv
    assert "-sseof" not in image.plan(ImageOptions(start=9.4), VIDEO, SRC, OUT, SETTINGS).argv


@pytest.mark.parametrize(
    ("fmt", "kind", "expected"),
    [("png", "image", "png"), ("jpeg", "image", "jpeg"), ("webp", "image", "webp"), ("avif", "image", "avif"),
     ("gif", "image", "png"), ("gif", "video", "png"), ("bmp", "image", "jpeg"), ("heic", "image", "jpeg"),
     ("mp4", "video", "jpeg")],
)
def test_default_format_follows_the_input(fmt: str, kind: str, expected: str) -> None:
    source = File(url="file:///x", kind=kind, format=fmt, width=10, height=10)
    assert image.default_format(source) == expected


@pytest.mark.parametrize("fmt", ["png", "webp", "avif"])
def test_animated_formats_ffmpeg_cannot_decode_go_to_pillow(fmt: str) -> None:
    animated = File(url="file:///x", kind="video", format=fmt, width=10, height=10, codecs=Codecs(video=fmt))
    assert image.plan(ImageOptions(), animated, SRC, OUT, SETTINGS).argv == []


def test_image_limits_come_from_the_settings_passed_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)  # the small limit must not outlive the test
    src = tmp_path / "big.png"
    Image.new("RGB", (64, 48)).save(src)
    small = Settings(max_pixels=32 * 32, max_dimension=32)
    todo = image.plan(ImageOptions(format="png"), PNG, src, tmp_path, small)
    assert todo.finish is not None
    with pytest.raises(ProcessingError) as caught:
        todo.finish(b"")
    assert caught.value.kind == "resolution_too_large" and "32 px per side" in caught.value.message


def test_image_from_audio_is_refused() -> None:
    with pytest.raises(ProcessingError) as caught:
        image.plan(ImageOptions(), AUDIO, SRC, OUT, SETTINGS)
    assert caught.value.kind == "unsupported_media"


# --- animation ---------------------------------------------------------------------------------


def test_gif_is_one_run_with_palette_and_loop() -> None:
    options = AnimationOptions(start=2, end=4.5, width=160)
    todo = animation.plan(options, VIDEO, SRC, OUT)
    assert todo.argv == [
        *head(), *GUARD, "-ss", "2", "-i", str(SRC), "-t", "2.5", "-map", "0:v:0",
        "-vf", ("fps=10,scale=160:120:flags=bicubic,setsar=1,split[a][b];[a]palettegen=max_colors=128[p];"
                "[b][p]paletteuse=dither=bayer:bayer_scale=3:diff_mode=rectangle"),
        "-loop", "0", "-f", "gif", str(OUT / "output.gif"),
    ]
    assert todo.duration == 2.5
    assert todo.finish is None


def test_gif_quality_sets_palette_size_and_dither() -> None:
    low = animation.plan(AnimationOptions(end=1, quality="very_low"), VIDEO, SRC, OUT).argv
    high = animation.plan(AnimationOptions(end=1, quality="very_high"), VIDEO, SRC, OUT).argv
    assert "palettegen=max_colors=32[p]" in low[low.index("-vf") + 1]
    assert "dither=floyd_steinberg" in high[high.index("-vf") + 1]


def test_webp_frames_go_raw_to_a_scratch_file() -> None:
    options = AnimationOptions(format="webp", end=3, fps=12, width=200, height=200, fit="cover", position="left")
    todo = animation.plan(options, VIDEO, SRC, OUT)
    assert todo.argv == [
        *head(), *GUARD, "-i", str(SRC), "-t", "3", "-map", "0:v:0",
        "-vf", "fps=12,scale=267:200:flags=bicubic,crop=200:200:0:0,setsar=1",
        "-f", "rawvideo", "-pix_fmt", "rgb24", str(OUT / ".frames.raw"),
    ]
    assert todo.output == OUT / "output.webp"
    assert todo.finish is not None


def test_webp_contain_pads_with_transparency_by_default() -> None:
    todo = animation.plan(AnimationOptions(format="webp", end=1, width=200, height=200), VIDEO, SRC, OUT)
    vf = todo.argv[todo.argv.index("-vf") + 1]
    assert vf == "fps=10,scale=200:150:flags=bicubic,format=rgba,pad=200:200:0:25:color=0x00000000,setsar=1"
    assert todo.argv[todo.argv.index("-pix_fmt") + 1] == "rgba"


def test_end_past_the_video_counts_progress_to_the_real_end() -> None:
    assert animation.plan(AnimationOptions(start=8, end=30), VIDEO, SRC, OUT).duration == 2.0


APNG = File(url="file:///x", kind="video", format="png", width=10, height=10, duration=1, codecs=Codecs(video="png"))
AV1 = VIDEO.model_copy(update={"codecs": Codecs(video="av1")})


@pytest.mark.parametrize(
    ("source", "options", "kind"),
    [(PNG, AnimationOptions(end=1), "unsupported_media"),
     (AUDIO, AnimationOptions(end=1), "unsupported_media"),
     (APNG, AnimationOptions(end=1), "unsupported_media"),
     (AV1, AnimationOptions(end=1), "unsupported_media"),
     (VIDEO, AnimationOptions(start=10, end=12), "invalid_option")],
)
def test_animation_refusals_name_the_problem(source: File, options: AnimationOptions, kind: str) -> None:
    with pytest.raises(ProcessingError) as caught:
        animation.plan(options, source, SRC, OUT)
    assert caught.value.kind == kind


def test_gif_input_animates_through_ffmpeg() -> None:
    gif = File(url="file:///x", kind="image", format="gif", width=100, height=100, codecs=Codecs(video="gif"))
    assert animation.plan(AnimationOptions(end=1), gif, SRC, OUT).argv[-1] == str(OUT / "output.gif")
