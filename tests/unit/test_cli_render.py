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
