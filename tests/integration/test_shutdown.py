"""Stopping MediaJet stops its encoders: the worker's stop (what `mediajet serve` calls on SIGTERM or
Ctrl-C), Ctrl-C and SIGTERM on `mediajet … --local`, and even kill -9 of the Python process. The
stopped jobs are left to resume at the next start, not failed or cancelled.

Encodes are made long by reading the input in real time (`-re`), so a tiny clip keeps ffmpeg busy
for as long as the test needs without costing CPU.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mediajet.local.runtime import LocalRuntime
from mediajet.media import runner
from mediajet.media.binaries import ffmpeg
from mediajet.models.job import Job
from mediajet.models.requests import build_job, parse_job_create
from mediajet.pipeline import chunked
from mediajet.settings import Settings
from tests.media import make_video

PROJECT = "prj_shutdown"
# A patch for runner.run: every video encode reads its input in real time.
REAL_TIME = textwrap.dedent("""
    def real_time(run):
        def slow(argv, **kwargs):
            argv = list(argv)
            if "-c:v" in argv:
                argv.insert(argv.index("-i"), "-re")
            return run(argv, **kwargs)
        return slow
""")
namespace: dict = {}
exec(REAL_TIME, namespace)  # noqa: S102 - the same source runs in the subprocesses below
real_time: Callable = namespace["real_time"]


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("shutdown") / "long.mp4", seconds=30, size="160x120", audio=False)


def new_job(runtime: LocalRuntime, source: Path) -> Job:
    job = build_job(parse_job_create({"input": "https://example.com/in", "kind": "video"}), PROJECT)
    job.input = source.as_uri()
    return runtime.jobs.create_job(job)[0]


def children(parent: int) -> dict[int, str]:
    """pid → command line of the live processes whose parent is `parent`."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == parent and fields[0] != "Z":
            found[int(entry.name)] = cmdline
    return found


def wait_for_encoder(parent: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        encoders = [pid for pid, cmdline in children(parent).items() if " -c:v " in cmdline]
        if encoders:
            return encoders[0]
        time.sleep(0.05)
    raise AssertionError("no encoder started")


def alive(pid: int) -> bool:
    """Running or stopped, not gone and not a zombie (a dead child its new parent has yet to reap)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# --- the server's worker ------------------------------------------------------------------------


@pytest.mark.parametrize("settings", [Settings(chunk_min_duration=0),
                                      Settings(chunk_min_duration=10, chunk_seconds=10, chunk_workers=2)],
                         ids=["one pass", "in parallel parts"])
def test_stopping_the_worker_stops_its_encoders_and_their_jobs_resume(tmp_path: Path, long_clip: Path,
                                                                    settings: Settings,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = LocalRuntime.open(settings, tmp_path / "data", allow_local_files=True)
    running, queued = new_job(runtime, long_clip), new_job(runtime, long_clip)
    monkeypatch.setattr(runner, "run", real_time(runner.run))
    worker = runtime.worker(concurrency=1)
    worker.start()
    encoder = wait_for_encoder(os.getpid())
    time.sleep(0.5)
    assert alive(encoder)

    started = time.monotonic()
    worker.stop()
    assert gone_within(encoder, 1), "the encoder outlived the worker"
    assert time.monotonic() - started < runner.STOP_GRACE_S + 1
    assert not [c for c in children(os.getpid()).values() if "ffmpeg" in c or "ffprobe" in c]

    stopped = runtime.jobs.get_job(running.id)
    assert (stopped.status, stopped.error) == ("processing", None), "left to resume, not failed or cancelled"
    assert [t.status for t in stopped.tasks[:3]] == ["succeeded", "succeeded", "processing"]
    assert runtime.jobs.get_job(queued.id).status == "queued"
    if settings.chunk_min_duration:  # stopped in the fan-out: the pieces stay for the resumed parts
        assert runtime.work.exists(f"{chunked.prefix(running.id)}/plan.json")

    monkeypatch.undo()  # the next start encodes at full speed
    again = runtime.worker(concurrency=1)
    again.start()
    deadline = time.monotonic() + 60
    while not again.idle() and time.monotonic() < deadline:
        time.sleep(0.05)
    again.stop()
    for job in (running, queued):
        done = runtime.jobs.get_job(job.id)
        assert done.status == "succeeded", done.error


def test_a_stopped_worker_starts_nothing_new(tmp_path: Path, long_clip: Path) -> None:
    runtime = LocalRuntime.open(Settings(), tmp_path / "data", allow_local_files=True)
    worker = runtime.worker(concurrency=1)
    worker.start()
    worker.stop()
    job = new_job(runtime, long_clip)
    worker.start_job(job)
    time.sleep(0.5)
    assert runtime.jobs.get_job(job.id).status == "queued"
    # other tests in this process may have left children of their own (CDK's jsii node): only ours count
    assert not [c for c in children(os.getpid()).values() if "ffmpeg" in c or "ffprobe" in c]


# --- a hard death -------------------------------------------------------------------------------


def test_encoders_die_with_a_python_process_killed_by_sigkill(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        from mediajet.media import runner
        runner.run([{ffmpeg()!r}, "-nostdin", "-re", "-f", "lavfi", "-i", "testsrc2=size=160x120:duration=60",
                    "-f", "null", "-"], timeout=120)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).parents[2])
    try:
        deadline = time.monotonic() + 30
        while not (encoders := children(parent.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        [encoder] = encoders
        parent.kill()
        parent.wait(10)
        assert gone_within(encoder, 5), "the encoder outlived its parent (PR_SET_PDEATHSIG)"
    finally:
        parent.kill()


# --- mediajet … --local -------------------------------------------------------------------------


def start_cli(clip: Path, out: Path) -> subprocess.Popen:
    """`mediajet video --local`, its encodes slowed to real time."""
    script = REAL_TIME + textwrap.dedent("""
        import sys
        from mediajet.media import runner
        runner.run = real_time(runner.run)
        from mediajet.cli.main import main
        sys.exit(main(sys.argv[1:]))
    """)
    env = {**os.environ, "MEDIAJET_CHUNK_MIN_DURATION": "0", "MEDIAJET_DATA_DIR": str(out.parent / ".mediajet")}
    return subprocess.Popen([sys.executable, "-c", script, "video", "-i", str(clip), "-o", str(out), "--local",
                             "--json"], cwd=out.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.parametrize(("signum", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, -signal.SIGTERM)],
                         ids=["ctrl-c", "sigterm"])
def test_interrupting_a_local_run_stops_its_encoder(tmp_path: Path, long_clip: Path, signum: int,
                                                    exit_code: int) -> None:
    cli = start_cli(long_clip, tmp_path / "out.mp4")
    try:
        encoder = wait_for_encoder(cli.pid)
        cli.send_signal(signum)
        assert cli.wait(runner.STOP_GRACE_S + 10) == exit_code, cli.stderr.read() if cli.stderr else ""
        assert gone_within(encoder, 1), "the encoder outlived the command"
        assert not list(tmp_path.glob(".mediajet-*")), "scratch space is cleaned up"
    finally:
        cli.kill()
