"""`--local`: run a job or a task in this process, with the same pipeline the server runs."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mediajet.cli.render import Renderer
from mediajet.errors import InvalidRequest
from mediajet.local.runtime import LocalRuntime
from mediajet.models.job import Job, Task
from mediajet.models.requests import parse_options, with_pipeline_tasks
from mediajet.pipeline.execute import run_job
from mediajet.pipeline.tasks import run_task
from mediajet.settings import Settings

POLL_S = 0.2
LOCAL_PROJECT = "prj_local"


def resolve_input(value: str) -> str:
    """A URL stays a URL; anything else is a local path that must exist."""
    if urlsplit(value).scheme in ("http", "https", "s3", "file"):
        return value
    path = Path(value).expanduser()
    if not path.is_file():
        raise InvalidRequest(f"input file not found: {value}", kind="input_not_found", field="input")
    return path.resolve().as_uri()


def default_output(kind: str) -> str:
    suffix = "" if kind == "adaptive_video" else "-{kind}"
    return str(Path.cwd() / f"{{filename}}{suffix}.{{ext}}")


def _watch(read: Any, renderer: Renderer, done: threading.Event) -> dict[str, Any]:
    while not done.wait(POLL_S):
        renderer.update(read())
    return read()


def run_job_locally(kind: str, source: str, output: str | None, options: dict[str, Any], settings: Settings,
                    renderer: Renderer) -> dict[str, Any]:
    parse_options(kind, options)  # a bad flag is a usage error, before any work starts
    destination = str(Path(output).expanduser().resolve()) if output else default_output(kind)
    if kind == "adaptive_video" and output and not output.endswith(".m3u8"):
        raise InvalidRequest("adaptive output must end in .m3u8", kind="invalid_output", field="output")
    Path(destination).parent.mkdir(parents=True, exist_ok=True)
    # Scratch space next to the output, so finished files are renamed into place, never copied.
    with tempfile.TemporaryDirectory(prefix=".mediajet-", dir=Path(destination).parent) as data_dir:
        runtime = LocalRuntime.open(settings, Path(data_dir), allow_local_files=True)
        job = with_pipeline_tasks(Job(kind=kind, input=resolve_input(source), options=options,  # type: ignore[arg-type]
                                      destination=destination, project_id=LOCAL_PROJECT))
        runtime.jobs.create_job(job)
        done = threading.Event()
        runner = threading.Thread(target=lambda: (run_job(job.id, runtime.context()), done.set()), daemon=True)
        runner.start()
        record = _watch(lambda: _dump(runtime.jobs.get_job(job.id)), renderer, done)
        runner.join()
        return record


def run_task_locally(kind: str, task_input: dict[str, Any], output: str | None, options: dict[str, Any],
                     settings: Settings, renderer: Renderer) -> dict[str, Any]:
    if kind in ("video", "audio", "image", "animation", "adaptive_video"):
        parse_options(kind, options)
    if kind == "export" and output:
        options = {**options, "url": output}
    # Task outputs stay in the data directory so that the next task can take them as input.
    runtime = LocalRuntime.open(settings, allow_local_files=True)
    url = task_input.get("url") if isinstance(task_input, dict) else None
    if not isinstance(url, str) or not url:
        raise InvalidRequest("-i needs a JSON object with a url, e.g. '{\"url\": \"video.mp4\"}'",
                             kind="input_required", field="input")
    task = Task(kind=kind, input={**task_input, "url": resolve_input(url)}, options=options,
                project_id=LOCAL_PROJECT)
    runtime.jobs.create_task(task)
    done = threading.Event()
    runner = threading.Thread(target=lambda: (run_task(task.id, runtime.context()), done.set()), daemon=True)
    runner.start()
    record = _watch(lambda: _dump(runtime.jobs.get_task(task.id)), renderer, done)
    runner.join()
    if output and kind != "export" and record.get("status") == "succeeded":
        record = _copy_out(record, output)
    return record


def _copy_out(record: dict[str, Any], output: str) -> dict[str, Any]:
    import shutil

    src = Path(urlsplit(record["output"]["url"]).path)
    dest = Path(output).expanduser().resolve()
    dest.parent.mkdir(parents=True, exist_ok=True)
    if src.name.endswith(".m3u8"):
        shutil.copytree(src.parent, dest.parent, dirs_exist_ok=True)
        if dest.name != src.name:
            (dest.parent / src.name).rename(dest)
    else:
        shutil.copyfile(src, dest)
    record["output"]["url"] = dest.as_uri()
    return record


def _dump(model: Job | Task) -> dict[str, Any]:
    return model.model_dump(mode="json")
