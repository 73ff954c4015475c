"""kind `audio`: one ffmpeg run from an audio file or the sound of a video (spec §1.5.2).

| format | encoder | file | quality (`auto` = medium) |
|---|---|---|---|
| mp3 | libmp3lame | output.mp3 | LAME VBR V7..V0; `bitrate` → CBR |
| aac | native aac | output.m4a | 64..256 kbit/s CBR |
| ogg | native vorbis | output.ogg | q1..q8; `bitrate` → nearest q |
| opus | libopus | output.opus | 48..160 kbit/s VBR |
| wav | pcm_s16le | output.wav | lossless: quality and bitrate do not apply |
| flac | flac | output.flac | lossless: quality and bitrate do not apply |

AAC goes in an MP4 audio file (.m4a, written by the `ipod` muxer so the brand says M4A) rather than
raw ADTS: it carries its duration and a seek index, and every browser and phone plays it.
Native Vorbis is stereo-only (`-ac 2`) and marked experimental (`-strict -2`); this ffmpeg build
has no libvorbis.
"""

from __future__ import annotations

from pathlib import Path

from mediajet.errors import ProcessingError
from mediajet.media.inputs import input_args
from mediajet.media.plans import Plan
from mediajet.media.plans.common import (
    AAC_BITRATE,
    MP3_VBR,
    OPUS_BITRATE,
    VORBIS_Q,
    VORBIS_Q_KBPS,
    ffmpeg_head,
    kbps,
    trim,
)
from mediajet.models.file import File
from mediajet.models.options import AudioOptions

# format → (file extension, encoder args, muxer args)
FORMATS: dict[str, tuple[str, list[str], list[str]]] = {
    "mp3": ("mp3", ["-c:a", "libmp3lame"], ["-f", "mp3"]),
    "aac": ("m4a", ["-c:a", "aac"], ["-f", "ipod", "-movflags", "+faststart"]),
    "ogg": ("ogg", ["-c:a", "vorbis", "-strict", "-2", "-ac", "2"], ["-f", "ogg"]),
    "opus": ("opus", ["-c:a", "libopus"], ["-f", "opus"]),
    "wav": ("wav", ["-c:a", "pcm_s16le"], ["-f", "wav"]),
    "flac": ("flac", ["-c:a", "flac"], ["-f", "flac"]),
}


def plan(options: AudioOptions, source: File, src: Path, out_dir: Path) -> Plan:
    if not source.has_audio:
        raise ProcessingError("the input has no audio track; send an audio file or a video with sound",
                              kind="unsupported_media")
    extension, encoder, muxer = FORMATS[options.format]
    cut = trim(options.start, options.end, source)
    out = out_dir.absolute() / f"output.{extension}"
    argv = [
        *ffmpeg_head(), *input_args(src.absolute(), pre=cut.pre), *cut.post,
        "-vn", "-sn", "-dn",  # cover art and other tracks stay behind
        *encoder, *quality_args(options.format, options.level, options.bitrate),
        *muxer, str(out),
    ]
    return Plan(output=out, argv=argv, duration=cut.duration)


def quality_args(fmt: str, level: str, bitrate: int | None) -> list[str]:
    if fmt == "mp3":
        return ["-b:a", kbps(bitrate)] if bitrate else ["-q:a", str(MP3_VBR[level])]
    if fmt == "aac":
        return ["-b:a", kbps(bitrate or AAC_BITRATE[level])]
    if fmt == "opus":
        return ["-b:a", kbps(bitrate or OPUS_BITRATE[level])]
    if fmt == "ogg":
        return ["-q:a", str(vorbis_quality(bitrate) if bitrate else VORBIS_Q[level])]
    return []


def vorbis_quality(bitrate: int) -> int:
    """The native Vorbis encoder has no bitrate control: take the q whose typical rate is closest."""
    return min(VORBIS_Q_KBPS, key=lambda q: abs(VORBIS_Q_KBPS[q] * 1000 - bitrate))
