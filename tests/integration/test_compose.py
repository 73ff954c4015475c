"""BlobStore.compose: a stored object made of new bytes and ranges of other stored objects, as the
chunk join writes an MP4 (its header, then every part's media). Local folder and S3 (moto): the
object holds exactly those bytes; on S3 a large range is copied inside S3 (UploadPartCopy), never
downloaded, and a failure leaves no object and no open upload behind."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mediajet.errors import NotFound
from mediajet.storage.base import Span
from mediajet.storage.local import LocalBlobStore
from mediajet.storage.s3 import S3BlobStore

MB = 1024 * 1024


@pytest.fixture
def s3() -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    with pytest.MonkeyPatch.context() as env, mock_aws():
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="work")
        yield client


def _stored(store: Any, tmp_path: Path, objects: dict[str, bytes]) -> None:
    for key, data in objects.items():
        path = tmp_path / "upload"
        path.write_bytes(data)
        store.put_file(key, path)


# A header, two parts large enough to be copied on S3, and a small last one (below S3's 5 MiB part minimum).
OBJECTS = {"parts/a.mp4": os.urandom(6 * MB), "parts/b.mp4": os.urandom(7 * MB), "parts/c.mp4": os.urandom(300_000)}
SPANS = [Span("parts/a.mp4", 1000, 6 * MB - 1000), Span("parts/b.mp4", 16, 7 * MB - 100), Span("parts/c.mp4", 40, 1000)]
HEAD = b"ftyp....moov" * 1000
EXPECTED = HEAD + OBJECTS["parts/a.mp4"][1000:] + OBJECTS["parts/b.mp4"][16:7 * MB - 84] + OBJECTS["parts/c.mp4"][40:1040]


def test_a_local_store_composes_the_head_and_the_ranges(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "store")
    _stored(store, tmp_path, OBJECTS)
    store.compose("out/joined.mp4", HEAD, SPANS, store)
    assert store.path("out/joined.mp4").read_bytes() == EXPECTED
    assert [k for k in store.keys("out/")] == ["out/joined.mp4"], "no partial file is left beside it"


def test_s3_composes_by_copying_large_ranges_inside_s3(s3: Any, tmp_path: Path) -> None:
    store = S3BlobStore("work", client=s3, tmp_dir=tmp_path / "tmp")
    _stored(store, tmp_path, OBJECTS)
    calls: list[str] = []
    real = s3._make_api_call
    s3._make_api_call = lambda name, params: (calls.append(name), real(name, params))[1]
    try:
        store.compose("out/joined.mp4", HEAD, SPANS, store)
    finally:
        del s3._make_api_call
    assert s3.get_object(Bucket="work", Key="out/joined.mp4")["Body"].read() == EXPECTED
    # the head and the first range (downloaded: nothing may precede a copied part) fill part 1; part 2
    # is copied inside S3; the small last range is gathered into part 3
    assert calls.count("UploadPartCopy") == 1 and calls.count("UploadPart") == 2
    assert calls.count("GetObject") == 2, "only the ranges that must be uploaded were read"


def test_a_failed_s3_compose_leaves_no_object_and_no_open_upload(s3: Any, tmp_path: Path) -> None:
    store = S3BlobStore("work", client=s3, tmp_dir=tmp_path / "tmp")
    _stored(store, tmp_path, OBJECTS)
    with pytest.raises(NotFound):
        store.compose("out/joined.mp4", HEAD, [*SPANS[:2], Span("parts/missing.mp4", 0, 6 * MB)], store)
    assert not store.exists("out/joined.mp4")
    assert s3.list_multipart_uploads(Bucket="work").get("Uploads", []) == []
