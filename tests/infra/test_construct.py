"""MediaJet as a construct inside someone else's CDK app, with its options."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.infra.conftest import ROOT, resources, tag


def test_the_construct_in_a_team_stack_with_its_options_passes_nag(tmp_path: Path) -> None:
    import aws_cdk as cdk

    from infra import nag
    from infra.lambdas import FUNCTION_TAG
    from infra.stack import MediaJet

    app = cdk.App(outdir=str(tmp_path), context=json.loads((ROOT / "cdk.json").read_text())["context"])
    stack = cdk.Stack(app, "TeamMedia", env=cdk.Environment(region="us-east-2"))
    media = MediaJet(stack, "Media", architecture="x86_64", input_bucket_names=["team-uploads"],
                     export_bucket_names=["team-site"], encode_memory_mb=3008, chunk_concurrency=20,
                     chunk_reserved_concurrency=None, placeholder_layers=True)
    cdk.CfnOutput(stack, "Api", value=media.api.url)
    nag.check(app)
    app.synth()  # raises when a cdk-nag finding is not acknowledged

    template: dict[str, Any] = json.loads((tmp_path / "TeamMedia.template.json").read_text())
    fns = {tag(r, FUNCTION_TAG): r["Properties"] for r in resources(template, "AWS::Lambda::Function").values()
           if tag(r, FUNCTION_TAG)}
    assert {p["Architectures"][0] for p in fns.values()} == {"x86_64"}
    assert fns["encode"]["MemorySize"] == fns["encode_chunk"]["MemorySize"] == 3008
    assert fns["probe"]["Environment"]["Variables"]["MEDIAJET_ENCODE_SPEED"] == "0.85", "1.7 vCPUs / 2"
    assert not any("ReservedConcurrentExecutions" in p for p in fns.values()), "a low quota cannot reserve"
    (machine,) = resources(template, "AWS::StepFunctions::StateMachine").values()
    asl = "".join(p for p in machine["Properties"]["DefinitionString"]["Fn::Join"][1] if isinstance(p, str))
    assert '"MaxConcurrency":20,' in asl, "at most 20 parts of a job at once"
    policies = json.dumps(resources(template, "AWS::IAM::Policy"))
    assert ":s3:::team-uploads/*" in policies and ":s3:::team-site/*" in policies
    for layer in resources(template, "AWS::Lambda::LayerVersion").values():
        assert layer["Properties"]["CompatibleArchitectures"] == ["x86_64"]


def test_the_reservation_can_be_turned_off_from_the_command_line() -> None:
    from infra.stack import concurrency_option

    assert [concurrency_option(v) for v in ("none", "None", "off", "", None)] == [None] * 5
    assert (concurrency_option("50"), concurrency_option(50)) == (50, 50)
