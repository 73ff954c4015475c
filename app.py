#!/usr/bin/env python3
"""The CDK app: `npx aws-cdk@2.1148.1 deploy` (see README, "Deploy to AWS")."""

import os

import aws_cdk as cdk

from infra import nag
from infra.stack import MediaJetStack

app = cdk.App()
MediaJetStack(
    app, app.node.try_get_context("mediajet:stackName") or "MediaJet",
    mediajet={"architecture": app.node.try_get_context("mediajet:architecture") or "arm64"},
    env=cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")),
)
nag.check(app)
app.synth()
