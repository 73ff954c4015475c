"""The README's "Use it inside your own CDK app" example, verbatim, as a platform team runs it: their own
app (a bare `App()`), none of this repository's cdk.json feature flags, in a folder of their own."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.infra.conftest import ROOT, resources, tag

HEADING = "### Use it inside your own CDK app"
MEMORY_PROP = "encode_memory_mb=3008, "  # as the example passes it; removed for the "defaults" run
FLAG = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"  # what the construct once depended on

def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index(HEADING) + len(HEADING):]
    section = re.split(r"\n#{1,3} ", section)[0]  # up to the next heading
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, f"a python code block under {HEADING!r}"
    return match.group(1)


def synthesize_in_own_folder(code: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Run the example as a team's app.py would run: in a folder of its own, no cdk.json, no CDK_* context
    from a CLI. In this process: jsii is already up here, and a fresh `App()` reads no context of ours."""
    for name in [k for k in os.environ if k.startswith("CDK_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CDK_OUTDIR", str(folder / "cdk.out"))  # where the CLI would have it write
    monkeypatch.setenv("MEDIAJET_ALLOW_PLACEHOLDER_LAYERS", "1")  # the layers are not built in tests
    monkeypatch.chdir(folder)
    assert not (folder / "cdk.json").exists() and not (folder / "cdk.context.json").exists()
    scope: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(code, "README.md example", "exec"), scope)  # noqa: S102 - the README's own example
    app = scope["app"]
    assert app.node.try_get_context(FLAG) is None, "no feature flags reached the team's app"
    assembly = app.synth()  # the same, cached assembly the example's own call produced
    stack = assembly.get_stack_by_name("Media")
    return {"template": stack.template, "directory": assembly.directory, "template_file": stack.template_full_path}


@pytest.mark.parametrize("memory", ["as written (encode_memory_mb=3008)", "default encode memory"])
def test_the_readme_example_synthesizes_in_a_bare_app_with_and_without_the_memory_option(
        tmp_path: Path, memory: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from infra.lambdas import FUNCTION_TAG, MAX_MB
    from mediajet.pipeline.definition import ENCODE_CHUNK

    code = readme_example()
    assert code.count(MEMORY_PROP) == 1, "the example passes encode_memory_mb=3008 once"
    if memory.startswith("default"):
        code = code.replace(MEMORY_PROP, "")  # the same call without the option: its default
    expected_mb = 3008 if MEMORY_PROP in code else MAX_MB
    result = synthesize_in_own_folder(code, tmp_path, monkeypatch)  # raises there when cdk-nag has a finding

    template = result["template"]
    assert resources(template, "AWS::StepFunctions::StateMachine"), "the pipeline's state machine"
    fns = {tag(r, FUNCTION_TAG): r["Properties"] for r in resources(template, "AWS::Lambda::Function").values()
           if tag(r, FUNCTION_TAG)}
    assert {"api", "probe", "encode", ENCODE_CHUNK.name, "finalize", "on_upload"} <= set(fns)
    assert fns["encode"]["MemorySize"] == fns[ENCODE_CHUNK.name]["MemorySize"] == expected_mb
    assert "MediaApi" in template["Outputs"]
    # Access logs by bucket policy, exactly as with the flag: no ACL, owner-enforced buckets.
    for bucket in resources(template, "AWS::S3::Bucket").values():
        assert "AccessControl" not in bucket["Properties"]
        assert bucket["Properties"]["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    log_writes = [s for p in resources(template, "AWS::S3::BucketPolicy").values()
                  for s in p["Properties"]["PolicyDocument"]["Statement"]
                  if s.get("Principal") == {"Service": "logging.s3.amazonaws.com"}]
    assert len(log_writes) == 3, "work, output and inbox log into the access-logs bucket"

    # cdk-nag (the example calls nag.check) and cfn-lint, as tests/infra/test_checks.py runs them.
    report = Path(result["directory"]) / "validation-report.json"
    for plugin in json.loads(report.read_text())["pluginReports"] if report.exists() else []:
        assert plugin["conclusion"] == "success", plugin
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(Path(result["template_file"]), ManualArgs(ignore_checks=["W3005"]))
    assert not matches, "\n".join(str(m) for m in matches)


def test_the_access_logs_setup_is_the_same_with_and_without_the_flag(tmp_path: Path) -> None:
    """The construct writes its log-delivery policy itself, so the flag changes nothing."""
    import aws_cdk as cdk

    from infra.storage import Storage

    def storage_template(context: dict[str, Any]) -> dict[str, Any]:
        app = cdk.App(context=context, outdir=str(tmp_path / str(len(context))))
        stack = cdk.Stack(app, "S")
        Storage(stack, "Storage")
        return app.synth().get_stack_by_name("S").template

    assert storage_template({}) == storage_template({FLAG: True}) == storage_template({FLAG: False})
