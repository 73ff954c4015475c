"""MIME types of the files MediaJet reads and writes (version 2025-08-20's `type`, automations' `type`
condition), by kind and format as the probe and the encoders name them."""

from __future__ import annotations

MIME = {
    "video": {"mp4": "video/mp4", "m4v": "video/x-m4v", "mov": "video/quicktime", "webm": "video/webm",
              "mkv": "video/x-matroska", "ts": "video/mp2t", "avi": "video/x-msvideo", "3gp": "video/3gpp",
              "3g2": "video/3gpp2", "ogg": "video/ogg", "flv": "video/x-flv", "mpeg": "video/mpeg",
              "gif": "image/gif", "webp": "image/webp", "hls": "application/vnd.apple.mpegurl"},
    "audio": {"mp3": "audio/mpeg", "aac": "audio/aac", "m4a": "audio/mp4", "mp4": "audio/mp4", "ogg": "audio/ogg",
              "opus": "audio/ogg", "wav": "audio/wav", "flac": "audio/flac", "webm": "audio/webm",
              "aiff": "audio/aiff", "amr": "audio/amr"},
    "image": {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "avif": "image/avif",
              "gif": "image/gif", "heic": "image/heic", "bmp": "image/bmp", "tiff": "image/tiff"},
}


def mime_type(kind: str | None, fmt: str | None) -> str:
    known = MIME.get(kind or "", {}).get(fmt or "")
    if known:
        return known
    return f"{kind}/{fmt}" if kind and fmt else "application/octet-stream"
