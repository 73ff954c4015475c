"""Infra tests: the stack is synthesized once per test run (shared by xdist workers through a lock)
with cdk.json's context, cdk-nag on, and the placeholder layers (no download)."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
# Synth refuses unbuilt (placeholder) layers unless allowed: every infra test synthesizes without them
# (tests that check the refusal remove it with monkeypatch).
os.environ.setdefault("MEDIAJET_ALLOW_PLACEHOLDER_LAYERS", "1")

import pytest

ROOT = Path(__file__).resolve().parents[2]
STACK = "MediaJet"
REGION = "eu-west-1"


def synthesize(outdir: Path) -> None:
    import aws_cdk as cdk

    from infra.stack import build_app

    context = json.loads((ROOT / "cdk.json").read_text())["context"] | {"mediajet:placeholderLayers": "true",
                                                                      "mediajet:allowPlaceholderLayers": "true"}
    # A concrete region, as `cdk deploy` has: ARNs (and so nag finding ids) render with it.
    app = build_app(context=context, outdir=str(outdir), env=cdk.Environment(region=REGION))
    app.synth()


@pytest.fixture(scope="session")
def cdk_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # one per run, for all workers
    outdir = shared / "mediajet-cdk.out"
    with open(shared / "mediajet-cdk.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (outdir / f"{STACK}.template.json").exists():
            synthesize(outdir)  # raises with the cdk-nag report when a finding is not acknowledged
    return outdir


@pytest.fixture(scope="session")
def template(cdk_out: Path) -> dict[str, Any]:
    return json.loads((cdk_out / f"{STACK}.template.json").read_text())


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == kind}


def tag(resource: dict[str, Any], key: str) -> str | None:
    return next((t["Value"] for t in resource["Properties"].get("Tags", []) if t["Key"] == key), None)


@pytest.fixture(scope="session")
def functions(template: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """MediaJet's Lambda functions by name (functions/<name>): (logical id, resource)."""
    from infra.lambdas import FUNCTION_TAG

    found = {}
    for lid, resource in resources(template, "AWS::Lambda::Function").items():
        name = tag(resource, FUNCTION_TAG)
        if name:
            found[name] = (lid, resource)
    return found


@pytest.fixture(scope="session")
def state_machine_definition(template: dict[str, Any], functions: dict[str, tuple[str, dict[str, Any]]]) -> str:
    from tests.infra.harness import resolved_definition

    return resolved_definition(template, {name: lid for name, (lid, _) in functions.items()})


@pytest.fixture
def iam_checked(monkeypatch: pytest.MonkeyPatch, template: dict[str, Any],
                functions: dict[str, tuple[str, dict[str, Any]]]):
    """Records the DynamoDB requests the functions' handlers make (moto enforces no IAM), and fails the test when
    the synthesized role of the function that made one does not allow it (tests/infra/iam.py)."""
    from tests.infra import iam
    from tests.infra.harness import ACCOUNT

    with iam.recording(monkeypatch) as recorder:
        yield recorder
    refused = iam.denied(template, {name: lid for name, (lid, _) in functions.items()}, recorder,
                         region=REGION, account=ACCOUNT)
    assert not refused, "DynamoDB requests the function's role does not allow:\n" + "\n".join(refused)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, state_machine_definition: str, iam_checked: Any):
    from tests.infra.harness import moto_aws

    with moto_aws(monkeypatch, tmp_path / "scratch", state_machine_definition) as harness:
        yield harness
