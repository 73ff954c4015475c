"""Argv for a chunked encode (see media/chunking.py for where the cuts go): pure functions.

    piece   stream-copy one piece of the input's picture (Matroska keeps rotation and colour tags)
    chunk   encode one piece with the single pass's own video settings; each encoder starts a new,
            closed GOP. An MP4/MOV result's parts are that container, with the chunk's slice of the
            sound (joined by their indexes, media/mp4_join.py); any other's are video only, in NUT
            (exact timestamps), joined by ffmpeg's concat demuxer
    HLS     encode one piece into every rendition's segments, with the chunk's slice of the sound,
            numbered and timed as the single pass's: they are the result, the join writes playlists
    sound   AAC: one slice of the sound per chunk, as ADTS (media/sound_slices.py)
    audio   otherwise (Opus; AAC at a rate the encoder would change): the whole sound track once,
            as the single pass would, into MP4 (AAC) or Matroska (Opus), which keep the encoder's
            priming delay exactly (NUT drops it: the sound would start ~7-21 ms late)
    join    concatenate the chunks by stream copy at their exact start times and mux the sound

Each chunk starts at its own time zero; the concat list gives every chunk the duration up to the next
chunk's zero, so frames land where a single pass puts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mediajet.media.chunking import Chunk
from mediajet.media.inputs import LOCAL, Access, input_args
from mediajet.media.plans.common import ffmpeg_head, trim
from mediajet.media.plans.hls import audio_codec, hls_args, renditions_for, variant_map, video_streams
from mediajet.media.plans.video import audio_args, codec_args, container_args, video_filters
from mediajet.media.sound_slices import FRAME, SoundSlice
from mediajet.models.file import File
from mediajet.models.options import AdaptiveOptions, VideoOptions

INTERMEDIATE = ["-f", "nut"]


@dataclass(frozen=True)
class SegmentTiming:
    """Where an HLS part's output sits in the single pass's: `offset` (s) is added to every timestamp,
    the sound starts `sound_shift` s from the picture, segments are numbered from `first_segment`."""

    offset: float
    sound_shift: float
    first_segment: int


def precise(value: float) -> str:
    """A time argument to the microsecond: chunk boundaries need more than `seconds()`' milliseconds."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def piece_argv(src: Path | str, stream: int, chunk: Chunk, frame: float, out: Path,
               access: Access = LOCAL) -> list[str]:
    """`src`: the input in place (a path, or our loopback reader's URL: storage/media_source.py); the
    seek reads only the piece's bytes."""
    # A stream-copy seek starts at the keyframe at or before its target; a quarter frame past the
    # piece's keyframe can only land on that keyframe, whatever the rounding.
    seek = ["-ss", precise(chunk.piece_start + frame / 4)] if chunk.piece_start > 0 else []
    count = ["-frames:v", str(chunk.piece_packets)] if chunk.piece_packets else []
    return [*ffmpeg_head(), *input_args(src, pre=seek, access=access), "-map", f"0:{stream}", "-c", "copy",
            *count, "-f", "matroska", str(out)]


def _chunk_input(piece: Path, chunk: Chunk, more_inputs: list[str] | None = None) -> list[str]:
    """The piece from the chunk's zero, for the chunk's duration (accurate seek: frame-exact); the
    output's `-t` comes after `more_inputs`, which would otherwise take it as theirs."""
    seek = ["-ss", precise(chunk.seek)] if chunk.seek > 0 else []
    length = ["-t", precise(chunk.duration)] if chunk.duration is not None else []
    return [*input_args(piece, pre=seek), *(more_inputs or []), *length]


def video_chunk_argv(options: VideoOptions, source: File, piece: Path, chunk: Chunk, out: Path) -> list[str]:
    codec = codec_args(options.video_codec, options.level, options.bitrate, tagged=False)
    return [*ffmpeg_head(), *_chunk_input(piece, chunk), *video_filters(options, source), *codec,
            "-an", "-sn", "-dn", *INTERMEDIATE, str(out)]


def mp4_part_argv(options: VideoOptions, source: File, piece: Path, chunk: Chunk, sound: Path | None,
                  sound_shift: float, out: Path) -> list[str]:
    """One chunk of an MP4/MOV result, with its slice of the sound, in the result's own container:
    the join (media/mp4_join.py) puts the parts' media bytes one after the other as they are."""
    codec = codec_args(options.video_codec, options.level, options.bitrate)
    sound_input = input_args(sound, pre=["-itsoffset", precise(sound_shift), "-f", "aac"]) if sound is not None else []
    maps = ["-map", "0:v:0", *(["-map", "1:a:0", "-c:a", "copy"] if sound is not None else [])]
    return [*ffmpeg_head(), *_chunk_input(piece, chunk, sound_input), *video_filters(options, source), *codec,
            *maps, "-sn", "-dn", "-f", options.format, str(out)]


def hls_part_argv(options: AdaptiveOptions, source: File, piece: Path, chunk: Chunk, sound: Path | None,
                  timing: SegmentTiming, out_dir: Path) -> list[str]:
    """Every rendition of one chunk, straight into HLS segments. The output's `-t` (the chunk's length)
    cuts every rendition at the same frame; the sound's slice never starts a frame past it (its end is
    the chunk's end taken to the nearest 1024-sample frame, so its last frame starts before)."""
    geometry, renditions = renditions_for(options, source)
    streams = video_streams(geometry, options.background, renditions, options.level, with_audio=False)
    sound_input: list[str] = []
    if sound is not None:
        sound_input = input_args(sound, pre=["-itsoffset", precise(timing.sound_shift), "-f", "aac"])
        streams += [*["-map", "1:a:0"] * len(renditions), "-c:a", "copy"]
    return [*ffmpeg_head(), *_chunk_input(piece, chunk, sound_input), *streams, "-sn", "-dn",
            "-output_ts_offset", precise(timing.offset),
            "-start_number", str(timing.first_segment),
            *hls_args(out_dir.absolute(), variant_map(renditions, sound is not None))]


def sound_codec(options: VideoOptions | AdaptiveOptions, source: File) -> list[str]:
    """The single pass's sound codec and bitrate."""
    return audio_args(options, source) if isinstance(options, VideoOptions) else audio_codec(options.level)


def sound_is_aac(options: VideoOptions | AdaptiveOptions, source: File) -> bool:
    """Whether the single pass encodes the sound as AAC: the codec whose sound is cut with the chunks."""
    return sound_codec(options, source)[:2] == ["-c:a", "aac"]


def start_time_argv(path: Path) -> list[str]:
    """Where a file of ours starts playing (its format's start time), as one number."""
    return ["ffprobe", "-v", "error", "-show_entries", "format=start_time", "-of", "csv=p=0", *input_args(path)]


def audio_argv(options: VideoOptions | AdaptiveOptions, source: File, src: Path | str, out: Path,
               access: Access = LOCAL) -> list[str]:
    """The sound of the requested range, encoded once, with the single pass's codec and bitrate."""
    cut = trim(options.start, options.end, source)
    codec = sound_codec(options, source)
    container = "mp4" if codec[1] == "aac" else "matroska"
    return [*ffmpeg_head(), *input_args(src, pre=cut.pre, access=access), *cut.post, "-vn", "-sn", "-dn", *codec,
            "-f", container, str(out)]


def sound_slice_argv(options: VideoOptions | AdaptiveOptions, source: File, src: Path | str, piece: SoundSlice,
                     out: Path, access: Access = LOCAL) -> list[str]:
    """One slice of the sound with its pre- and post-roll (media/sound_slices.py), sample-exact (an
    accurate seek), as ADTS. A sound that starts after the output's zero gets silence up to it, as
    the single pass's edit list plays it, since ADTS has no timestamps to say so."""
    begin = options.start or 0.0
    seek = begin + piece.read_from / piece.rate
    if piece.read_to is not None:
        length: float | None = (piece.read_to - piece.read_from) / piece.rate
    else:
        length = None if options.end is None else options.end - seek
    pre = ["-ss", precise(seek)] if seek > 0 else []
    post = ["-t", precise(length)] if length is not None else []
    return [*ffmpeg_head(), *input_args(src, pre=pre, access=access), *post, "-vn", "-sn", "-dn",
            "-af", "aresample=first_pts=0", *sound_codec(options, source), "-f", "adts", str(out)]


def concat_list(chunks: list[tuple[Path, Chunk]], following: list[float | None]) -> str:
    """The ffconcat script: each chunk lasts until the next one's zero (the last one to its end)."""
    lines = ["ffconcat version 1.0"]
    for (path, chunk), next_zero in zip(chunks, following, strict=True):
        lines.append("file '" + str(path).replace("'", "'\\''") + "'")
        if next_zero is not None:
            lines.append(f"duration {precise(next_zero - chunk.zero)}")
    return "\n".join(lines) + "\n"


def _join_inputs(listing: Path, video_offset: float, audio: Path | None, rate: int | None,
                 sound_offset: float) -> list[str]:
    """`rate`: the sound is the joined ADTS slices at that sample rate, whose first frame is the
    encoder's priming: shifted back by it, the output starts with an edit list that skips it. Else
    the whole sound, which ffmpeg starts at zero as it does every input: `sound_offset`, the file's
    own start time, puts it back where its encode placed it (a sound that starts late, a priming)."""
    # The list and the chunks are this step's own files: the concat demuxer is trusted with them only.
    offset = ["-itsoffset", precise(video_offset)] if video_offset > 0 else []
    inputs = ["-f", "concat", "-safe", "0", "-protocol_whitelist", "file", *offset, "-i", str(listing)]
    if audio is None:
        return inputs
    if rate:
        placed = ["-itsoffset", "-" + precise(FRAME / rate), "-f", "aac"]
    else:
        placed = ["-itsoffset", precise(sound_offset)] if sound_offset else []
    return [*inputs, *input_args(audio, pre=placed)]


def video_join_argv(options: VideoOptions, listing: Path, video_offset: float, audio: Path | None,
                    out: Path, rate: int | None = None, sound_offset: float = 0.0) -> list[str]:
    maps = ["-map", "0:v:0", *(["-map", "1:a:0"] if audio is not None else [])]
    tag = ["-tag:v", "hvc1"] if options.video_codec == "h265" else []
    return [*ffmpeg_head(), *_join_inputs(listing, video_offset, audio, rate, sound_offset), *maps, "-c", "copy", *tag,
            *container_args(options.format), str(out)]
