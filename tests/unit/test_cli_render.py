"""What a person sees on a terminal while a job runs, and what a script sees when stdout is not one."""

from __future__ import annotations

import json

import pytest

from mediajet.cli.render import Renderer


def job(status: str, *tasks: tuple[str, str, int | None]) -> dict:
    return {"id": "job_1", "object": "job", "status": status, "output": "https://x/out.mp4",
            "tasks": [{"kind": kind, "status": state, "progress": progress} for kind, state, progress in tasks]}


RUNNING = job("processing", ("probe", "succeeded", None), ("import", "succeeded", None),
              ("video", "processing", 50), ("export", "waiting", None))
DONE = job("succeeded", *[(kind, "succeeded", None) for kind in ("probe", "import", "video", "export")])


def test_a_terminal_gets_one_bar_line_per_change_naming_the_running_step(capsys: pytest.CaptureFixture[str]) -> None:
    renderer = Renderer(json_lines=False)
    renderer.update(RUNNING)
    renderer.update(RUNNING)  # a poll that changed nothing prints nothing
    renderer.finish(DONE)
    out, err = capsys.readouterr()
    assert err.count("\r") == 1
    assert "[##########----------]  50%  step 3/4 video" in err and err.endswith("\n")
    assert out == "job_1 succeeded: https://x/out.mp4\n"


def test_a_failed_job_says_why_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    failed = {**job("failed", ("probe", "failed", None)), "error": {"kind": "input_unreachable", "message": "404"}}
    Renderer(json_lines=False).finish(failed)
    out, err = capsys.readouterr()
    assert out == "" and 'job_1 failed: {"kind": "input_unreachable"' in err


def test_json_lines_print_each_change_then_the_final_record(capsys: pytest.CaptureFixture[str]) -> None:
    renderer = Renderer(json_lines=True)
    renderer.update(RUNNING)
    renderer.update(RUNNING)
    renderer.finish(DONE)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["status"] for line in lines] == ["processing", "succeeded"]


def test_a_task_with_json_prints_exactly_one_document_to_chain(capsys: pytest.CaptureFixture[str]) -> None:
    renderer = Renderer(json_lines=True, progress_lines=False)
    renderer.update(RUNNING)
    renderer.finish(DONE)
    assert json.loads(capsys.readouterr().out) == DONE


def test_local_progress_follows_the_writes_not_a_timer(capsys: pytest.CaptureFixture[str]) -> None:
    import threading
    import time

    from mediajet.cli.local import run_watched

    written, reads = threading.Event(), []

    def work(stop: threading.Event) -> None:
        for percent in (10, 60):  # the encoder's callback, recorded twice, a second apart as the pipeline does
            time.sleep(0.5)
            reads.append(percent)
            written.set()

    def read() -> dict:
        percent = reads[-1] if reads else 0
        return job("processing", ("video", "processing", percent))

    calls = []
    record = run_watched(work, lambda: calls.append(1) or read(), Renderer(json_lines=True), written)
    # one read per write (two), one for the end, one for the final record: not five a second for a second
    assert len(calls) <= 4 and record["tasks"][0]["progress"] == 60
    assert [json.loads(line)["tasks"][0]["progress"] for line in capsys.readouterr().out.splitlines()] == [10, 60]
