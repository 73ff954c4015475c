"""Importing a Lambda handler (what Lambda's init phase does, and what every cold start pays) loads the
standard library and mediajet only: boto3, Pydantic, Powertools, Pillow and the rest load on the
first call that needs them. Each handler is imported as Lambda imports it: a fresh interpreter, the
function folder and the mediajet layer on sys.path, `import handler`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(path.name for path in (ROOT / "functions").iterdir() if (path / "handler.py").exists())
# Named so a failure says what it costs; the stdlib-only check below catches the ones not listed.
HEAVY = ["boto3", "botocore", "s3transfer", "PIL", "aws_lambda_powertools", "aws_xray_sdk", "pydantic",
         "pydantic_core", "pydantic_settings", "requests", "urllib3", "mediajet.store.dynamo",
         "mediajet.storage.s3", "mediajet.api.app", "mediajet.pipeline.steps", "mediajet.settings"]
PROGRAM = """
import json, sys
before = set(sys.modules)
import handler
assert callable(handler.handler)
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def loaded_by_import(function: str) -> list[str]:
    folder = ROOT / "functions" / function
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT / "layers" / "mediajet")])}
    out = subprocess.run([sys.executable, "-c", PROGRAM], cwd=folder, env=env, capture_output=True,
                         text=True, timeout=30, check=True).stdout
    return json.loads(out)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_importing_a_handler_loads_nothing_heavy(function: str) -> None:
    loaded = loaded_by_import(function)
    assert "mediajet.aws.handlers" in loaded, "the handler was imported"
    heavy = [name for name in HEAVY if name in loaded]
    assert not heavy, f"{function}/handler.py imports {heavy} at init"
    third_party = {name.split(".")[0] for name in loaded} - set(sys.stdlib_module_names) - {"mediajet", "handler"}
    assert not third_party, f"{function}/handler.py loads {sorted(third_party)} at init"


def test_every_function_is_checked() -> None:
    assert {"api", "probe", "import", "encode", "encode_chunk", "join", "export", "finalize",
            "on_upload", "webhooks"} <= set(FUNCTIONS)
