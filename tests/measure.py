"""What a viewer would notice, measured with ffmpeg: frame counts, A/V sync, per-frame quality.

`make_sync_clip` draws a white flash and plays a 1 kHz beep at the same instants, over a quiet
continuous tone; `marks` finds them again in an output, so the A/V offset is measured, not assumed.
"""

from __future__ import annotations

import math
import re
import subprocess
from array import array
from pathlib import Path

from mediajet.media.binaries import ffmpeg, ffprobe

MARKS = (2.0, 6.0, 8.52)  # seconds: a seam of 3 s chunks (6.0) and inside chunks
_MARK_LENGTH = 0.1


def make_sync_clip(path: Path, *, seconds: float = 12, fps: int = 25, gop: int = 25, size: str = "320x240") -> Path:
    """Colour bars (320x240 unless `size`) with a flash and a beep at each of MARKS over a quiet 440 Hz tone (so that
    every moment of the sound has something to get wrong), a keyframe every `gop` frames."""
    during = "+".join(f"between(t,{m},{m + _MARK_LENGTH - 0.001})" for m in MARKS)
    flash = "+".join(f"between(t,{m},{m + 0.5 / fps})" for m in MARKS)
    subprocess.run([
        ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", (f"testsrc2=size={size}:rate={fps}:duration={seconds},"
                              f"drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='{flash}'"),
        "-f", "lavfi", "-i", f"aevalsrc='0.8*sin(2*PI*1000*t)*({during})+0.05*sin(2*PI*440*t)':s=48000:d={seconds}",
        "-c:v", "libx264", "-preset", "ultrafast", "-g", str(gop), "-keyint_min", str(gop), "-bf", "2",
        "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", str(path),
    ], check=True, capture_output=True, timeout=120)
    return path


def streams(path: Path) -> dict[str, dict]:
    """codec_type → {frames, duration, width, height}, frames counted by decoding."""
    out = subprocess.run([ffprobe(), "-v", "error", "-count_frames", "-of", "csv=p=0", "-show_entries",
                          "stream=codec_type,nb_read_frames,width,height:format=duration", str(path)],
                         check=True, capture_output=True, text=True, timeout=120).stdout
    found: dict[str, dict] = {}
    lines = [line.split(",") for line in out.split()]
    duration = float(lines[-1][0])
    for row in lines[:-1]:
        if row[0] == "video":
            found["video"] = {"width": int(row[1]), "height": int(row[2]), "frames": int(row[3]), "duration": duration}
        elif row[0] == "audio":
            found["audio"] = {"frames": int(row[-1]), "duration": duration}
    return found


def frame_times(path: Path) -> list[float]:
    out = subprocess.run([ffprobe(), "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts_time",
                          "-of", "csv=p=0", str(path)], check=True, capture_output=True, text=True, timeout=120)
    return [float(t) for t in out.stdout.split()]


def packets(path: Path, stream: str = "v:0") -> list[tuple[float, bool]]:
    """(presentation time, keyframe) of each packet of `stream`, in presentation order, without decoding."""
    out = subprocess.run([ffprobe(), "-v", "error", "-select_streams", stream, "-show_entries", "packet=pts_time,flags",
                          "-of", "csv=p=0", str(path)], check=True, capture_output=True, text=True, timeout=120)
    found = [(float(t), flags.startswith("K")) for t, flags in (line.split(",")[:2] for line in out.stdout.split())]
    return sorted(found)


def marks(path: Path) -> tuple[list[float], list[float]]:
    """(flash times, beep start times), both read in one ffmpeg run so that they share the file's clock;
    beeps to 2 ms (16-sample frames at 8 kHz). Each filter prints to a file of its own: on stderr, the
    lines of the two filters and ffmpeg's own messages can interleave and hide a mark."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        video, audio = Path(tmp) / "video.txt", Path(tmp) / "audio.txt"
        graph = (f"[0:v:0]signalstats,metadata=print:key=lavfi.signalstats.YAVG:file={video}[v];"
                 "[0:a:0]aresample=8000,asetnsamples=n=16,astats=metadata=1:reset=1,"
                 f"ametadata=print:key=lavfi.astats.Overall.Peak_level:file={audio}[a]")
        subprocess.run([ffmpeg(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-i", str(path),
                        "-filter_complex", graph, "-map", "[v]", "-map", "[a]", "-f", "null", "-"],
                       check=True, capture_output=True, text=True, timeout=120)
        printed = {key: re.findall(r"pts_time:([-\d.]+)\n[^\n]*=([-\d.inf]+)", file.read_text())
                   for key, file in (("video", video), ("audio", audio))}
    seen = [float(time) for time, value in printed["video"] if float(value) > 200]
    heard: list[float] = []
    for time, value in printed["audio"]:
        if value != "-inf" and float(value) > -6 and (not heard or float(time) - heard[-1] > 0.5):  # beeps peak at -2 dB
            heard.append(float(time))
    return seen, heard


def sound(path: Path) -> array:
    """The first sound track, decoded: mono 16-bit samples at 48 kHz."""
    out = subprocess.run([ffmpeg(), "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", "48000",
                          "-f", "s16le", "-"], check=True, capture_output=True, timeout=120).stdout
    return array("h", out)


def sound_error(got: array, want: array, block: int = 1024) -> list[float]:
    """Per block of `block` samples: the energy of the difference over the energy of `want` (blocks
    of silence left out, as None)."""
    ratios: list[float] = []
    for at in range(0, min(len(got), len(want)) - block + 1, block):
        signal = sum(v * v for v in want[at:at + block])
        noise = sum((a - b) ** 2 for a, b in zip(got[at:at + block], want[at:at + block], strict=True))
        ratios.append(noise / signal if signal else float("nan"))
    return ratios


def ssim_per_frame(distorted: Path, reference: Path) -> list[float]:
    """SSIM of every frame of `distorted` against the same frame of `reference` (same size), frames
    paired from each one's first (HLS segments start their clock at 1.4 s)."""
    graph = "[0:v]setpts=PTS-STARTPTS[a];[1:v]setpts=PTS-STARTPTS[b];[a][b]ssim=stats_file=-"
    out = subprocess.run([ffmpeg(), "-hide_banner", "-nostdin", "-i", str(distorted), "-i", str(reference),
                          "-lavfi", graph, "-f", "null", "-"],
                         check=True, capture_output=True, text=True, timeout=300).stdout
    return [float(v) for v in re.findall(r"All:([\d.]+)", out)]


def segment_starts(playlist: Path) -> list[int]:
    """The first picture's timestamp (90 kHz) in each segment of an HLS playlist."""
    starts = []
    for name in re.findall(r"^([^#\s]\S*)$", playlist.read_text(), re.MULTILINE):
        out = subprocess.run([ffprobe(), "-v", "error", "-select_streams", "v:0", "-read_intervals", "%+#1",
                              "-show_entries", "packet=pts", "-of", "csv=p=0", str(playlist.parent / name)],
                             check=True, capture_output=True, text=True, timeout=60).stdout
        starts.append(int(out.split()[0].split(",")[0]))
    return starts


def top_rendition(master: Path) -> Path:
    """The first (largest) rendition's playlist of an HLS master playlist."""
    return master.parent / re.findall(r"^(\S+\.m3u8)$", master.read_text(), re.MULTILINE)[0]


def assert_like_single_pass(chunked: Path, single: Path, source: Path, *, fps: int, seams: list[float]) -> None:
    """What a viewer would notice between a chunked encode and the single pass of the same job, for
    outputs at the source's size made from `make_sync_clip`: the playlists (HLS), size, frames, length,
    sound, A/V sync and the quality of the frames around each seam (seconds in `seams`)."""
    import statistics

    if chunked.suffix == ".m3u8":  # the single pass's playlists, and segments timed as its: no seam
        # The master playlist: the same, but for bandwidths measured on segments whose packets are
        # muxed a little differently at the seams.
        rates = r"BANDWIDTH=(\d+)"
        assert re.sub(rates, "", chunked.read_text()) == re.sub(rates, "", single.read_text())
        for got, want in zip(re.findall(rates, chunked.read_text()), re.findall(rates, single.read_text()), strict=True):
            assert abs(int(got) / int(want) - 1) < 0.02, (got, want)
        for playlist in re.findall(r"^(\S+\.m3u8)$", single.read_text(), re.MULTILINE):
            assert (chunked.parent / playlist).read_text() == (single.parent / playlist).read_text(), playlist
            assert segment_starts(chunked.parent / playlist) == segment_starts(single.parent / playlist), playlist
        chunked, single = top_rendition(chunked), top_rendition(single)
    want, got = streams(single), streams(chunked)
    assert (got["video"]["width"], got["video"]["height"]) == (want["video"]["width"], want["video"]["height"])
    assert abs(got["video"]["frames"] - want["video"]["frames"]) <= 1
    assert abs(got["video"]["duration"] - want["video"]["duration"]) <= 1 / fps
    assert "audio" in got and abs(got["audio"]["duration"] - want["audio"]["duration"]) <= 1 / fps

    # A/V sync: each flash and its beep are less than a frame apart, and where the single pass puts
    # them to half a frame (which catches a chunk placed one frame off).
    offsets = []
    for result in (single, chunked):
        seen, heard = marks(result)
        assert len(seen) == len(heard) == len(MARKS), (result, seen, heard)
        offsets.append([s - h for s, h in zip(seen, heard, strict=True)])
        assert max(abs(o) for o in offsets[-1]) < 1 / fps, offsets
    assert max(abs(a - b) for a, b in zip(*offsets, strict=True)) < 0.5 / fps, offsets

    assert_sounds_alike(chunked, single, seams)

    # No visible seam: the frames around each chunk boundary look as good as the others. The last
    # frames of an encode run a little below the others' minimum (x264 measured 0.9877 against 0.9884),
    # so the floor sits half the others' median-to-minimum spread lower; a dropped, repeated or
    # misplaced frame on moving bars scores far below it (< 0.9).
    quality = ssim_per_frame(chunked, source)
    assert len(quality) == want["video"]["frames"]
    around_seams = {round(t * fps) + d for t in seams for d in (-2, -1, 0, 1)}
    flashed = {round(m * fps) + d for m in MARKS for d in (0, 1)}  # a full-white frame scores apart
    around = [q for i, q in enumerate(quality) if i in around_seams - flashed]
    others = [q for i, q in enumerate(quality) if i not in around_seams | flashed]
    floor = min(others) - (statistics.median(others) - min(others)) / 2
    assert around and min(around) >= floor, (around, floor)


def assert_sounds_alike(chunked: Path, single: Path, seams: list[float]) -> None:
    """No audible seam (outputs made from `make_sync_clip`)."""
    # No audible seam: the sound around each boundary is as close to the single pass's as elsewhere,
    # or at least 40 dB under the signal (slices cut without a pre-roll measured 29 dB under it here,
    # with a click; with it, 52 dB). The beeps' abrupt edges score apart (the encoder's window
    # switching), as the flashes do in the picture.
    got, wanted = sound(chunked), sound(single)
    assert abs(len(got) - len(wanted)) < 1024, (len(got), len(wanted))
    errors = sound_error(got, wanted)
    block = 1024 / 48000
    near = {int(t / block) + d for t in seams for d in (-1, 0, 1)}
    edges = {int(t / block) + d for m in MARKS for t in (m, m + _MARK_LENGTH) for d in (-2, -1, 0, 1, 2)}
    seam_errors = [e for i, e in enumerate(errors) if i in near and not math.isnan(e)]
    other_errors = [e for i, e in enumerate(errors) if i not in near | edges and not math.isnan(e)]
    assert seam_errors and max(seam_errors) <= max(*other_errors, 1e-4), (max(seam_errors), max(other_errors))
