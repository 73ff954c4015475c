"""Failures somebody sees: CloudWatch alarms on the pipeline, the functions, the dead-letter queues and
the API (each says what it means and what to do: README "Alarms and dead letters"), their actions on an
optional SNS topic, and one dashboard with the key metrics."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import names

PERIOD = Duration.minutes(5)
API_5XX_THRESHOLD = 5  # 5xx responses in 5 minutes
API_P99_THRESHOLD_MS = 5000  # p99 latency, for 3 periods in a row (the API's own work takes well under 1 s)
API_P99_PERIODS = 3
# encode_chunk's throttling is its reserved concurrency working as a ceiling (the Map retries with
# jitter): it is left out of the throttles alarm.
THROTTLE_EXEMPT = frozenset({names.CHUNK_FUNCTION})


@dataclass(frozen=True)
class DeadLetterQueue:
    queue: sqs.IQueue
    what: str  # whose failed invocations land in it
    redrive_to: str  # the function to invoke again with each record's requestPayload
    redrive: str | None = None  # what to do instead, for a queue whose messages are not invocation records


class Alarms(Construct):
    """`functions`: MediaJet's functions by name; `dead_letters`: the dead-letter queues by short name
    (uploads, tasks). With `topic`, every alarm notifies it on ALARM and on OK."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        state_machine: sfn.IStateMachine,
        http_api: apigwv2.IHttpApi,
        functions: Mapping[str, lambda_.IFunction],
        dead_letters: Mapping[str, DeadLetterQueue],
        topic: sns.ITopic | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarms: dict[str, cloudwatch.Alarm] = {}

        def alarm(alarm_id: str, metric: cloudwatch.IMetric, *, threshold: float, description: str,
                  periods: int = 1,
                  comparison: cloudwatch.ComparisonOperator =
                  cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD) -> cloudwatch.Alarm:
            made = cloudwatch.Alarm(self, alarm_id, metric=metric, threshold=threshold,
                                    evaluation_periods=periods, datapoints_to_alarm=periods,
                                    comparison_operator=comparison, alarm_description=description,
                                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)
            if topic is not None:
                made.add_alarm_action(actions.SnsAction(topic))
                made.add_ok_action(actions.SnsAction(topic))
            self.alarms[alarm_id] = made
            return made

        # The pipeline. A job that fails ends its execution in the `failed` state: inputs MediaJet cannot
        # use fail jobs too, so one failed execution is a signal to look, not always an outage.
        executions_failed = state_machine.metric_failed(period=PERIOD, statistic="Sum")
        executions_timed_out = state_machine.metric_timed_out(period=PERIOD, statistic="Sum")
        alarm("ExecutionsFailed", executions_failed, threshold=1, description=(
            "MediaJet: at least one job failed in 5 minutes (a state machine execution ended in `failed`). "
            "Look at the failed executions in the Step Functions console (their input is the job id) or GET "
            "/jobs/<id>: the job's error says why. An unusable input (invalid_input, unsupported…) is the "
            "caller's; internal_error or many failures in a row point to an outage: read the failing step's "
            "logs (its Errors alarm names it)."))
        alarm("ExecutionsTimedOut", executions_timed_out, threshold=1, description=(
            "MediaJet: a job's execution timed out, so its record may still say `processing`. Find it in the "
            "Step Functions console (status Timed out); cancel or resubmit the job."))

        # The functions: errors of each, throttles of all (encode_chunk's are expected).
        for name, function in functions.items():
            alarm(f"Errors{_pascal(name)}", function.metric_errors(period=PERIOD, statistic="Sum"), threshold=1,
                  description=_errors_description(name))
        throttled = {f"t{i}": f.metric_throttles(period=PERIOD, statistic="Sum")
                     for i, (name, f) in enumerate(functions.items()) if name not in THROTTLE_EXEMPT}
        throttles = cloudwatch.MathExpression(expression=" + ".join(throttled), using_metrics=throttled,
                                              period=PERIOD, label="Throttles (all but encode_chunk)")
        alarm("Throttles", throttles, threshold=1, description=(
            "MediaJet: Lambda throttled an invocation (account or reserved concurrency in use): the API "
            "answers 5xx, pipeline steps wait and retry, inbox uploads are retried for up to 6 hours. Look at "
            "ConcurrentExecutions in the Lambda console; lower chunk_concurrency/chunk_reserved_concurrency "
            "or ask for a higher concurrency quota."))

        # The dead letters: nothing lands there unless something was lost.
        for short, dead in dead_letters.items():
            alarm(f"DeadLetters{_pascal(short)}",
                  dead.queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
                  threshold=0, comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, description=(
                      f"MediaJet: {dead.what} failed for good; it is kept in the dead-letter queue (14 days). "
                      + (dead.redrive or "Read a message (its responsePayload says why), fix the cause, then invoke "
                      f"the {dead.redrive_to} function again with each message's requestPayload and delete the message "
                      "(README \"Alarms and dead letters\").")))

        # The API.
        api_5xx = http_api.metric_server_error(period=PERIOD, statistic="Sum")
        api_p99 = http_api.metric_latency(period=PERIOD, statistic="p99")
        alarm("Api5xx", api_5xx, threshold=API_5XX_THRESHOLD, description=(
            f"MediaJet API: {API_5XX_THRESHOLD} or more 5xx responses in 5 minutes (the API function crashed, "
            "timed out or was throttled). Read the API function's log group and the API access logs "
            "(integrationError)."))
        alarm("ApiLatencyP99", api_p99, threshold=API_P99_THRESHOLD_MS, periods=API_P99_PERIODS, description=(
            f"MediaJet API: p99 latency above {API_P99_THRESHOLD_MS} ms for {API_P99_PERIODS * 5} minutes. Look "
            "at the API function's Duration and throttles and at DynamoDB latency; cold starts alone stay "
            "below this."))

        stack = Stack.of(self)
        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=dashboard_name(stack.stack_name, scope.node.id),
            default_interval=Duration.hours(6),
            widgets=[
                [cloudwatch.AlarmStatusWidget(title="MediaJet alarms", alarms=list(self.alarms.values()),
                                              width=24, height=4)],
                [cloudwatch.GraphWidget(title="Jobs (executions)", width=8, left=[
                    state_machine.metric_started(period=PERIOD, statistic="Sum"),
                    state_machine.metric_succeeded(period=PERIOD, statistic="Sum"),
                    executions_failed, executions_timed_out]),
                 cloudwatch.GraphWidget(title="API requests", width=8, left=[
                     http_api.metric_count(period=PERIOD, statistic="Sum"),
                     http_api.metric_client_error(period=PERIOD, statistic="Sum"), api_5xx]),
                 cloudwatch.GraphWidget(title="API latency (ms)", width=8, left=[
                     http_api.metric_latency(period=PERIOD, statistic="p50"), api_p99])],
                [cloudwatch.GraphWidget(title="Function errors", width=8, left=[
                    f.metric_errors(period=PERIOD, statistic="Sum", label=name) for name, f in functions.items()]),
                 cloudwatch.GraphWidget(title="Function throttles", width=8, left=[
                     f.metric_throttles(period=PERIOD, statistic="Sum", label=name)
                     for name, f in functions.items()]),
                 cloudwatch.GraphWidget(title="Function duration p99 (ms)", width=8, left=[
                     f.metric_duration(period=PERIOD, statistic="p99", label=name)
                     for name, f in functions.items()])],
                [cloudwatch.GraphWidget(title="Dead letters (messages)", width=24, left=[
                    d.queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum",
                                                                          label=short)
                    for short, d in dead_letters.items()])],
            ],
        )


def dashboard_name(stack_name: str, construct_id: str) -> str:
    """<stack>-<construct id> (the MediaJet stack: MediaJet-MediaJet); only the characters CloudWatch
    accepts."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"{stack_name}-{construct_id}")[:255]


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _errors_description(name: str) -> str:
    log = ("Read its logs (Lambda console: the function tagged mediajet:function=" + name
           + ", Monitor, View CloudWatch logs; JSON lines, filter on level ERROR).")
    if name == names.API_FUNCTION:
        what = "the API function failed a request (a crash or a timeout: the caller got a 5xx)."
    elif name == names.UPLOAD_FUNCTION:
        what = ("the inbox upload trigger failed on an upload; Lambda retries it twice, then it lands in the "
                "uploads dead-letter queue.")
    elif name == names.WEBHOOKS_FUNCTION:
        what = ("a batch of webhook deliveries failed (DynamoDB or SQS refused a call, or a bug: a receiver's own "
                "failures are recorded on the event, not raised); stream batches and retry messages are retried, "
                "then land in the webhooks dead-letter queue, and the events wait in the outbox.")
    elif name == names.ENCODE_FUNCTION:
        what = ("the encode step failed (a job step, or a standalone task that died: then it is in the tasks "
                "dead-letter queue). A job's own error is also on the job (GET /jobs/<id>).")
    else:
        what = (f"the pipeline step {name} failed; Step Functions retries transient errors, and a job whose "
                "step fails for good ends failed with that error (GET /jobs/<id>). An unusable input counts "
                "too; repeated errors point to an outage.")
    return f"MediaJet {name}: {what} {log}"
