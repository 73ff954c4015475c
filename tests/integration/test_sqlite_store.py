"""What only the SQLite store has to get right: upgrading old database files, refusing newer ones,
and sharing one file between processes (`mediajet keys create` while `mediajet serve` runs)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mediajet.models.job import Job, Task
from mediajet.store.base import JobQuery
from mediajet.store.sqlite import SCHEMA_VERSION, SchemaTooNew, SqliteJobStore, migrate, open_connection


def version_of(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def test_a_version_1_database_is_upgraded_and_its_jobs_stay_readable(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    job = Job(kind="audio", input="https://media.example/talk.wav", project_id="prj_old", version=3)
    job.tasks = [Task(kind=k, project_id="prj_old", job_id=job.id) for k in ("probe", "import", "audio", "export")]
    conn = open_connection(path)
    migrate(conn, target=1)  # the file as the first release left it
    conn.execute("INSERT INTO jobs (id, project_id, kind, status, input, version, record) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (job.id, job.project_id, job.kind, job.status, job.input, job.version, json.dumps(job.to_record())))
    conn.close()
    assert version_of(path) == 1

    store = SqliteJobStore(path)

    assert version_of(path) == SCHEMA_VERSION > 1
    assert store.get_job(job.id, "prj_old") == job
    assert store.get_task(job.tasks[2].id, "prj_old").kind == "audio"  # embedded tasks found after the upgrade
    assert [j.id for j in store.list_jobs("prj_old", JobQuery()).items] == [job.id]
    store.close()


def test_reopening_an_up_to_date_database_keeps_its_records(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    first = SqliteJobStore(path)
    job, _ = first.create_job(Job(kind="image", input="https://media.example/a.png", project_id="prj"))
    first.close()

    assert SqliteJobStore(path).get_job(job.id) == job


def test_a_database_from_a_newer_mediajet_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")

    with pytest.raises(SchemaTooNew, match="upgrade MediaJet"):
        SqliteJobStore(path)
    assert version_of(path) == SCHEMA_VERSION + 1
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []


def test_a_key_created_by_another_process_works_at_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    server = SqliteJobStore(path)
    assert server.project_for_key("f" * 64) is None  # the server has the file open and a pooled connection

    script = ("import sys; from pathlib import Path; from mediajet.store.sqlite import SqliteJobStore; "
              "SqliteJobStore(Path(sys.argv[1])).add_api_key('f' * 64, 'prj_cli')")
    subprocess.run([sys.executable, "-c", script, str(path)], check=True, timeout=60)

    assert server.project_for_key("f" * 64) == "prj_cli"
    server.close()
