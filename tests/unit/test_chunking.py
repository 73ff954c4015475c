"""Where long videos are cut (pure planner on packet lists) and the ffmpeg commands of a chunked encode,
compared as exact argv lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediajet.media.chunking import (
    SEEKABLE_FORMATS,
    Chunk,
    Packet,
    Scan,
    clean_keyframes,
    parse_scan,
    plan_chunks,
    scan_argv,
)
from mediajet.media.inputs import SAFE_DEMUXERS, input_args
from mediajet.media.plans import chunked
from mediajet.media.sound_slices import SoundSlice
from mediajet.models.file import Codecs, File
from mediajet.models.options import AdaptiveOptions, VideoOptions

MP4 = SEEKABLE_FORMATS[0]
FRAME = 0.04  # 25 fps


def stream(seconds: float, gop: int = 25, bframes: int = 0, open_gop: bool = False) -> Scan:
    """Packets in decode order: I/P frames with `bframes` B-frames between them (displayed before the
    P that follows them in decode order). With `open_gop`, B-frames after each keyframe show before it."""
    count = round(seconds / FRAME)
    packets: list[Packet] = []
    n = 0
    while n < count:
        key = n % gop == 0
        if bframes and not key and n + bframes < count and (n % gop) + bframes < gop:
            anchor = n + bframes  # decoded first, shown after the B-frames
            packets.append(Packet(pts=anchor * FRAME, key=False))
            packets += [Packet(pts=b * FRAME, key=False) for b in range(n, anchor)]
            n = anchor + 1
            continue
        packets.append(Packet(pts=n * FRAME, key=key))
        if key and open_gop and n > 0:
            packets += [Packet(pts=(n - b) * FRAME - FRAME / 2, key=False) for b in range(1, 3)]
        n += 1
    return Scan(stream=0, format_name=MP4, packets=packets)


def test_video_chunks_start_at_keyframes_about_target_apart_and_tile_the_input() -> None:
    plan = plan_chunks(stream(12, gop=25, bframes=2), target=3)
    assert plan is not None
    assert [(c.piece_start, c.seek, c.zero) for c in plan.chunks] == [(0, 0, 0), (3, 0, 3), (6, 0, 6), (9, 0, 9)]
    assert [c.piece_packets for c in plan.chunks] == [75, 75, 75, None]
    assert [c.duration for c in plan.chunks] == [pytest.approx(3)] * 3 + [None]
    assert plan.video_offset == 0 and plan.frame_duration == pytest.approx(FRAME)


def test_a_short_tail_joins_the_last_chunk() -> None:
    plan = plan_chunks(stream(10, gop=25), target=3)
    assert plan is not None
    assert [c.zero for c in plan.chunks] == [0, 3, 6]  # 9-10 s alone would be a third of a chunk


def test_keyframes_crossed_by_reordered_frames_are_not_cut_points() -> None:
    packets = stream(12, gop=25, open_gop=True).packets
    clean = [t for t, _ in clean_keyframes(packets)]
    assert clean == [0.0], "every later keyframe has frames shown before it but decoded after"
    assert plan_chunks(Scan(stream=0, format_name=MP4, packets=packets), target=3) is None


def test_no_chunks_when_the_input_cannot_be_cut() -> None:
    assert plan_chunks(stream(12, gop=300), target=3) is None, "one keyframe: nothing to cut at"
    assert plan_chunks(stream(4, gop=25), target=3) is None, "shorter than two chunks"
    ts = stream(12).model_copy(update={"format_name": "mpegts"})
    assert plan_chunks(ts, target=3) is None, "no seek index: a stream-copy seek may miss the keyframe"


def test_hls_chunks_follow_the_segment_grid_and_seek_from_the_keyframe_before() -> None:
    plan = plan_chunks(stream(30, gop=40), target=10, grid=6)  # keyframes every 1.6 s
    assert plan is not None
    # 12 s: the multiple of 6 nearest 10; each chunk starts half a frame before its first frame, or at
    # that frame when it is a keyframe (24 s), so no frame can fall on a boundary.
    assert [c.zero for c in plan.chunks] == pytest.approx([0, 12 - FRAME / 2, 24])
    second = plan.chunks[1]
    assert second.piece_start == pytest.approx(11.2) and second.seek == pytest.approx(12 - FRAME / 2 - 11.2)
    assert plan.chunks[0].piece_packets == round(12.8 / FRAME), "to the first keyframe after the cut"
    assert plan.chunks[0].duration == pytest.approx(second.zero - plan.chunks[0].zero)


def test_start_and_end_trim_the_first_and_last_chunk() -> None:
    plan = plan_chunks(stream(12, gop=25), target=3, start=1.5, end=10.5)
    assert plan is not None
    first, last = plan.chunks[0], plan.chunks[-1]
    assert (first.piece_start, first.seek, first.zero) == (1.0, 0.5, 1.5)
    assert last.duration == pytest.approx(10.5 - last.zero)
    assert plan.video_offset == 0


def test_with_an_output_frame_rate_chunks_start_on_its_frame_grid() -> None:
    plan = plan_chunks(stream(12, gop=10), target=3, fps=15)  # keyframes every 0.4 s
    assert plan is not None
    assert all(round(c.zero * 15, 6) == round(c.zero * 15) for c in plan.chunks)


def test_the_scan_picks_the_largest_picture_and_ignores_cover_art() -> None:
    text = "\n".join([
        "stream,0,video,600,600,0.000000,1", "stream,1,video,320,240,10.000000,0", "stream,2,audio,44100,10.021000,0",
        "packet,0,0.000000,K__", "packet,1,10.040000,K__", "packet,2,10.000000,K__", "packet,1,10.080000,___",
        f'format,"{MP4}",10.000000',
    ])
    scan = parse_scan(text)
    assert scan is not None and scan.stream == 1 and scan.format_name == MP4 and scan.sample_rate == 44100
    assert scan.sound_start is not None and round(scan.sound_start, 6) == 0.021, "from the input's start"
    assert [(round(p.pts, 6), p.key) for p in scan.packets] == [(0.04, True), (0.08, False)]
    assert parse_scan("stream,0,audio,44100,0.000000,0\npacket,0,0.0,K__\nformat,mp3,0.0") is None
    two_rates = parse_scan(text.replace("stream,2,audio,44100,10.021000,0",
                                        "stream,2,audio,44100,10.021000,0\nstream,3,audio,48000,N/A,0"))
    assert two_rates is not None and two_rates.sample_rate is None, "no one grid for the sound: it stays whole"


# --- argv ---------------------------------------------------------------------------------------

SRC, PIECE, OUT = Path("/w/in"), Path("/w/piece.mkv"), Path("/w/out.nut")
HD = File(url="file:///w/in", kind="video", format="mp4", width=1920, height=1080, duration=120.0, fps=25,
          codecs=Codecs(video="h264", audio="aac"))
HEAD = ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:2", "-nostats"]
CHUNK = Chunk(index=1, piece_start=28.0, piece_packets=800, seek=2.0, zero=30.0, duration=30.0)


GUARD = ["-protocol_whitelist", "file,pipe", "-format_whitelist", ",".join(SAFE_DEMUXERS),
         "-max_pixels", "67108864"]  # decoders refuse any frame over MEDIAJET_MAX_PIXELS


def test_the_keyframe_scan_reads_packets_behind_the_input_guard() -> None:
    assert scan_argv(SRC) == [
        "ffprobe", "-hide_banner", "-loglevel", "error", "-of", "csv=p=1", "-show_entries",
        ("format=start_time,format_name:stream=index,codec_type,width,height,sample_rate,start_time:"
         "stream_disposition=attached_pic:packet=stream_index,pts_time,flags"), *GUARD, "-i", str(SRC)]


def test_a_piece_is_a_stream_copy_from_just_past_its_keyframe() -> None:
    assert chunked.piece_argv(SRC, 1, CHUNK, FRAME, PIECE) == [
        *HEAD, *GUARD, "-ss", "28.01", "-i", str(SRC), "-map", "0:1", "-c", "copy", "-frames:v", "800",
        "-f", "matroska", str(PIECE)]
    first = CHUNK.model_copy(update={"piece_start": 0.0, "piece_packets": None})
    assert chunked.piece_argv(SRC, 0, first, FRAME, PIECE) == [
        *HEAD, *input_args(SRC), "-map", "0:0", "-c", "copy", "-f", "matroska", str(PIECE)]


def test_a_video_chunk_uses_the_single_pass_settings_without_sound_or_container_tag() -> None:
    options = VideoOptions(format="mp4", codec="h265", width=1280)
    assert chunked.video_chunk_argv(options, HD, PIECE, CHUNK, OUT) == [
        *HEAD, *GUARD, "-ss", "2", "-i", str(PIECE), "-t", "30",
        "-vf", "scale=1280:720:flags=bicubic,setsar=1",
        "-c:v", "libx265", "-preset", "fast", "-x265-params", "log-level=error", "-crf", "23", "-pix_fmt", "yuv420p",
        "-an", "-sn", "-dn", "-f", "nut", str(OUT)]


def test_an_hls_part_writes_every_rendition_and_its_sound_into_segments_timed_as_the_single_pass() -> None:
    timing = chunked.SegmentTiming(offset=30.0, sound_shift=-0.005333, first_segment=5)
    sound, out = Path("/w/kept.aac"), Path("/w/hls")
    argv = chunked.hls_part_argv(AdaptiveOptions(), HD, PIECE, CHUNK, sound, timing, out)
    inputs = [*input_args(PIECE, pre=["-ss", "2"]), *input_args(sound, pre=["-itsoffset", "-0.005333", "-f", "aac"])]
    assert argv[:len(HEAD) + len(inputs) + 2] == [*HEAD, *inputs, "-t", "30"], "every rendition cut at the chunk's end"
    assert argv.count("-map") == 10 and argv.count("1:a:0") == 5, "each rendition carries the sound"
    assert argv[argv.index("-force_key_frames") + 1] == "expr:gte(t,n_forced*6)"
    assert argv[argv.index("-force_key_frames") + 2:argv.index("hls") - 1] == [
        *["-map", "1:a:0"] * 5, "-c:a", "copy", "-sn", "-dn", "-output_ts_offset", "30", "-start_number", "5",
        "-avoid_negative_ts", "disabled", "-hls_segment_options", "avoid_negative_ts=disabled"]
    assert argv[-1] == "/w/hls/%v/stream.m3u8"
    last = chunked.hls_part_argv(AdaptiveOptions(mute=True), HD, PIECE, CHUNK, None,
                                 chunked.SegmentTiming(offset=30.0, sound_shift=0.0, first_segment=5),
                                 out)
    assert "1:a:0" not in last and "-c:a" not in last


def test_the_sound_is_encoded_once_over_the_requested_range() -> None:
    options = VideoOptions(format="webm", start=5, end=65)
    assert chunked.audio_argv(options, HD, SRC, OUT) == [
        *HEAD, *input_args(SRC, pre=["-ss", "5"]), "-t", "60", "-vn", "-sn", "-dn",
        "-c:a", "libopus", "-b:a", "96k", "-f", "matroska", str(OUT)]
    assert chunked.audio_argv(AdaptiveOptions(), HD, SRC, OUT) == [
        *HEAD, *input_args(SRC), "-vn", "-sn", "-dn", "-c:a", "aac", "-b:a", "128k", "-f", "mp4", str(OUT)]


def test_a_sound_slice_is_encoded_sample_exact_with_its_rolls_as_adts() -> None:
    piece = SoundSlice(index=1, start=48 * 1024, end=96 * 1024, rate=48000)  # 1.024 s to 2.048 s
    assert chunked.sound_slice_argv(VideoOptions(start=5), HD, SRC, piece, OUT) == [
        *HEAD, *input_args(SRC, pre=["-ss", "5.682667"]), "-t", "1.450667", "-vn", "-sn", "-dn",
        "-af", "aresample=first_pts=0", "-c:a", "aac", "-b:a", "128k", "-f", "adts", str(OUT)]
    first = SoundSlice(index=0, start=0, end=48 * 1024, rate=48000)
    last = SoundSlice(index=2, start=96 * 1024, end=None, rate=48000)
    assert chunked.sound_slice_argv(AdaptiveOptions(), HD, SRC, first, OUT)[len(HEAD):len(HEAD) + len(GUARD) + 4] == [
        *GUARD, "-i", str(SRC), "-t", "1.109333"]
    assert chunked.sound_slice_argv(VideoOptions(end=60), HD, SRC, last, OUT)[len(HEAD) + len(GUARD):][:6] == [
        "-ss", "1.706667", "-i", str(SRC), "-t", "58.293333"]


def test_the_concat_list_gives_each_chunk_the_time_up_to_the_next() -> None:
    chunks = [Chunk(index=i, piece_start=z, piece_packets=None, seek=0, zero=z, duration=None)
              for i, z in enumerate([0.0, 3.0, 6.02])]
    paths = [Path(f"/w/c{i}.nut") for i in range(3)]
    text = chunked.concat_list(list(zip(paths, chunks, strict=True)), [3.0, 6.02, None])
    assert text == ("ffconcat version 1.0\nfile '/w/c0.nut'\nduration 3\nfile '/w/c1.nut'\nduration 3.02\n"
                    "file '/w/c2.nut'\n")


def test_the_join_copies_both_streams_into_the_requested_container() -> None:
    listing, audio, out = Path("/w/list"), Path("/w/audio"), Path("/w/output.mp4")
    options = VideoOptions(codec="h265")
    assert chunked.video_join_argv(options, listing, 0.5, audio, out) == [
        *HEAD, "-f", "concat", "-safe", "0", "-protocol_whitelist", "file", "-itsoffset", "0.5", "-i", str(listing),
        *input_args(audio), "-map", "0:v:0", "-map", "1:a:0", "-c", "copy", "-tag:v", "hvc1",
        "-f", "mp4", "-movflags", "+faststart", str(out)]


def test_a_whole_sound_is_put_back_where_its_encode_started_it() -> None:
    listing, audio, out = Path("/w/list"), Path("/w/audio"), Path("/w/output.webm")
    argv = chunked.video_join_argv(VideoOptions(format="webm"), listing, 0.0, audio, out, sound_offset=5.0065)
    assert argv[argv.index(str(listing)) + 1:argv.index(str(audio)) + 1] == [*GUARD, "-itsoffset", "5.0065", "-i",
                                                                           str(audio)]


def test_the_join_reads_a_whole_sound_s_start_time_behind_the_input_guard() -> None:
    assert chunked.start_time_argv(Path("/w/audio")) == [
        "ffprobe", "-v", "error", "-show_entries", "format=start_time", "-of", "csv=p=0", *GUARD, "-i", "/w/audio"]


def test_sliced_sound_is_read_as_adts_one_frame_early_so_the_priming_is_hidden() -> None:
    listing, audio, out = Path("/w/list"), Path("/w/sound.aac"), Path("/w/output.mp4")
    assert chunked.video_join_argv(VideoOptions(), listing, 0.0, audio, out, rate=44100) == [
        *HEAD, "-f", "concat", "-safe", "0", "-protocol_whitelist", "file", "-i", str(listing),
        *GUARD, "-itsoffset", "-0.02322", "-f", "aac", "-i", str(audio), "-map", "0:v:0", "-map", "1:a:0",
        "-c", "copy", "-f", "mp4", "-movflags", "+faststart", str(out)]
