"""Step Functions as the Orchestrator: one Standard execution per job, named by the job id."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mediajet.models.job import Job, Task


class StepFunctionsOrchestrator:
    def __init__(self, state_machine_arn: str, sfn: Any, lambda_client: Callable[[], Any] | None = None,
                 task_function: str | None = None) -> None:
        self.state_machine_arn = state_machine_arn
        self.sfn = sfn
        # Made on the first POST /tasks: Lambda's client is boto3's, ~100 ms of a cold start no job needs.
        self.lambda_client = lambda_client
        self.task_function = task_function

    def start_job(self, job: Job) -> None:
        try:
            # The execution name is the job id: Step Functions refuses a second run of one job.
            self.sfn.start_execution(stateMachineArn=self.state_machine_arn, name=job.id,
                                     input=json.dumps({"job_id": job.id}))
        except self.sfn.exceptions.ExecutionAlreadyExists:
            pass

    def start_task(self, task: Task) -> None:
        if not (self.lambda_client and self.task_function):
            raise RuntimeError("standalone tasks need MEDIAJET_ENCODE_FUNCTION")
        invoke_task(self.lambda_client(), self.task_function, task)

    def execution_arn(self, job_id: str) -> str:
        return self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{job_id}"

    def cancel_job(self, job: Job) -> None:
        try:
            self.sfn.stop_execution(executionArn=self.execution_arn(job.id), cause="cancelled through the API")
        except self.sfn.exceptions.ExecutionDoesNotExist:
            pass


def invoke_task(lambda_client: Any, function: str, task: Task) -> None:
    """A standalone task runs in the encode function, invoked asynchronously (`{"task_id"}`)."""
    lambda_client.invoke(FunctionName=function, InvocationType="Event", Payload=json.dumps({"task_id": task.id}).encode())
