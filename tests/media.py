"""Tiny media generated on demand (ffmpeg lavfi, Pillow): tests never commit large files."""

from __future__ import annotations

import subprocess
from pathlib import Path

from mediajet.media.binaries import ffmpeg

_VIDEO_CODECS = {
    ".mp4": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"],
    ".mov": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"],
    ".mkv": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"],
    ".webm": ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus"],
    ".ts": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"],
}
_AUDIO_CODECS = {
    ".mp3": ["-c:a", "libmp3lame"],
    ".m4a": ["-c:a", "aac"],
    ".aac": ["-c:a", "aac"],
    ".wav": ["-c:a", "pcm_s16le"],
    ".flac": ["-c:a", "flac"],
    ".opus": ["-c:a", "libopus"],
    ".ogg": ["-c:a", "vorbis", "-strict", "-2", "-ac", "2"],
}


def _ffmpeg(args: list[str]) -> None:
    subprocess.run([ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], check=True,
                   timeout=120, capture_output=True)


def make_video(path: Path, *, seconds: float = 2, size: str = "320x240", fps: int = 25, audio: bool = True,
               source: str = "testsrc2", gop: int | None = None, audio_seconds: float | None = None) -> Path:
    """A clip with moving colour bars and (by default) a 440 Hz tone; codecs follow the extension.
    `gop`: a keyframe every `gop` frames (as phones write them), so the clip can be cut into chunks.
    `audio_seconds`: a tone that stops before the picture does."""
    path = Path(path)
    args = ["-f", "lavfi", "-i", f"{source}=size={size}:rate={fps}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={audio_seconds or seconds}"]
    codecs = _VIDEO_CODECS[path.suffix.lower()]
    if not audio:
        codecs = codecs[: codecs.index("-c:a")] + ["-an"]
    extra = ["-movflags", "+faststart"] if path.suffix.lower() in (".mp4", ".mov") else []
    if gop:
        extra += ["-g", str(gop), "-keyint_min", str(gop)]
    _ffmpeg([*args, *codecs, *extra, *([] if audio_seconds else ["-shortest"]), str(path)])
    return path


def make_audio(path: Path, *, seconds: float = 2, frequency: int = 440) -> Path:
    path = Path(path)
    _ffmpeg(["-f", "lavfi", "-i", f"sine=frequency={frequency}:sample_rate=48000:duration={seconds}",
             *_AUDIO_CODECS[path.suffix.lower()], str(path)])
    return path


def make_image(path: Path, *, size: tuple[int, int] = (320, 240), color: tuple[int, int, int] = (200, 30, 30),
               alpha: bool = False) -> Path:
    """A solid image with a white square in the top-left quarter (so crops and pads can be checked)."""
    from PIL import Image

    path = Path(path)
    mode = "RGBA" if alpha else "RGB"
    fill = (*color, 255) if alpha else color
    image = Image.new(mode, size, fill)
    square = Image.new(mode, (size[0] // 4, size[1] // 4), (255, 255, 255, 255) if alpha else (255, 255, 255))
    image.paste(square, (0, 0))
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".avif": "AVIF", ".gif": "GIF"}
    image.save(path, fmt[path.suffix.lower()])
    return path
