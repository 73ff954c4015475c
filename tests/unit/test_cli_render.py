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
    bars = err.split("\r")[1:]
    assert len(bars) == 2, "one bar per change, then the finished one"
    # probe and import done (5% each), the encode half way (85% × 50%): 52% of the job
    assert bars[0].startswith("[##########----------]  52%  step 3/4 video") and "elapsed, ~" in bars[0]
    assert bars[1].startswith("[####################] 100%  4/4 done") and bars[1].endswith("\n")
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


def test_an_error_is_json_for_scripts_and_a_sentence_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    from mediajet.cli.render import error

    body = {"kind": "invalid_option", "message": "width must be at least 1", "field": "width"}
    error(body)
    assert json.loads(capsys.readouterr().err) == body
    error(body, human=True)
    assert capsys.readouterr().err == "mediajet: width must be at least 1 (invalid_option, field width)\n"


def test_a_mistyped_flag_is_named_with_the_closest_one_in_its_commands_usage(capsys: pytest.CaptureFixture[str]) -> None:
    from mediajet.cli.main import build_parser

    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(["video", "-i", "a.mp4", "--widht", "5"])
    err = capsys.readouterr().err
    assert caught.value.code == 2 and err.startswith("usage: mediajet video")
    assert "--widht (did you mean --width?)" in err


def test_the_ittybit_key_variable_is_read_too(monkeypatch: pytest.MonkeyPatch) -> None:
    from mediajet.settings import Settings

    monkeypatch.delenv("MEDIAJET_API_KEY", raising=False)
    monkeypatch.setenv("ITTYBIT_API_KEY", "from-ittybit")
    assert Settings().api_key == "from-ittybit"
    monkeypatch.setenv("MEDIAJET_API_KEY", "ours")
    assert Settings().api_key == "ours"
