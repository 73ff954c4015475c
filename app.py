#!/usr/bin/env python3
"""The CDK app: `npx aws-cdk@2.1148.1 deploy` (see README, "Deploy to AWS"; options in infra.stack.build_app)."""

from infra.stack import build_app

build_app().synth()
