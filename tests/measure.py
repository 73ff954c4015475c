"""What a viewer would notice, measured with ffmpeg: frame counts, A/V sync, per-frame quality.

`make_sync_clip` draws a white flash and plays a 1 kHz beep at the same instants; `flashes` and
`beeps` find them again in an output, so the A/V offset is measured, not assumed.
"""

from __future__ import annotations

import array
import re
import subprocess
from pathlib import Path

from mediajet.media.binaries import ffmpeg, ffprobe

MARKS = (2.0, 6.0, 8.52)  # seconds: a seam of 3 s chunks (6.0) and inside chunks
_MARK_LENGTH = 0.1


def make_sync_clip(path: Path, *, seconds: float = 12, fps: int = 25, gop: int = 25) -> Path:
    """320x240 colour bars with a flash and a beep at each of MARKS, a keyframe every `gop` frames."""
    during = "+".join(f"between(t,{m},{m + _MARK_LENGTH - 0.001})" for m in MARKS)
    flash = "+".join(f"between(t,{m},{m + 0.5 / fps})" for m in MARKS)
    subprocess.run([
        ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate={fps}:duration={seconds},"
        f"drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='{flash}'",
        "-f", "lavfi", "-i", f"aevalsrc='0.8*sin(2*PI*1000*t)*({during})':s=48000:d={seconds}",
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


def flashes(path: Path) -> list[float]:
    """Presentation times of the white frames."""
    out = subprocess.run([ffmpeg(), "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:v:0",
                          "-vf", "signalstats,metadata=print:key=lavfi.signalstats.YAVG", "-f", "null", "-"],
                         capture_output=True, text=True, timeout=120).stderr
    times = [float(t) for t in re.findall(r"pts_time:([\d.]+)", out)]
    levels = [float(v) for v in re.findall(r"YAVG=([\d.]+)", out)]
    return [t for t, level in zip(times, levels, strict=True) if level > 200]


def beeps(path: Path, rate: int = 8000) -> list[float]:
    """Start times of each beep, from the decoded sound (to 1/rate s)."""
    raw = subprocess.run([ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path),
                          "-map", "0:a:0", "-ac", "1", "-ar", str(rate), "-f", "s16le", "-"],
                         check=True, capture_output=True, timeout=120).stdout
    samples = array.array("h", raw)
    onsets: list[float] = []
    for index, value in enumerate(samples):
        t = index / rate
        if abs(value) > 8000 and (not onsets or t - onsets[-1] > 0.5):
            onsets.append(t)
    return onsets


def ssim_per_frame(distorted: Path, reference: Path) -> list[float]:
    """SSIM of every frame of `distorted` against the same frame of `reference` (same size)."""
    out = subprocess.run([ffmpeg(), "-hide_banner", "-nostdin", "-i", str(distorted), "-i", str(reference),
                          "-lavfi", "[0:v][1:v]ssim=stats_file=-", "-f", "null", "-"],
                         capture_output=True, text=True, timeout=300).stdout
    return [float(v) for v in re.findall(r"All:([\d.]+)", out)]
