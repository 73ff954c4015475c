"""Webhook delivery on AWS (mediajet.aws.webhooks): the delivery function, fed by the table's stream (first
attempts), a retry queue (later attempts, delayed by SQS) and a sweep schedule (anything lost), with one
dead-letter queue for what fails for good.

- Stream → function: an event source mapping filtered on writes of event items with a pending delivery
  (mediajet.aws.webhooks.STREAM_FILTER), batches bisected on error, failures reported per record, and a batch
  that still fails lands (as Lambda's on-failure record) in the dead-letter queue; its events stay in the outbox,
  so the sweep sends them anyway.
- Retry queue → function: messages `{event_id, project_id}` delayed up to 15 min (longer waits chain), failures
  reported per message, MAX_RECEIVES receives then the dead-letter queue. The function sends to it.
- Schedule → function every SWEEP_MINUTES: due events the other two missed go on the retry queue.
- Redrive: `aws sqs start-message-move-task --source-arn <WebhookDeadLettersArn> --destination-arn
  <WebhookRetryQueueArn>` (README "Webhooks on AWS"); a redriven stream failure record makes the function sweep.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import access, lambdas, names
from infra.storage import Storage
from mediajet.aws.webhooks import STREAM_FILTER
from mediajet.settings import Settings

SIZING = lambdas.SMALL  # records and HTTP requests only; attempts past what is left of a run go to the queue
RESERVED_CONCURRENCY = 10  # receivers are not flooded, and the rest of the account is left alone
QUEUE_CONCURRENCY = 5  # the retry queue's pollers stay under the reservation (no throttled receives)
STREAM_PARALLELISM = 2  # batches per stream shard at once (a shard's records stay in order per item)
BATCH_SIZE = 10
STREAM_RETRIES = 5
STREAM_MAX_AGE = Duration.hours(6)  # past this a record is not retried; the sweep sends its event
MAX_RECEIVES = 5
SWEEP_MINUTES = 5


class Webhooks(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        storage: Storage,
        defaults: lambdas.FunctionDefaults,
        retry_s: str = Settings.model_fields["webhook_retry_s"].default,
        reserved_concurrency: int | None = RESERVED_CONCURRENCY,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = sqs.Queue(self, "DeadLetters", encryption=sqs.QueueEncryption.SQS_MANAGED,
                                      enforce_ssl=True, retention_period=lambdas.DEAD_LETTER_RETENTION)
        self.retry_queue = sqs.Queue(
            self, "Retries", encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
            # Lambda asks for at least the function's timeout; six times leaves room for its own retries.
            visibility_timeout=Duration.seconds(6 * SIZING.timeout_s),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letters, max_receive_count=MAX_RECEIVES),
        )
        made = lambdas.MediaJetFunction(
            self, "Handler", name=names.WEBHOOKS_FUNCTION, description="MediaJet webhook deliveries",
            sizing=SIZING, defaults=defaults, reserved_concurrency=reserved_concurrency,
            environment={names.ENV_WEBHOOK_QUEUE_URL: self.retry_queue.queue_url,
                         names.ENV_WEBHOOK_RETRY_S: retry_s},
        )
        self.function = made.function
        self.role = made.role
        # Events and the signing secret (GetItem, PutItem); due events (Query on the outbox index).
        access.table(made.role, storage.table, access.WEBHOOKS)
        # Links in payloads are presigned like the API's (mediajet.aws.runtime.sign_url).
        access.objects(made.role, storage.output_bucket, read=True, list_keys=False)
        made.role.add_to_principal_policy(iam.PolicyStatement(actions=["sqs:SendMessage"],
                                                              resources=[self.retry_queue.queue_arn]))
        # (Each source below grants what Lambda's poller needs: stream reads, the queue's receive/delete.)
        self.function.add_event_source(sources.DynamoEventSource(
            storage.table, starting_position=lambda_.StartingPosition.TRIM_HORIZON, batch_size=BATCH_SIZE,
            bisect_batch_on_error=True, report_batch_item_failures=True, retry_attempts=STREAM_RETRIES,
            max_record_age=STREAM_MAX_AGE, parallelization_factor=STREAM_PARALLELISM,
            on_failure=sources.SqsDlq(self.dead_letters), filters=[lambda_.FilterCriteria.filter(STREAM_FILTER)],
        ))
        self.function.add_event_source(sources.SqsEventSource(
            self.retry_queue, batch_size=BATCH_SIZE, report_batch_item_failures=True,
            max_concurrency=QUEUE_CONCURRENCY))
        self.sweep = events.Rule(
            self, "Sweep", description="MediaJet: wake webhook deliveries that are due and were not woken",
            schedule=events.Schedule.rate(Duration.minutes(SWEEP_MINUTES)),
            targets=[targets.LambdaFunction(self.function, event=events.RuleTargetInput.from_object({"sweep": True}),
                                            retry_attempts=0)],  # the next sweep is the retry
        )
