"""How large a stored record may be, checked before it is stored, the same on SQLite and DynamoDB.

DynamoDB refuses items over 400 KB and Lambda answers at most 6 MB: a record past either would be a
500 on AWS only. The request limits (README "Limits") keep ordinary requests far below these; these
caps catch what they let through in the worst case (4-byte characters in every string):

- a job at most 256 KiB: room below 400 KB for the task outputs it gains while it runs; `GET /jobs`
  pages stop at 1 MiB whatever the jobs weigh;
- a standalone task at most 48 KiB: the dated versions' task lists are page-numbered (they cannot end a
  page early), so 100 of them stay under 5 MB;
- a media library record (file, media, automation) at most 48 KiB, for the same reason; a media item answers
  with its files, whose records the request limits keep at a few KiB each.
"""

from __future__ import annotations

import json

from mediajet.errors import PayloadTooLarge
from mediajet.models.job import Job, Task, task_record
from mediajet.models.library import LibraryRecord

MAX_JOB_RECORD_BYTES = 256 * 1024
MAX_TASK_RECORD_BYTES = 48 * 1024
MAX_LIBRARY_RECORD_BYTES = 48 * 1024


def check_job(job: Job) -> None:
    _check(_utf8_size(job.to_record()), MAX_JOB_RECORD_BYTES, "job", "metadata and input")


def check_task(task: Task) -> None:
    _check(_utf8_size(task_record(task)), MAX_TASK_RECORD_BYTES, "task", "input and options")


def check_library(record: LibraryRecord) -> None:
    _check(_utf8_size(record.model_dump(mode="json")), MAX_LIBRARY_RECORD_BYTES, record.record_type,
           "metadata and labels" if record.record_type != "automation" else "workflow")


def _utf8_size(record: dict) -> int:
    # what DynamoDB counts: UTF-8 text, not the \u escapes an ASCII-only dump would write
    return len(json.dumps(record, ensure_ascii=False).encode())


def _check(size: int, limit: int, what: str, fields: str) -> None:
    if size > limit:
        raise PayloadTooLarge(f"this {what} would be stored as {size} bytes; the limit is {limit // 1024} KiB: "
                              f"shorten its {fields}")
