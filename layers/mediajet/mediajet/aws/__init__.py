"""The AWS adapters: settings from the Lambda environment, Step Functions orchestration, handlers."""
