"""An S3 object made of a few new bytes and ranges of other S3 objects, by one
multipart upload: each range of 5 MiB or more is an UploadPartCopy, done inside S3, so the bytes of
a joined hour of video never pass through the function; the rest is uploaded.

S3 wants every part but the last to hold at least 5 MiB: new bytes and ranges too small for a part of
their own are gathered (ranges downloaded) until they fill one."""

from __future__ import annotations

import contextlib
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mediajet.storage.base import Span

if TYPE_CHECKING:
    from mediajet.storage.s3 import S3BlobStore

MIN_PART = 5 * 1024 * 1024  # S3's least part size (but for the last part)
PART_THREADS = 16  # parts copied or uploaded at once
SPOOL_BYTES = 64 * 1024 * 1024  # an uploaded part larger than this waits on disk, not in memory


@dataclass
class Part:
    """One part of the upload: either a copy of one span, or `pieces` (bytes and spans) uploaded."""

    copy: Span | None = None
    pieces: list[bytes | Span] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(p) if isinstance(p, bytes) else p.length for p in self.pieces)


def plan_parts(head: bytes, spans: list[Span], min_part: int = MIN_PART) -> list[Part]:
    """The upload's parts: a span is copied when nothing is waiting to be uploaded before it and it is
    large enough for a part; anything else joins the part being gathered."""
    parts: list[Part] = []
    gathering = Part(pieces=[head] if head else [])
    for span in spans:
        if span.length <= 0:
            continue
        if not gathering.pieces and span.length >= min_part:
            parts.append(Part(copy=span))
            continue
        gathering.pieces.append(span)
        if gathering.size >= min_part:
            parts.append(gathering)
            gathering = Part()
    if gathering.pieces or not parts:
        parts.append(gathering)
    return parts


def compose(store: S3BlobStore, key: str, head: bytes, spans: list[Span], source: S3BlobStore,
            min_part: int = MIN_PART) -> None:
    client, bucket = store.client, store.bucket
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    try:
        def send(numbered: tuple[int, Part]) -> dict[str, Any]:
            number, part = numbered
            common = {"Bucket": bucket, "Key": key, "UploadId": upload_id, "PartNumber": number}
            if part.copy is not None:
                span = part.copy
                done = client.upload_part_copy(**common, CopySource={"Bucket": source.bucket, "Key": span.key},
                                               CopySourceRange=f"bytes={span.start}-{span.start + span.length - 1}")
                return {"PartNumber": number, "ETag": done["CopyPartResult"]["ETag"]}
            with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, dir=store.tmp_dir) as body:
                for piece in part.pieces:
                    body.write(piece if isinstance(piece, bytes) else source.read_range(piece.key, piece.start, piece.length))
                body.seek(0)
                done = client.upload_part(**common, Body=body)
            return {"PartNumber": number, "ETag": done["ETag"]}

        with ThreadPoolExecutor(max_workers=PART_THREADS) as pool:
            sent = list(pool.map(send, enumerate(plan_parts(head, spans, min_part), start=1)))
        client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": sent})
    except BaseException:
        with contextlib.suppress(Exception):  # the upload's own failure is the one to report
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        raise
