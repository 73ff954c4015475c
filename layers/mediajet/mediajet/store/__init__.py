"""JobStore: one contract (base.py), two implementations (SQLite embedded, DynamoDB on AWS)."""

from mediajet.store.base import JobPage, JobQuery, JobStore

__all__ = ["JobPage", "JobQuery", "JobStore"]
