"""`--local`: run a job or a task in this process, with the same pipeline the server runs.

The work runs on a thread while this one shows progress. Ctrl-C or SIGTERM stops the running ffmpeg
(it is in a session of its own, so the terminal's Ctrl-C never reaches it) before the command exits:
130 for Ctrl-C (cli/main.py), death by SIGTERM for SIGTERM, as a shell expects.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mediajet.cli.render import Renderer
from mediajet.errors import InvalidRequest, ShuttingDown
from mediajet.local.runtime import LocalRuntime
from mediajet.media.runner import STOP_GRACE_S
from mediajet.models.job import Job, Task
from mediajet.models.requests import parse_options, with_pipeline_tasks
from mediajet.pipeline.execute import run_job
from mediajet.pipeline.tasks import run_task
from mediajet.settings import Settings

WAKE_S = 0.2  # how often the watcher looks up from waiting (Ctrl-C), not how often it reads
LOCAL_PROJECT = "prj_local"
LET_GO_S = STOP_GRACE_S + 5  # how long the work gets to give up once its encoder is stopped


class Terminated(Exception):
    pass


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


def _watch(read: Any, renderer: Renderer, done: threading.Event, written: threading.Event) -> dict[str, Any]:
    """Render the record each time the work writes it (a step starts or ends, the encoder's progress
    callback is recorded: at most once a second), not on a timer. The wait is short so Ctrl-C is felt."""
    while not done.is_set():
        if written.wait(WAKE_S):
            written.clear()
            renderer.update(read())
    return read()


def run_watched(work: Callable[[threading.Event], object], read: Callable[[], dict[str, Any]],
                renderer: Renderer, written: threading.Event) -> dict[str, Any]:
    """Run `work(stop)` on a thread and render `read()` whenever `written` says the record changed,
    until the work ends. On Ctrl-C or SIGTERM, `stop` ends the running child and the exception goes on
    once the work has let go."""
    stop, done = threading.Event(), threading.Event()

    def target() -> None:
        try:
            work(stop)
        except ShuttingDown:
            pass
        finally:
            done.set()
            written.set()  # wake the watcher for the last record

    runner = threading.Thread(target=target, name="mediajet-local", daemon=True)
    runner.start()
    try:
        record = _watch(read, renderer, done, written)
    except (KeyboardInterrupt, Terminated):
        stop.set()
        runner.join(LET_GO_S)
        raise
    runner.join()
    return record


@contextlib.contextmanager
def _dies_of_sigterm() -> Iterator[None]:
    """SIGTERM raises Terminated inside; once everything in there has cleaned up (the encoder stopped,
    scratch space removed), the process dies of the signal, as the sender expects."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may handle signals; an embedding program handles its own
        return

    def terminated(signum: int, frame: object) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    except Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        raise  # not reached: the default action ends the process
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_job_locally(kind: str, source: str, output: str | None, options: dict[str, Any], settings: Settings,
                    renderer: Renderer) -> dict[str, Any]:
    parse_options(kind, options)  # a bad flag is a usage error, before any work starts
    destination = str(Path(output).expanduser().resolve()) if output else default_output(kind)
    if kind == "adaptive_video" and output and not output.endswith(".m3u8"):
        raise InvalidRequest("adaptive output must end in .m3u8", kind="invalid_output", field="output")
    Path(destination).parent.mkdir(parents=True, exist_ok=True)
    # Scratch space next to the output, so finished files are renamed into place, never copied.
    scratch = tempfile.TemporaryDirectory(prefix=".mediajet-", dir=Path(destination).parent)
    with _dies_of_sigterm(), scratch as data_dir:
        runtime = LocalRuntime.open(settings, Path(data_dir), allow_local_files=True)
        job = with_pipeline_tasks(Job(kind=kind, input=resolve_input(source), options=options,  # type: ignore[arg-type]
                                      destination=destination, project_id=LOCAL_PROJECT))
        runtime.jobs.create_job(job)
        return run_watched(lambda stop: run_job(job.id, runtime.context(stop=stop)),
                           lambda: _dump(runtime.jobs.get_job(job.id)), renderer, runtime.jobs.written)


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
    with _dies_of_sigterm():
        record = run_watched(lambda stop: run_task(task.id, runtime.context(stop=stop)),
                             lambda: _dump(runtime.jobs.get_task(task.id)), renderer, runtime.jobs.written)
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
