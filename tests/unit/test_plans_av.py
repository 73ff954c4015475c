"""The ffmpeg commands behind video, audio and adaptive_video (HLS) jobs, compared as exact argv lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediajet.errors import ProcessingError
from mediajet.media.inputs import SAFE_DEMUXERS, input_args
from mediajet.media.plans import audio, hls, video
from mediajet.models.file import Codecs, File
from mediajet.models.options import AdaptiveOptions, AudioOptions, VideoOptions

SRC = Path("/work/in/source")
OUT = Path("/work/out")
URL = "file:///work/in/source"
HD = File(url=URL, kind="video", format="mp4", width=1920, height=1080, duration=10.0, fps=25,
          codecs=Codecs(video="h264", audio="aac"))
SILENT = HD.model_copy(update={"codecs": Codecs(video="h264")})
SONG = File(url=URL, kind="audio", format="mp3", duration=10.0, codecs=Codecs(audio="mp3"))


# How every input is opened: no network, no demuxer that opens other files, every frame capped at
# MEDIAJET_MAX_PIXELS (default 8192x8192) by the decoder itself.
GUARD = ["-protocol_whitelist", "file,pipe", "-format_whitelist", ",".join(SAFE_DEMUXERS),
         "-max_pixels", "67108864"]


def head() -> list[str]:
    return ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:2", "-nostats"]




# --- reading the input --------------------------------------------------------------------------


def test_every_input_caps_its_decoders_before_the_per_input_options() -> None:
    assert input_args(SRC) == [*GUARD, "-i", str(SRC)]
    assert input_args(SRC, pre=["-ss", "2"]) == [*GUARD, "-ss", "2", "-i", str(SRC)]


def test_the_decoder_cap_follows_max_pixels_up_to_what_ffmpeg_takes(env_settings) -> None:
    env_settings("MEDIAJET_MAX_PIXELS", "76800")
    assert input_args(SRC)[-4:] == ["-max_pixels", "76800", "-i", str(SRC)]
    env_settings("MEDIAJET_MAX_PIXELS", str(2**40))
    assert input_args(SRC)[-4:] == ["-max_pixels", str(2**31 - 1), "-i", str(SRC)]


@pytest.mark.parametrize(("build", "pre"), [
    (lambda: video.plan(VideoOptions(start=1), HD, SRC, OUT), ["-ss", "1"]),
    (lambda: audio.plan(AudioOptions(), HD, SRC, OUT), []),
    (lambda: hls.plan(AdaptiveOptions(start=2), HD, SRC, OUT), ["-ss", "2"]),
], ids=["video", "audio", "adaptive_video"])
def test_every_plan_decodes_its_input_under_the_cap(build, pre: list[str]) -> None:
    argv = build().argv
    assert argv[argv.index("-max_pixels"):argv.index("-i") + 2] == ["-max_pixels", "67108864", *pre, "-i", str(SRC)]


def between(argv: list[str], first: str, last: str) -> list[str]:
    """The slice of argv from `first` up to and including `last`."""
    start = argv.index(first)
    return argv[start:argv.index(last, start) + 1]


# --- video -------------------------------------------------------------------------------------


def test_video_default_is_h264_aac_mp4_with_faststart() -> None:
    todo = video.plan(VideoOptions(), HD, SRC, OUT)
    assert todo.argv == [
        *head(), *GUARD, "-i", str(SRC),
        "-c:v", "libx264", "-preset", "fast", "-crf", "23", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k", "-sn", "-dn",
        "-f", "mp4", "-movflags", "+faststart", str(OUT / "output.mp4"),
    ]
    assert todo.output == OUT / "output.mp4"
    assert todo.duration == 10.0


@pytest.mark.parametrize(
    ("fmt", "codec", "video_args", "audio_args", "container"),
    [
        ("mp4", "h264", ["-c:v", "libx264", "-preset", "fast", "-crf", "23"],
         ["-c:a", "aac", "-b:a", "128k"], ["-f", "mp4", "-movflags", "+faststart"]),
        ("mp4", "h265", ["-c:v", "libx265", "-preset", "fast", "-x265-params", "log-level=error", "-crf", "23",
                         "-tag:v", "hvc1"],
         ["-c:a", "aac", "-b:a", "128k"], ["-f", "mp4", "-movflags", "+faststart"]),
        ("mov", "h265", ["-c:v", "libx265", "-preset", "fast", "-x265-params", "log-level=error", "-crf", "23",
                         "-tag:v", "hvc1"],
         ["-c:a", "aac", "-b:a", "128k"], ["-f", "mov", "-movflags", "+faststart"]),
        ("mp4", "av1", ["-c:v", "libsvtav1", "-preset", "8", "-crf", "29"],
         ["-c:a", "aac", "-b:a", "128k"], ["-f", "mp4", "-movflags", "+faststart"]),
        ("webm", "vp9", ["-c:v", "libvpx-vp9", "-deadline", "good", "-cpu-used", "4", "-row-mt", "1",
                         "-crf", "29", "-b:v", "0"],
         ["-c:a", "libopus", "-b:a", "96k"], ["-f", "webm"]),
        ("webm", "av1", ["-c:v", "libsvtav1", "-preset", "8", "-crf", "29"],
         ["-c:a", "libopus", "-b:a", "96k"], ["-f", "webm"]),
    ],
)
def test_each_codec_gets_its_encoder_quality_audio_and_container(
        fmt: str, codec: str, video_args: list[str], audio_args: list[str], container: list[str]) -> None:
    todo = video.plan(VideoOptions(format=fmt, codec=codec), HD, SRC, OUT)
    assert todo.argv == [*head(), *input_args(SRC), *video_args, "-pix_fmt", "yuv420p", *audio_args,
                         "-sn", "-dn", *container, str(OUT / f"output.{fmt}")]


def test_webm_without_a_codec_is_vp9() -> None:
    assert "libvpx-vp9" in video.plan(VideoOptions(format="webm"), HD, SRC, OUT).argv


@pytest.mark.parametrize(("quality", "crf"), [("very_low", "30"), ("low", "26"), ("auto", "23"),
                                              ("high", "20"), ("very_high", "18")])
def test_quality_levels_pick_the_h264_crf(quality: str, crf: str) -> None:
    argv = video.plan(VideoOptions(quality=quality), HD, SRC, OUT).argv
    assert argv[argv.index("-crf") + 1] == crf


def test_quality_also_sets_the_audio_bitrate() -> None:
    argv = video.plan(VideoOptions(quality="very_high"), HD, SRC, OUT).argv
    assert between(argv, "-c:a", "-b:a") + [argv[argv.index("-b:a") + 1]] == ["-c:a", "aac", "-b:a", "256k"]


def test_bitrate_replaces_crf_with_a_capped_target() -> None:
    argv = video.plan(VideoOptions(bitrate=2_000_000), HD, SRC, OUT).argv
    assert between(argv, "-c:v", "-pix_fmt") == [
        "-c:v", "libx264", "-preset", "fast", "-b:v", "2000k", "-maxrate", "3000k", "-bufsize", "4000k", "-pix_fmt",
    ]
    assert "-crf" not in argv


def test_av1_bitrate_has_no_peak_because_svt_refuses_one_outside_crf_mode() -> None:
    argv = video.plan(VideoOptions(codec="av1", bitrate=1_000_000), HD, SRC, OUT).argv
    assert between(argv, "-c:v", "-pix_fmt") == ["-c:v", "libsvtav1", "-preset", "8", "-b:v", "1000k", "-pix_fmt"]


def test_width_alone_keeps_the_aspect_ratio() -> None:
    argv = video.plan(VideoOptions(width=1280), HD, SRC, OUT).argv
    assert between(argv, "-vf", "-vf") + [argv[argv.index("-vf") + 1]] == [
        "-vf", "scale=1280:720:flags=bicubic,setsar=1"]


def test_cover_scales_and_crops_at_the_position() -> None:
    argv = video.plan(VideoOptions(width=400, height=400, fit="cover", position="left"), HD, SRC, OUT).argv
    assert argv[argv.index("-vf") + 1] == "scale=712:400:flags=bicubic,crop=400:400:0:0,setsar=1"


def test_contain_pads_with_the_background_colour() -> None:
    argv = video.plan(VideoOptions(width=400, height=400, background="#ff0000"), HD, SRC, OUT).argv
    assert argv[argv.index("-vf") + 1] == "scale=400:224:flags=bicubic,pad=400:400:0:88:color=0xff0000,setsar=1"


def test_fps_comes_before_scaling() -> None:
    argv = video.plan(VideoOptions(fps=12.5, width=640), HD, SRC, OUT).argv
    assert argv[argv.index("-vf") + 1] == "fps=12.5,scale=640:360:flags=bicubic,setsar=1"


def test_odd_input_sizes_are_rounded_to_even_for_yuv420p() -> None:
    odd = HD.model_copy(update={"width": 321, "height": 241})
    argv = video.plan(VideoOptions(), odd, SRC, OUT).argv
    assert argv[argv.index("-vf") + 1] == "scale=320:240:flags=bicubic,setsar=1"


def test_trim_seeks_before_the_input_and_limits_the_length() -> None:
    todo = video.plan(VideoOptions(start=2, end=5.5), HD, SRC, OUT)
    assert todo.argv[:len(head()) + len(input_args(SRC, pre=["-ss", "2"])) + 2] == [
        *head(), *input_args(SRC, pre=["-ss", "2"]), "-t", "3.5"]
    assert todo.duration == 3.5


def test_end_past_the_input_measures_progress_against_what_exists() -> None:
    todo = video.plan(VideoOptions(start=4, end=60), HD, SRC, OUT)
    assert todo.argv[todo.argv.index("-t") + 1] == "56"
    assert todo.duration == 6.0


def test_start_past_the_end_is_refused() -> None:
    with pytest.raises(ProcessingError) as caught:
        video.plan(VideoOptions(start=12), HD, SRC, OUT)
    assert caught.value.kind == "invalid_option"
    assert "12" in caught.value.message and "10" in caught.value.message


def test_h265_refuses_pictures_smaller_than_x265_can_encode() -> None:
    with pytest.raises(ProcessingError) as caught:
        video.plan(VideoOptions(codec="h265", height=12), HD, SRC, OUT)
    assert (caught.value.kind, caught.value.field) == ("invalid_option", "height")
    assert "16" in caught.value.message
    assert video.plan(VideoOptions(codec="h264", height=8), HD, SRC, OUT).argv


@pytest.mark.parametrize(("options", "source"), [(VideoOptions(mute=True), HD), (VideoOptions(), SILENT)])
def test_mute_or_a_silent_input_drops_audio(options: VideoOptions, source: File) -> None:
    argv = video.plan(options, source, SRC, OUT).argv
    assert "-an" in argv
    assert "-c:a" not in argv


@pytest.mark.parametrize(
    ("source", "words"),
    [
        (SONG, "no video track"),
        (HD.model_copy(update={"codecs": Codecs(video="av1", audio="opus")}), "AV1"),
        (File(url=URL, kind="video", format="webp", width=64, height=48, codecs=Codecs(video="webp")), "WebP"),
    ],
)
def test_inputs_ffmpeg_cannot_decode_fail_before_running(source: File, words: str) -> None:
    with pytest.raises(ProcessingError) as caught:
        video.plan(VideoOptions(), source, SRC, OUT)
    assert caught.value.kind == "unsupported_media"
    assert words in caught.value.message


# --- audio -------------------------------------------------------------------------------------


def test_audio_default_is_vbr_mp3_without_the_picture() -> None:
    todo = audio.plan(AudioOptions(), HD, SRC, OUT)
    assert todo.argv == [*head(), *input_args(SRC), "-vn", "-sn", "-dn", "-c:a", "libmp3lame", "-q:a", "4",
                         "-f", "mp3", str(OUT / "output.mp3")]
    assert todo.output == OUT / "output.mp3"
    assert todo.duration == 10.0


@pytest.mark.parametrize(
    ("fmt", "tail"),
    [
        ("mp3", ["-c:a", "libmp3lame", "-q:a", "4", "-f", "mp3", "output.mp3"]),
        ("aac", ["-c:a", "aac", "-b:a", "128k", "-f", "ipod", "-movflags", "+faststart", "output.m4a"]),
        ("ogg", ["-c:a", "vorbis", "-strict", "-2", "-ac", "2", "-q:a", "3", "-f", "ogg", "output.ogg"]),
        ("opus", ["-c:a", "libopus", "-b:a", "96k", "-f", "opus", "output.opus"]),
        ("wav", ["-c:a", "pcm_s16le", "-f", "wav", "output.wav"]),
        ("flac", ["-c:a", "flac", "-f", "flac", "output.flac"]),
    ],
)
def test_each_audio_format(fmt: str, tail: list[str]) -> None:
    todo = audio.plan(AudioOptions(format=fmt), SONG, SRC, OUT)
    assert todo.argv == [*head(), *input_args(SRC), "-vn", "-sn", "-dn", *tail[:-1], str(OUT / tail[-1])]
    assert todo.output == OUT / tail[-1]


@pytest.mark.parametrize(
    ("fmt", "quality", "bitrate", "expected"),
    [
        ("mp3", "very_high", None, ["-q:a", "0"]),
        ("mp3", "very_low", None, ["-q:a", "7"]),
        ("mp3", "auto", 192_000, ["-b:a", "192k"]),
        ("aac", "low", None, ["-b:a", "96k"]),
        ("aac", "low", 320_000, ["-b:a", "320k"]),
        ("opus", "very_low", None, ["-b:a", "48k"]),
        ("opus", "high", 40_000, ["-b:a", "40k"]),
        ("ogg", "very_high", None, ["-q:a", "8"]),
        ("ogg", "auto", 96_000, ["-q:a", "2"]),  # the nearest native-Vorbis quality to 96 kbit/s
        ("wav", "very_high", 320_000, []),  # lossless: nothing to tune
        ("flac", "very_low", None, []),
    ],
)
def test_audio_quality_and_bitrate(fmt: str, quality: str, bitrate: int | None, expected: list[str]) -> None:
    assert audio.quality_args(fmt, AudioOptions(format=fmt, quality=quality).level, bitrate) == expected


def test_audio_trim() -> None:
    todo = audio.plan(AudioOptions(start=1, end=3), SONG, SRC, OUT)
    assert todo.argv[len(head()):len(head()) + len(input_args(SRC, pre=["-ss", "1"])) + 2] == [
        *input_args(SRC, pre=["-ss", "1"]), "-t", "2"]
    assert todo.duration == 2.0


def test_audio_from_a_silent_video_is_refused() -> None:
    with pytest.raises(ProcessingError) as caught:
        audio.plan(AudioOptions(), SILENT, SRC, OUT)
    assert caught.value.kind == "unsupported_media"
    assert "no audio track" in caught.value.message


# --- adaptive_video (HLS) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1920, 1080), [("1080p", 1920, 1080), ("720p", 1280, 720), ("480p", 854, 480), ("360p", 640, 360),
                        ("240p", 426, 240)]),
        ((3840, 2160), [("1080p", 1920, 1080), ("720p", 1280, 720), ("480p", 854, 480), ("360p", 640, 360),
                        ("240p", 426, 240)]),
        ((1280, 720), [("720p", 1280, 720), ("480p", 854, 480), ("360p", 640, 360), ("240p", 426, 240)]),
        ((1080, 1920), [("1080p", 1080, 1920), ("720p", 720, 1280), ("480p", 480, 854), ("360p", 360, 640),
                        ("240p", 240, 426)]),  # portrait: rungs follow the short side
        ((640, 400), [("400p", 640, 400), ("240p", 384, 240)]),  # its own size on top; 360p is too close
        ((1000, 562), [("562p", 1000, 562), ("480p", 854, 480), ("360p", 640, 360), ("240p", 428, 240)]),
        ((320, 240), [("240p", 320, 240)]),
        ((160, 120), [("120p", 160, 120)]),  # smaller than every rung: one rendition at its own size
    ],
)
def test_ladder_follows_the_output_size_without_upscaling(size: tuple[int, int],
                                                          expected: list[tuple[str, int, int]]) -> None:
    assert [(r.name, r.width, r.height) for r in hls.ladder(*size)] == expected


def test_ladder_peaks_scale_with_quality() -> None:
    assert [r.peak for r in hls.ladder(1280, 720)] == [2_800_000, 1_400_000, 800_000, 400_000]
    assert [r.peak for r in hls.ladder(1280, 720, "very_low")] == [1_400_000, 700_000, 400_000, 200_000]
    assert [r.peak for r in hls.ladder(1280, 720, "very_high")] == [5_040_000, 2_520_000, 1_440_000, 720_000]


def test_tiny_outputs_keep_a_minimum_peak() -> None:
    assert [r.peak for r in hls.ladder(160, 120)] == [150_000]


def test_hls_one_run_splits_into_renditions_with_aligned_segments() -> None:
    source = HD.model_copy(update={"width": 640, "height": 360})
    todo = hls.plan(AdaptiveOptions(), source, SRC, OUT)
    assert todo.argv == [
        *head(), *input_args(SRC),
        "-filter_complex",
        ("[0:v:0]split=2[s0][s1];[s0]scale=640:360:flags=bicubic,setsar=1[v0];"
         "[s1]scale=426:240:flags=bicubic,setsar=1[v1]"),
        "-map", "[v0]", "-map", "[v1]", "-map", "0:a:0", "-map", "0:a:0",
        "-c:v", "libx264", "-preset", "fast", "-crf", "23", "-pix_fmt", "yuv420p",
        "-maxrate:v:0", "800k", "-bufsize:v:0", "1600k", "-maxrate:v:1", "400k", "-bufsize:v:1", "800k",
        "-force_key_frames", "expr:gte(t,n_forced*6)",
        "-c:a", "aac", "-b:a", "128k",
        "-avoid_negative_ts", "disabled", "-hls_segment_options", "avoid_negative_ts=disabled",
        "-f", "hls", "-hls_time", "6", "-hls_playlist_type", "vod", "-hls_flags", "independent_segments",
        "-hls_segment_type", "mpegts", "-hls_segment_filename", str(OUT / "%v" / "segment-%d.ts"),
        "-master_pl_name", "master.m3u8", "-var_stream_map", "v:0,a:0,name:360p v:1,a:1,name:240p",
        str(OUT / "%v" / "stream.m3u8"),
    ]
    assert todo.output == OUT / "master.m3u8"
    assert todo.duration == 10.0


def test_hls_requested_size_sizes_once_then_sets_the_top_rung() -> None:
    argv = hls.plan(AdaptiveOptions(width=400, height=400, fit="cover"), HD, SRC, OUT).argv
    graph = argv[argv.index("-filter_complex") + 1]
    assert graph == ("[0:v:0]scale=712:400:flags=bicubic,crop=400:400:156:0,setsar=1,split=2[s0][s1];"
                     "[s0]scale=400:400:flags=bicubic,setsar=1[v0];[s1]scale=240:240:flags=bicubic,setsar=1[v1]")
    assert argv[argv.index("-var_stream_map") + 1] == "v:0,a:0,name:400p v:1,a:1,name:240p"
    assert between(argv, "-maxrate:v:0", "-bufsize:v:0") + [argv[argv.index("-bufsize:v:0") + 1]] == [
        "-maxrate:v:0", "972k", "-bufsize:v:0", "1944k"]  # 480p's peak scaled to 400p's pixels


def test_hls_single_rendition_needs_no_split() -> None:
    small = HD.model_copy(update={"width": 320, "height": 240})
    argv = hls.plan(AdaptiveOptions(), small, SRC, OUT).argv
    assert argv[argv.index("-filter_complex") + 1] == "[0:v:0]scale=320:240:flags=bicubic,setsar=1[v0]"
    assert argv[argv.index("-var_stream_map") + 1] == "v:0,a:0,name:240p"


def test_hls_mute_gives_video_only_variants() -> None:
    argv = hls.plan(AdaptiveOptions(mute=True), HD, SRC, OUT).argv
    assert "0:a:0" not in argv and "-c:a" not in argv
    assert argv[argv.index("-var_stream_map") + 1] == (
        "v:0,name:1080p v:1,name:720p v:2,name:480p v:3,name:360p v:4,name:240p")


def test_hls_audio_only_input_gives_one_aac_rendition() -> None:
    todo = hls.plan(AdaptiveOptions(start=1, end=4), SONG, SRC, OUT)
    assert todo.argv == [
        *head(), *input_args(SRC, pre=["-ss", "1"]), "-t", "3",
        "-map", "0:a:0", "-c:a", "aac", "-b:a", "128k",
        "-avoid_negative_ts", "disabled", "-hls_segment_options", "avoid_negative_ts=disabled",
        "-f", "hls", "-hls_time", "6", "-hls_playlist_type", "vod", "-hls_flags", "independent_segments",
        "-hls_segment_type", "mpegts", "-hls_segment_filename", str(OUT / "%v" / "segment-%d.ts"),
        "-master_pl_name", "master.m3u8", "-var_stream_map", "a:0,name:audio",
        str(OUT / "%v" / "stream.m3u8"),
    ]
    assert todo.duration == 3.0


def test_hls_mute_on_audio_only_input_leaves_nothing() -> None:
    with pytest.raises(ProcessingError) as caught:
        hls.plan(AdaptiveOptions(mute=True), SONG, SRC, OUT)
    assert caught.value.kind == "invalid_option"
