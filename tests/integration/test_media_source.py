"""A stored file read in place by ffmpeg: the file itself on a local store; on S3, a loopback reader
that turns ffmpeg's ranged reads into ranged GETs, so a chunk of a long input reads only its piece."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from mediajet.media import chunking, runner
from mediajet.media.plans.chunked import piece_argv
from mediajet.storage.local import LocalBlobStore
from mediajet.storage.media_source import media_source
from mediajet.storage.s3 import S3BlobStore
from tests.media import make_video


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("src") / "long.mp4", seconds=8, size="640x480", gop=25)


@pytest.fixture
def s3_store(tmp_path: Path) -> Iterator[S3BlobStore]:
    import boto3
    from moto import mock_aws

    with pytest.MonkeyPatch.context() as env, mock_aws():
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="work")
        yield S3BlobStore("work", client=client, tmp_dir=tmp_path / "downloads")


class Counting:
    """An S3 store whose ranged reads count the bytes they return."""

    def __init__(self, store: S3BlobStore) -> None:
        self.store, self.bytes = store, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def open_range(self, key: str, start: int, end: int | None = None) -> Any:
        body, counter = self.store.open_range(key, start, end), self

        class Body:
            def read(self, n: int = -1) -> bytes:
                data = body.read(n)
                counter.bytes += len(data)
                return data

            def close(self) -> None:
                body.close()

        return Body()


def packets(path: Path) -> list[str]:
    argv = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", str(path), "-map", "0", "-c", "copy",
            "-f", "framemd5", "-"]
    return [line for line in runner.run(argv, timeout=30, capture_stdout=True).stdout.decode().splitlines()
            if not line.startswith("#")]


def plan_of(source) -> tuple[chunking.Scan, chunking.ChunkPlan]:
    scan = chunking.scan(source.arg, timeout=30, access=source.access, read=source.read, size=source.size)
    assert scan is not None
    plan = chunking.plan_chunks(scan, target=2)
    assert plan is not None and len(plan.chunks) == 4
    return scan, plan


def last_piece(tmp: Path, source, scan: chunking.Scan, plan: chunking.ChunkPlan) -> Path:
    out = tmp / f"piece-{len(list(tmp.iterdir()))}.mkv"
    runner.run(piece_argv(source.arg, scan.stream, plan.chunks[-1], plan.frame_duration, out,
                          access=source.access), timeout=30)
    return out


def test_a_piece_read_through_s3_is_the_piece_of_the_local_file_and_reads_only_its_part(
        clip: Path, s3_store: S3BlobStore, tmp_path: Path) -> None:
    local = LocalBlobStore(clip.parent)
    with media_source(local, clip.name) as source:
        assert source.arg == str(clip.absolute()) and source.access.protocols == "file,pipe"
        expected = last_piece(tmp_path, source, *plan_of(source))
    s3_store.put_file("jobs/j/input", clip)
    counting = Counting(s3_store)
    with media_source(counting, "jobs/j/input") as source:  # type: ignore[arg-type]
        assert source.arg.startswith("http://127.0.0.1:") and source.size == clip.stat().st_size
        planned = plan_of(source)  # once per job: the header and the index
        counting.bytes = 0
        got = last_piece(tmp_path, source, *planned)  # once per part
    assert packets(got) == packets(expected)
    assert counting.bytes < clip.stat().st_size / 2, "a part reads its own piece, not the whole input"


def test_the_loopback_reader_serves_only_its_object_and_honours_ranges(s3_store: S3BlobStore,
                                                                       tmp_path: Path) -> None:
    data = bytes(range(256)) * 40
    (tmp_path / "blob").write_bytes(data)
    s3_store.put_file("k", tmp_path / "blob")
    with media_source(s3_store, "k") as source:
        assert source.read(1000, 16) == data[1000:1016]
        url = urlsplit(source.arg)

        def get(path: str, headers: dict[str, str]) -> tuple[int, bytes, Any]:
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            conn.close()
            return response.status, body, response.headers

        status, body, headers = get(url.path, {"Range": "bytes=10-19"})
        assert (status, body, headers["Content-Range"]) == (206, data[10:20], f"bytes 10-19/{len(data)}")
        assert get(url.path, {"Range": "bytes=9000-"})[1] == data[9000:]
        assert get(url.path, {"Range": f"bytes={len(data)}-"})[0] == 416
        assert get(url.path, {})[1] == data
        assert get("/other", {})[0] == 404, "another path reads nothing"
    with pytest.raises(OSError):
        http.client.HTTPConnection(url.hostname, url.port, timeout=2).request("GET", url.path)
