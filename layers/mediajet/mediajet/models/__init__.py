"""Wire models (pydantic v2)."""

from mediajet.models.file import Codecs, File
from mediajet.models.job import ErrorInfo, IdempotencyClaim, Job, Task
from mediajet.models.options import (
    AdaptiveOptions,
    AnimationOptions,
    AudioOptions,
    ImageOptions,
    MediaOptions,
    VideoOptions,
)
from mediajet.models.requests import JobCreate, TaskCreate, parse_job_create, parse_options, parse_task_create

__all__ = [
    "AdaptiveOptions", "AnimationOptions", "AudioOptions", "Codecs", "ErrorInfo", "File", "IdempotencyClaim",
    "ImageOptions", "Job", "JobCreate", "MediaOptions", "Task", "TaskCreate", "VideoOptions",
    "parse_job_create", "parse_options", "parse_task_create",
]
