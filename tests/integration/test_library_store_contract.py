"""The library store contract (files, media, automations), run against SQLite and DynamoDB (moto) with the
fixtures of the JobStore contract suite: records read back as written, one project never sees another's,
lists page newest first without gaps or repeats, a media item lists its own files, and a write made from a
stale read is refused instead of losing the other writer's change."""

from __future__ import annotations

import pytest

from mediajet.errors import AutomationNotFound, Conflict, FileNotFound, MediaNotFound, StaleWrite
from mediajet.models.file import Codecs
from mediajet.models.job import IdempotencyClaim, Task
from mediajet.models.library import Automation, LibraryFile, Media
from mediajet.store.base import IdempotencyKeyReused
from tests.integration.test_store_contract import (  # noqa: F401
    OTHER,
    PROJECT,
    dynamodb_client,
    dynamodb_http_client,
    store,
)


def test_records_read_back_as_written_in_their_own_project_only(store) -> None:  # noqa: F811
    media = store.create_record(Media(project_id=PROJECT, title="Talk", metadata={"speaker": "Ada", "take": 2}))
    file = store.create_record(LibraryFile(
        project_id=PROJECT, media_id=media.id, kind="video", format="mp4", codecs=Codecs(video="h264", audio="aac"),
        width=320, height=240, duration=1.5, fps=29.97, filesize=12345, uri="file:///data/files/a.mp4",
        folder="talks/2025", filename="a.mp4", ref="original", original=True, metadata={"ok": True}))
    auto = store.create_record(Automation(project_id=PROJECT, name="thumbs",
                                          workflow=[{"kind": "image", "ref": "thumb", "width": 160}]))
    for record in (media, file, auto):
        assert record.version == 1
        got = store.get_record(type(record), record.id, PROJECT)
        assert got == record
        assert store.get_record(type(record), record.id, None) == record
    for record, error in ((media, MediaNotFound), (file, FileNotFound), (auto, AutomationNotFound)):
        with pytest.raises(error):
            store.get_record(type(record), record.id, OTHER)
        with pytest.raises(error):
            store.delete_record(type(record), record.id, OTHER)
        assert store.list_records(type(record), OTHER, 1, 10) == []
    with pytest.raises(MediaNotFound):  # an id of one type is not found as another
        store.get_record(Media, file.id, PROJECT)
    with pytest.raises(Conflict):
        store.create_record(media)


def test_lists_page_newest_first_and_a_media_lists_its_own_files(store) -> None:  # noqa: F811
    first, second = (store.create_record(Media(project_id=PROJECT)) for _ in range(2))
    files = [store.create_record(LibraryFile(project_id=PROJECT, media_id=(first if n % 2 else second).id,
                                             filesize=n)) for n in range(5)]
    store.create_record(LibraryFile(project_id=OTHER, media_id=first.id, filesize=99))  # another project's
    pages = [store.list_records(LibraryFile, PROJECT, page, 2) for page in (1, 2, 3, 4)]
    assert [[f.id for f in page] for page in pages] == [[files[4].id, files[3].id], [files[2].id, files[1].id],
                                                        [files[0].id], []]
    assert [f.filesize for f in store.media_files(PROJECT, first.id)] == [1, 3]
    assert [f.filesize for f in store.media_files(PROJECT, second.id)] == [0, 2, 4]
    assert [m.id for m in store.list_records(Media, PROJECT, 1, 10)] == [second.id, first.id]


def test_a_stale_write_is_refused_and_a_deleted_record_is_gone(store) -> None:  # noqa: F811
    media = store.create_record(Media(project_id=PROJECT, title="a"))
    saved = store.save_record(media.touched(title="b"))
    assert saved.version == 2 and store.get_record(Media, media.id, PROJECT).title == "b"
    with pytest.raises(StaleWrite):
        store.save_record(media.touched(title="lost update"))
    store.delete_record(Media, media.id, PROJECT)
    with pytest.raises(MediaNotFound):
        store.get_record(Media, media.id, PROJECT)
    with pytest.raises(MediaNotFound):
        store.save_record(saved)
    with pytest.raises(MediaNotFound):
        store.delete_record(Media, media.id, PROJECT)


def test_an_idempotency_key_creates_one_record_and_names_nothing_else(store) -> None:  # noqa: F811
    first = Media(project_id=PROJECT, title="a")
    claim = IdempotencyClaim(project_id=PROJECT, key="k-media", body_hash="h1", resource_id=first.id)
    stored, created = store.create_record_once(first, claim)
    assert created and stored.version == 1
    retry = Media(project_id=PROJECT, title="a")
    again, created = store.create_record_once(retry, claim.model_copy(update={"resource_id": retry.id}))
    assert not created and again == stored
    assert [m.id for m in store.list_records(Media, PROJECT, 1, 10)] == [first.id]
    # the same key for another type of record (or a task) is a key reused, not that record
    auto = Automation(project_id=PROJECT)
    with pytest.raises(IdempotencyKeyReused):
        store.create_record_once(auto, claim.model_copy(update={"resource_id": auto.id}))
    task = Task(kind="probe", project_id=PROJECT)
    with pytest.raises(IdempotencyKeyReused):
        store.create_task(task, claim.model_copy(update={"resource_id": task.id}))


def test_connections_are_records_of_their_own_project_and_type(store) -> None:  # noqa: F811
    from mediajet.errors import ConnectionNotFound
    from mediajet.models.connection import Connection

    made = store.create_record(Connection(project_id=PROJECT, name="r2", endpoint="https://r2.example", region="auto",
                                          access_key_id="AKIA", secret="v1:ciphertext", secret_hint="wxyz",
                                          is_default=True))
    assert made.id.startswith("con_") and made.version == 1
    assert store.get_record(Connection, made.id, PROJECT) == made
    with pytest.raises(ConnectionNotFound):
        store.get_record(Connection, made.id, OTHER)
    with pytest.raises(ConnectionNotFound):
        store.get_record(Connection, made.id.replace("con_", "med_"), PROJECT)
    with pytest.raises(MediaNotFound):  # an id of one type is not found as another
        store.get_record(Media, made.id, PROJECT)
    second = store.create_record(Connection(project_id=PROJECT, name="aws", access_key_id="AKIA", secret="v1:x"))
    store.create_record(Connection(project_id=OTHER, name="theirs", access_key_id="AKIA", secret="v1:y"))
    assert [c.id for c in store.list_records(Connection, PROJECT, 1, 10)] == [second.id, made.id]
    assert store.list_records(Media, PROJECT, 1, 10) == []  # connections are not in other types' lists
    saved = store.save_record(made.touched(is_default=False))
    assert saved.version == 2 and not store.get_record(Connection, made.id, PROJECT).is_default
    with pytest.raises(StaleWrite):
        store.save_record(made.touched(name="lost"))
    with pytest.raises(ConnectionNotFound):
        store.delete_record(Connection, made.id, OTHER)
    store.delete_record(Connection, made.id, PROJECT)
    with pytest.raises(ConnectionNotFound):
        store.get_record(Connection, made.id, PROJECT)
    assert [c.id for c in store.list_records(Connection, PROJECT, 1, 10)] == [second.id]
