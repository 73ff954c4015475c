"""Names in one place: function folders, environment variables, paths inside the layers, outputs."""

from __future__ import annotations

from pathlib import Path

from mediajet.pipeline.definition import ALL_STEPS, ENCODE_CHUNK, JOIN, STEPS

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"
LAYERS_DIR = ROOT / "layers"
# Stands in for a layer that has not been built yet, so `cdk synth` (and the tests) need no download.
PLACEHOLDER_LAYER_DIR = LAYERS_DIR / "placeholder"
FFMPEG_LAYER_BUILD_DIR = LAYERS_DIR / "ffmpeg" / "build"  # written by layers/ffmpeg/build.py
MEDIAJET_LAYER_BUILD_DIR = LAYERS_DIR / "mediajet" / "build"  # written by layers/build_mediajet.py
# Synth refuses the placeholders (such a stack deploys, then fails every job) unless one of these says yes
# (or the construct's allow_placeholder_layers / placeholder_layers prop).
ALLOW_PLACEHOLDERS_CONTEXT = "mediajet:allowPlaceholderLayers"  # -c mediajet:allowPlaceholderLayers=true
ALLOW_PLACEHOLDERS_ENV = "MEDIAJET_ALLOW_PLACEHOLDER_LAYERS"  # =1

STACK_ID = "MediaJet"
HANDLER = "handler.handler"  # functions/<name>/handler.py defines `handler`

# Lambda functions: one per pipeline step (the folder name is the step name; the fan-out's encode_chunk
# and join included), plus these three.
API_FUNCTION = "api"
UPLOAD_FUNCTION = "on_upload"
WEBHOOKS_FUNCTION = "webhooks"  # webhook deliveries (infra/webhooks.py)
STEP_FUNCTIONS: tuple[str, ...] = tuple(s.name for s in ALL_STEPS)
ALL_FUNCTIONS: tuple[str, ...] = (API_FUNCTION, *STEP_FUNCTIONS, UPLOAD_FUNCTION, WEBHOOKS_FUNCTION)
ENCODE_FUNCTION = next(s.name for s in STEPS if s.heavy)  # also runs standalone tasks (POST /tasks)
CHUNK_FUNCTION = ENCODE_CHUNK.name  # one part of a chunked encode (the Map's item processor)
JOIN_FUNCTION = JOIN.name
# The functions that run ffmpeg/ffprobe (join stream-copies the parts and muxes the sound).
FFMPEG_FUNCTIONS = frozenset({"probe", ENCODE_FUNCTION, CHUNK_FUNCTION, JOIN_FUNCTION})

# Environment variables (read once by mediajet.aws.runtime.AwsSettings and mediajet.settings.Settings).
ENV_TABLE = "MEDIAJET_TABLE"
ENV_WORK_BUCKET = "MEDIAJET_WORK_BUCKET"
ENV_OUTPUT_BUCKET = "MEDIAJET_OUTPUT_BUCKET"
ENV_INBOX_BUCKET = "MEDIAJET_INBOX_BUCKET"
ENV_STATE_MACHINE_ARN = "MEDIAJET_STATE_MACHINE_ARN"
ENV_ENCODE_FUNCTION = "MEDIAJET_ENCODE_FUNCTION"
ENV_FFMPEG = "MEDIAJET_FFMPEG"
ENV_FFPROBE = "MEDIAJET_FFPROBE"
ENV_DATA_DIR = "MEDIAJET_DATA_DIR"
ENV_SCRATCH_DIR = "MEDIAJET_SCRATCH_DIR"
ENV_UPLOAD_PROJECT = "MEDIAJET_UPLOAD_PROJECT"
# Connections (mediajet.connections): the KMS key of their secrets, and the buckets jobs may use with the
# stack's own role (no connection): the ones the construct was given (mediajet.settings.Settings.s3_buckets).
ENV_CONNECTIONS_KMS_KEY = "MEDIAJET_CONNECTIONS_KMS_KEY"
ENV_S3_BUCKETS = "MEDIAJET_S3_BUCKETS"
ENV_S3_SERVER_CREDENTIALS = "MEDIAJET_S3_SERVER_CREDENTIALS"
ENV_WEBHOOK_QUEUE_URL = "MEDIAJET_WEBHOOK_QUEUE_URL"
ENV_PYDANTIC_DISABLE_PLUGINS = "PYDANTIC_DISABLE_PLUGINS"  # pydantic's own switch (infra/stack.py says why)
# Signed /downloads/ links (HLS results, mediajet.aws.downloads): the secret that signs them, and the API's URL
# for functions that link outside a request (the webhook sender; the API takes it from the request).
ENV_DOWNLOAD_SECRET = "MEDIAJET_DOWNLOAD_SECRET"
ENV_PUBLIC_URL = "MEDIAJET_PUBLIC_URL"
ENV_WEBHOOK_RETRY_S = "MEDIAJET_WEBHOOK_RETRY_S"
# What the encoders can do, for admission at probe (mediajet.pipeline.admission): their time limit and
# their speed relative to the 2-core reference machine.
ENV_STEP_TIMEOUT = "MEDIAJET_STEP_TIMEOUT_S"
ENV_ENCODE_SPEED = "MEDIAJET_ENCODE_SPEED"
ENV_CHUNK_PARALLELISM = "MEDIAJET_CHUNK_PARALLELISM"

# Where the layers put things (layers are mounted under /opt).
FFMPEG_PATH = "/opt/bin/ffmpeg"
FFPROBE_PATH = "/opt/bin/ffprobe"
LAMBDA_TMP = "/tmp/mediajet"  # Lambda's ephemeral storage

# Working-bucket objects are temporary: finalize deletes a job's files; this catches the rest
# (cancelled executions, crashed steps).
WORK_EXPIRY_DAYS = 7

# Stack outputs.
OUTPUT_API_URL = "ApiUrl"
OUTPUT_INBOX_BUCKET = "InboxBucketName"
OUTPUT_OUTPUT_BUCKET = "OutputBucketName"
OUTPUT_WORK_BUCKET = "WorkBucketName"
OUTPUT_LOG_BUCKET = "AccessLogsBucketName"
OUTPUT_TABLE = "TableName"
OUTPUT_STATE_MACHINE = "StateMachineArn"
OUTPUT_WEBHOOK_RETRY_QUEUE = "WebhookRetryQueueArn"
OUTPUT_WEBHOOK_DEAD_LETTERS = "WebhookDeadLettersArn"


def function_dir(name: str) -> Path:
    return FUNCTIONS_DIR / name
