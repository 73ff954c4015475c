"""cdk-nag (AwsSolutions) for MediaJet: the check, and the helpers the constructs acknowledge findings with.

v3 form: `Validations.of(app).add_plugins(AwsSolutionsChecks(app))`; findings are acknowledged one by
one with `Validations.of(construct).acknowledge(...)` (it covers the construct's children), on the
narrowest construct that carries them, by the construct that makes the resource (each with the reason
it stands).
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import Construct, IConstruct


def check(app: Construct) -> None:
    """Run the AwsSolutions pack at synth: an unacknowledged finding stops the synth. Acknowledged
    findings are also written into each resource's Metadata (`cdk_nag.rules_to_suppress`) as an audit
    trail in the deployed template."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))


def ack(scope: IConstruct, rule: str, reason: str) -> None:
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


def render(scope: IConstruct, value: str) -> str:
    """A (token) string as cdk-nag prints it in a finding: `<Logical.Arn>`, `<AWS::Region>`, …"""
    return _flatten(Stack.of(scope).resolve(value))


def _flatten(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_flatten(part) for part in parts)
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    if isinstance(value, dict) and "Fn::Select" in value:  # printed as the intrinsic's compact JSON
        return json.dumps(value, separators=(",", ":"))
    raise ValueError(f"cannot render {value!r}")
