"""Output names: path templates in `output` ({id}, {date}, {filename}, {kind}, {ext}) and the default
location of results when a job names no destination."""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import unicodedata
from urllib.parse import unquote, urlsplit

from mediajet.errors import InvalidRequest

VARIABLES = ("id", "date", "filename", "kind", "ext")
FALLBACK_NAME = "output"
MAX_NAME = 100

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def validate_template(template: str) -> None:
    """Raise InvalidRequest(kind="invalid_output") for an unknown `{variable}` or a stray brace, so a
    typo fails the request instead of the job."""
    unknown = [name for name in _PLACEHOLDER.findall(template) if name not in VARIABLES]
    if unknown:
        known = ", ".join(f"{{{v}}}" for v in VARIABLES)
        raise InvalidRequest(
            f"output uses the unknown template variable {{{unknown[0]}}}; the variables are {known}",
            kind="invalid_output", field="output",
        )
    if "{" in _PLACEHOLDER.sub("", template) or "}" in _PLACEHOLDER.sub("", template):
        raise InvalidRequest("output has an unmatched '{' or '}'", kind="invalid_output", field="output")


def render(template: str, *, job_id: str, kind: str, filename: str, ext: str,
           date: dt.date | None = None) -> str:
    """Fill the template variables; `date` defaults to today in UTC (the processing date)."""
    validate_template(template)
    day = date or dt.datetime.now(dt.UTC).date()
    values = {
        "id": job_id,
        "date": day.isoformat(),
        "filename": sanitize_name(filename),  # user-controlled: never a path separator or '..'
        "kind": kind,
        "ext": ext.lstrip("."),
    }
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def sanitize_name(name: str) -> str:
    """A name that is safe as one path segment in every store and URL: ASCII letters, digits, '.',
    '_' and '-', accents folded ('café' → 'cafe'), no leading dots, at most MAX_NAME characters."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    safe = _UNSAFE.sub("-", folded).strip("-.")[:MAX_NAME].strip("-.")
    return safe or FALLBACK_NAME


def filename_from_url(url: str) -> str:
    """The input's base name without its extension: `https://x/a/spot-tv-30s.mp4?sig=1` → `spot-tv-30s`.
    Works for http(s), s3:// and file:// URLs and plain paths."""
    if url.startswith("s3://"):
        path = url[len("s3://"):].partition("/")[2]  # s3 keys are literal: '?' and '#' are part of them
    elif "://" in url:
        path = unquote(urlsplit(url).path)
    else:
        path = url
    base = posixpath.basename(path.replace("\\", "/").rstrip("/"))
    stem, ext = posixpath.splitext(base)
    return sanitize_name(stem if ext else base)


def default_output_key(job_id: str, filename: str, ext: str) -> str:
    """Where a result goes in output storage when the job names no destination; for adaptive_video
    (ext "m3u8") the playlist's folder, `jobs/<id>/`, holds the whole HLS tree."""
    return f"{default_output_prefix(job_id)}{sanitize_name(filename)}.{ext.lstrip('.')}"


def default_output_prefix(job_id: str) -> str:
    return f"jobs/{sanitize_name(job_id)}/"


def owned_folder(key: str) -> str | None:
    """The folder a stored result takes with it when it is deleted: a standalone task's result is all that
    task made, so `tasks/<id>/` goes whole (the runner keeps its copy of the input there); None otherwise."""
    parts = key.split("/")
    return f"tasks/{parts[1]}/" if parts[0] == "tasks" and len(parts) > 2 else None


def upload_path(project: str, folder: str | None, filename: str) -> str:
    """`<project>/<folder>/<filename>`: where a media library upload lives (the embedded server's
    /uploads/ URL, the inbox's library/ key on AWS)."""
    return "/".join(part for part in (project, folder, filename) if part)


def split_upload_path(path: str) -> tuple[str, str | None, str] | None:
    """(project, folder, filename) of an `upload_path`, or None when it names no file in a project."""
    parts = path.split("/")
    if len(parts) < 2:
        return None
    return parts[0], "/".join(parts[1:-1]) or None, parts[-1]
