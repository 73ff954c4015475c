"""CDK code for MediaJet on AWS: one construct per capability, composed by `infra.stack`."""
