"""The library store contract (files, media, automations, connections), shared by SQLite (sqlite_library.py) and DynamoDB
(dynamo_library.py), checked by one contract suite (tests/integration/test_store_contract.py).

Every record is scoped by project: a record of another project reads as not found, everywhere. Writes of an
existing record are conditional on its `version`, as for jobs (store/base.py).
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from mediajet.errors import (
    AutomationNotFound,
    ConnectionNotFound,
    EndpointNotFound,
    EventNotFound,
    FileNotFound,
    MediaNotFound,
    NotFound,
)
from mediajet.models.job import IdempotencyClaim
from mediajet.models.library import LibraryFile, LibraryRecord

R = TypeVar("R", bound=LibraryRecord)
MAX_PAGE_ITEMS = 100

NOT_FOUND: dict[str, type[NotFound]] = {"file": FileNotFound, "media": MediaNotFound,
                                        "automation": AutomationNotFound, "webhook_endpoint": EndpointNotFound,
                                        "event": EventNotFound, "webhook_secret": NotFound,
                                        "connection": ConnectionNotFound}


def not_found(record_type: str, record_id: str) -> NotFound:
    return NOT_FOUND[record_type](f"No {record_type} with id '{record_id}' exists in this project.")


class LibraryStore(Protocol):
    def create_record(self, record: R) -> R:
        """Insert (version 1); Conflict when the id exists."""
        ...

    def create_record_once(self, record: R, claim: IdempotencyClaim) -> tuple[R, bool]:
        """Insert `record` and take the Idempotency-Key `claim` at once (as JobStore.create_job). When a live
        claim holds the key: insert nothing and return (the record it names, False); a claim that names
        something else (a job, a task, another type of record) raises IdempotencyKeyReused."""
        ...

    def get_record(self, cls: type[R], record_id: str, project_id: str | None) -> R:
        """The record, or its type's NotFound (also for another project's); project_id None: any project."""
        ...

    def save_record(self, record: R) -> R:
        """Conditional on the stored version == record.version; returns it with version + 1. StaleWrite when
        it changed meanwhile, NotFound when it is gone."""
        ...

    def delete_record(self, cls: type[LibraryRecord], record_id: str, project_id: str) -> None:
        """NotFound when absent (or another project's)."""
        ...

    def list_records(self, cls: type[R], project_id: str, page: int, limit: int) -> list[R]:
        """A page of the project's records of one type, newest first (ids sort in creation order)."""
        ...

    def media_files(self, project_id: str, media_id: str) -> list[LibraryFile]:
        """The files of one media item, oldest first."""
        ...
