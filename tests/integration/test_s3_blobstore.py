"""S3BlobStore under moto: files in and out intact, listings complete, links that download, and S3
failures turned into the errors the pipeline acts on (NotFound, TransientError)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from mediajet.errors import InvalidRequest, NotFound, ProcessingError, TransientError
from mediajet.storage import s3 as s3_storage
from mediajet.storage.s3 import S3BlobStore, parse_s3_uri

_buckets = itertools.count()
MB = 1024 * 1024


@pytest.fixture(scope="module")
def s3() -> Iterator[Any]:
    """One moto mock for the module (starting one costs more than most tests); each test gets a bucket."""
    import boto3
    from moto import mock_aws

    with pytest.MonkeyPatch.context() as env, mock_aws():
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        yield boto3.client("s3", region_name="us-east-1")


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"mediajet-work-{next(_buckets)}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def blobs(s3: Any, bucket: str, tmp_path: Path) -> S3BlobStore:
    return S3BlobStore(bucket, client=s3, tmp_dir=tmp_path / "downloads")


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_a_stored_file_comes_back_byte_for_byte_and_the_download_is_removed(blobs: S3BlobStore,
                                                                           tmp_path: Path) -> None:
    source = write(tmp_path / "clip.mp4", os.urandom(4096))
    blobs.put_file("jobs/job_1/input.mp4", source)

    with blobs.local_path("jobs/job_1/input.mp4") as path:
        assert path.read_bytes() == source.read_bytes()
        assert path.suffix == ".mp4"  # ffmpeg picks some formats by extension
        downloaded = path
    assert not downloaded.exists()
    assert source.exists()  # a plain put keeps the source


def test_a_move_removes_the_local_file_once_stored(blobs: S3BlobStore, tmp_path: Path) -> None:
    source = write(tmp_path / "out.webm", b"webm bytes")
    blobs.put_file("out.webm", source, move=True)
    assert not source.exists()
    assert blobs.size("out.webm") == len(b"webm bytes")


def test_a_large_file_goes_up_in_parts_intact(s3: Any, bucket: str, tmp_path: Path) -> None:
    blobs = S3BlobStore(bucket, client=s3, multipart_threshold=5 * MB)  # S3's smallest part size
    data = os.urandom(11 * MB)
    blobs.put_file("big.bin", write(tmp_path / "big.bin", data))

    assert s3.head_object(Bucket=bucket, Key="big.bin")["ETag"].endswith('-3"')  # three parts
    with blobs.local_path("big.bin") as path:
        assert path.read_bytes() == data


def test_a_tree_is_stored_under_its_prefix_and_listed(blobs: S3BlobStore, tmp_path: Path) -> None:
    root = tmp_path / "hls"
    for rel in ("master.m3u8", "720p/stream.m3u8", "720p/seg0.ts", "360p/seg0.ts"):
        write(root / rel, rel.encode())

    keys = blobs.put_tree("jobs/job_1/encoded/", root, move=True)

    expected = ["jobs/job_1/encoded/360p/seg0.ts", "jobs/job_1/encoded/720p/seg0.ts",
                "jobs/job_1/encoded/720p/stream.m3u8", "jobs/job_1/encoded/master.m3u8"]
    assert sorted(keys) == expected
    assert list(blobs.keys("jobs/job_1/encoded/")) == expected
    assert list(blobs.keys("jobs/job_1/encoded/720p/st")) == ["jobs/job_1/encoded/720p/stream.m3u8"]
    assert not any(p.is_file() for p in root.rglob("*"))


def test_listing_and_deleting_span_several_pages_and_batches(s3: Any, blobs: S3BlobStore,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # S3 pages listings and deletions by 1000; smaller pages exercise the same loops with fewer objects.
    monkeypatch.setattr(s3_storage, "LIST_PAGE_SIZE", 2)
    monkeypatch.setattr(s3_storage, "DELETE_BATCH", 2)
    for n in range(5):
        s3.put_object(Bucket=blobs.bucket, Key=f"tasks/t1/part{n}", Body=b"")
    s3.put_object(Bucket=blobs.bucket, Key="tasks/t2/keep", Body=b"")

    assert list(blobs.keys("tasks/t1/")) == [f"tasks/t1/part{n}" for n in range(5)]
    blobs.delete_prefix("tasks/t1/")

    assert list(blobs.keys("tasks/")) == ["tasks/t2/keep"]


def test_deleting_everything_is_refused(blobs: S3BlobStore) -> None:
    with pytest.raises(InvalidRequest):
        blobs.delete_prefix("")


def test_exists_and_size(blobs: S3BlobStore, tmp_path: Path) -> None:
    blobs.put_file("a/b.mp3", write(tmp_path / "b.mp3", b"x" * 1234))
    assert blobs.exists("a/b.mp3") and not blobs.exists("a/missing.mp3")
    assert blobs.size("a/b.mp3") == 1234
    with pytest.raises(NotFound):
        blobs.size("a/missing.mp3")


def test_a_missing_object_is_not_found_and_leaves_no_temporary_file(blobs: S3BlobStore, tmp_path: Path) -> None:
    with pytest.raises(NotFound), blobs.local_path("nothing/here.mp4"):
        pass
    assert list((tmp_path / "downloads").iterdir()) == []


def test_a_signed_url_downloads_without_credentials(blobs: S3BlobStore, tmp_path: Path) -> None:
    import requests

    blobs.put_file("out/video.mp4", write(tmp_path / "video.mp4", b"the video"))
    url = blobs.signed_url("out/video.mp4", 3600)

    assert requests.get(url, timeout=10).content == b"the video"
    month = parse_qs(urlsplit(blobs.signed_url("out/video.mp4", 30 * 24 * 3600)).query)
    assert month["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert month["X-Amz-Expires"] == ["604800"]  # SigV4's longest: 7 days


def test_uri_names_the_bucket_and_parses_back(blobs: S3BlobStore) -> None:
    uri = blobs.uri("out/a b?c#d.mp4")
    assert uri == f"s3://{blobs.bucket}/out/a b?c#d.mp4"
    assert parse_s3_uri(uri) == (blobs.bucket, "out/a b?c#d.mp4")


@pytest.mark.parametrize("uri", [
    "https://bucket/key", "s3://", "s3://bucket", "s3://bucket/", "s3://Bad_Bucket/key", "s3://ab/key",
    "s3://-bucket/key", "s3://bucket/" + "k" * 1025,
])
def test_malformed_s3_uris_are_refused_with_the_callers_kind(uri: str) -> None:
    with pytest.raises(InvalidRequest) as output_error:
        parse_s3_uri(uri)
    with pytest.raises(InvalidRequest) as input_error:
        parse_s3_uri(uri, kind="invalid_input")
    assert (output_error.value.kind, output_error.value.field) == ("invalid_output", "output")
    assert (input_error.value.kind, input_error.value.field) == ("invalid_input", "input")


def test_an_output_folder_is_a_valid_destination_but_not_an_input() -> None:
    assert parse_s3_uri("s3://bucket/hls/") == ("bucket", "hls/")
    with pytest.raises(InvalidRequest):
        parse_s3_uri("s3://bucket/hls/", kind="invalid_input")


def test_uploading_to_a_bucket_that_does_not_exist_is_not_found(s3: Any, tmp_path: Path) -> None:
    blobs = S3BlobStore("no-such-bucket", client=s3)
    with pytest.raises(NotFound, match="no-such-bucket"):
        blobs.put_file("x.mp4", write(tmp_path / "x.mp4", b"x"))


class FailingClient:
    """Answers every call with one error, as S3 or the network would."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise self.error

        return fail


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "HeadObject")


@pytest.mark.parametrize(("error", "expected"), [
    (client_error("SlowDown", 503), TransientError),
    (client_error("InternalError", 500), TransientError),
    (EndpointConnectionError(endpoint_url="https://s3.amazonaws.com"), TransientError),
    (client_error("404", 404), NotFound),
    (client_error("AccessDenied", 403), ProcessingError),
])
def test_s3_failures_become_errors_the_pipeline_acts_on(error: Exception, expected: type[Exception]) -> None:
    blobs = S3BlobStore("mediajet-work", client=FailingClient(error))
    with pytest.raises(expected) as caught:
        blobs.size("jobs/job_1/input")
    assert type(caught.value) is expected
    assert caught.value.transient is (expected is TransientError)


def test_a_copy_between_buckets_stays_in_s3_and_arrives_whole(s3: Any, blobs: S3BlobStore, bucket: str,
                                                              tmp_path: Path) -> None:
    other = f"{bucket}-out"
    s3.create_bucket(Bucket=other)
    outputs = S3BlobStore(other, client=s3, tmp_dir=tmp_path / "out", multipart_threshold=5 * MB)
    data = os.urandom(11 * MB)  # three parts of a multipart copy
    blobs.put_file("jobs/job_1/encoded/output.mp4", write(tmp_path / "result.mp4", data))
    outputs.copy_in("results/output.mp4", blobs, "jobs/job_1/encoded/output.mp4")
    assert s3.get_object(Bucket=other, Key="results/output.mp4")["Body"].read() == data
    with pytest.raises(NotFound):
        outputs.copy_in("results/none.mp4", blobs, "jobs/job_1/encoded/missing.mp4")
