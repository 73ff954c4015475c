"""Moving media between the input URL, working storage, the encoder and the destination.

Each function streams through local disk once: the input is fetched once (probe and import share
the copy), the encoder reads it in place on a local store, and results are moved, not copied,
when source and destination are both local.
"""

from __future__ import annotations

import posixpath
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from mediajet.errors import ProcessingError
from mediajet.media import engine
from mediajet.media.inputs import Readable
from mediajet.media.probe import probe, probe_readable
from mediajet.models.file import File
from mediajet.models.job import Job
from mediajet.models.options import MediaOptions
from mediajet.pipeline import chunk_join, chunked
from mediajet.pipeline.context import StepContext
from mediajet.settings import Settings
from mediajet.storage import paths
from mediajet.storage.base import BlobStore
from mediajet.storage.fetch import fetch
from mediajet.storage.media_source import media_source

EXPORT_THREADS = 16  # files exported at once (S3 copies are requests; the local store renames)


@contextmanager
def local_copy(ctx: StepContext, url: str) -> Iterator[tuple[Path, bool]]:
    """A local file with `url`'s bytes, and whether it is a scratch copy the caller may move away
    (False for our own stored output, which must stay where it is)."""
    own_key = ctx.resolve_own_url(url) if ctx.resolve_own_url else None
    if own_key is not None:  # a signed link to our own output storage (chained tasks)
        with ctx.outputs.local_path(own_key) as stored:
            yield stored, False
        return
    with ctx.tempdir("fetch-") as tmp:
        s3 = ctx.s3() if url.strip().lower().startswith("s3://") else None
        result = fetch(url, tmp / "input", settings=ctx.settings, s3_client=s3, allow_local=ctx.allow_local_files)
        yield result.path, True


def ensure_fetched(ctx: StepContext, url: str, key: str) -> None:
    """Download `url` into working storage at `key` unless it is already there."""
    if ctx.work.exists(key):
        return
    with local_copy(ctx, url) as (path, scratch):
        ctx.work.put_file(key, path, move=scratch)


def fetch_and_probe(ctx: StepContext, url: str, key: str) -> File:
    """Fetch `url` into working storage at `key` and probe it.

    An s3:// input bound for S3 working storage is copied inside S3 and probed where it lands (ranged
    reads of its header): an hour of video never passes through the function. Anything else is
    downloaded once and probed before it is stored, so a bad download is never uploaded."""
    in_work = ctx.work.exists(key)  # a resumed or retried job
    if not in_work and _copies_inside_s3(ctx, url):
        from mediajet.storage.s3_fetch import copy_s3

        copy_s3(url, ctx.work, key, settings=ctx.settings)  # type: ignore[arg-type]
        in_work = True
    if in_work:
        with media_source(ctx.work, key) as stored:
            return probe_checked(ctx, stored, url=url)
    with local_copy(ctx, url) as (path, scratch):
        found = probe_checked(ctx, path, url=url)
        ctx.work.put_file(key, path, move=scratch)
    return found


def _copies_inside_s3(ctx: StepContext, url: str) -> bool:
    from mediajet.storage.s3 import S3BlobStore

    own = ctx.resolve_own_url(url) if ctx.resolve_own_url else None
    # through a connection, the input is on another service (or another account): it comes down and goes up
    return (url.startswith("s3://") and own is None and isinstance(ctx.work, S3BlobStore)
            and ctx.connection_id is None)


def probe_checked(ctx: StepContext, source: Path | Readable, *, url: str) -> File:
    """Probe, then enforce the duration and resolution limits before any encoding starts."""
    timeout = min(120.0, ctx.remaining_s())
    if isinstance(source, Path):
        found = probe(source, url=url, timeout=timeout, stop=ctx.stop, settings=ctx.settings)
    else:
        found = probe_readable(source, url=url, timeout=timeout, stop=ctx.stop, settings=ctx.settings)
    limits = ctx.settings
    if found.duration and found.duration > limits.max_duration_s:
        raise ProcessingError(
            f"the input lasts {found.duration:.0f} s; the limit is {limits.max_duration_s:.0f} s",
            kind="duration_too_long",
        )
    width, height = found.width or 0, found.height or 0
    if max(width, height) > limits.max_dimension or width * height > limits.max_pixels:
        raise ProcessingError(
            f"the input is {width}x{height}; the limit is {limits.max_dimension} px per side "
            f"and {limits.max_pixels} pixels",
            kind="resolution_too_large",
        )
    return found


def encode_to_work(
    ctx: StepContext,
    kind: str,
    options: MediaOptions,
    source: File,
    src_key: str,
    out_prefix: str,
    *,
    on_progress: Callable[[int], None] | None = None,
) -> File:
    """Encode the working copy at `src_key`; the results land under `out_prefix` in working storage."""
    with ctx.work.local_path(src_key) as src, ctx.tempdir("encode-") as out_dir:
        main, described = engine.encode_described(
            kind, options, source, src, out_dir, timeout=ctx.remaining_s(), on_progress=on_progress,
            cancel=ctx.cancel, stop=ctx.stop, settings=ctx.settings, pillow=ctx.pillow)
        return _store_result(ctx, kind, main, out_dir, out_prefix, described=described)


def join_to_work(ctx: StepContext, job: Job, options: MediaOptions, out_prefix: str) -> File:
    """Join a fanned-out encode's parts where `result_place` says: under `out_prefix` like a single pass's
    result, or where export would put it."""
    split_plan = chunked.load_plan(ctx, job.id)
    if split_plan.indexed:  # joined in storage, described where it lands (ffprobe reads its header)
        store, key = result_place(ctx, job, options.format, out_prefix)  # type: ignore[union-attr]
        chunk_join.join_indexed(ctx, job, options, split_plan, store, key)
        with media_source(store, key) as stored:
            described = probe_readable(stored, url=store.uri(key), timeout=60, stop=ctx.stop, settings=ctx.settings)
        return described.model_copy(update={"url": store.uri(key)})
    store, folder = tree_place(ctx, job, out_prefix)  # HLS: the playlists beside the segments the parts wrote
    with ctx.tempdir("encode-") as out_dir:
        main, in_place = chunk_join.join(ctx, job, options, split_plan, out_dir)
        return _store_result(ctx, job.kind, main, out_dir, folder, in_place, store=store)


def result_place(ctx: StepContext, job: Job, ext: str, out_prefix: str) -> tuple[BlobStore, str]:
    """Where a chunked encode writes its result (a file's key; HLS: its tree's folder, which its parts
    write their segments into): the job's own result location when storage can move the bytes there by
    itself (our output bucket from the working bucket, inside S3; a local folder), so export has nothing
    left to copy. Else working storage, as a single pass's result: a destination in someone else's
    bucket is written only by export, the one step granted it."""
    from mediajet.storage.s3 import S3BlobStore

    hls = job.kind == "adaptive_video"
    same_kind = isinstance(ctx.outputs, S3BlobStore) == isinstance(ctx.work, S3BlobStore)
    local_path = ctx.allow_local_files and job.destination and not job.destination.startswith("s3://")
    if job.connection_id is None and not job.destination and same_kind and hls:
        return ctx.outputs, paths.default_output_prefix(job.id).rstrip("/")
    if job.connection_id is None and ((not job.destination and same_kind) or local_path) and not hls:
        return _single_destination(ctx, job, ext)
    return ctx.work, out_prefix if hls else f"{out_prefix}/output.{ext}"


def tree_place(ctx: StepContext, job: Job, out_prefix: str) -> tuple[BlobStore, str]:
    """The folder a chunked encode's files go into: an HLS ladder's segments and playlists where
    `result_place` says; any other kind's result under `out_prefix` in working storage, as a single pass's."""
    if job.kind == "adaptive_video":
        return result_place(ctx, job, "m3u8", out_prefix)
    return ctx.work, out_prefix


def _store_result(ctx: StepContext, kind: str, main: Path, out_dir: Path, out_prefix: str,
                  in_place: int = 0, store: BlobStore | None = None, described: File | None = None) -> File:
    """`in_place`: bytes of the result already stored under `out_prefix` (HLS segments made in parts);
    `store`: where (working storage unless said); `described`: the result's File when the encoder said it."""
    store = store or ctx.work
    described = described or describe_output(kind, main, stop=ctx.stop, settings=ctx.settings)
    if in_place:
        described.filesize = (described.filesize or 0) + in_place
    rel_main = main.relative_to(out_dir).as_posix()
    store.put_tree(out_prefix, out_dir, move=True)
    return described.model_copy(update={"url": store.uri(f"{out_prefix}/{rel_main}")})


def describe_output(kind: str, main: Path, *, stop: threading.Event | None = None,
                    settings: Settings | None = None) -> File:
    """The File object of an encoder result (a playlist is described, not probed)."""
    if kind == "adaptive_video":
        size = sum(p.stat().st_size for p in main.parent.rglob("*") if p.is_file())
        return File(kind="video", url=main.as_uri(), format="hls", filesize=size)
    return probe(main, timeout=60, stop=stop, settings=settings)


def _deliver(ctx: StepContext, src_key: str, store: BlobStore, dest_key: str) -> None:
    """One working file to its destination: an S3-to-S3 copy stays inside S3, anything else goes
    through local disk (a rename when both are local)."""
    from mediajet.storage.s3 import S3BlobStore

    if isinstance(store, S3BlobStore) and isinstance(ctx.work, S3BlobStore) and not ctx.through_connection(store):
        store.copy_in(dest_key, ctx.work, src_key)
        return
    with ctx.work.local_path(src_key) as path:
        store.put_file(dest_key, path, move=True)


def export_from_work(ctx: StepContext, job: Job, encoded: File, encoded_prefix: str) -> File:
    """Copy the encoder results to the job's destination (or the default output location)."""
    ctx = ctx.acting_for(job.project_id, job.connection_id)
    try:
        return _export(ctx, job, encoded, encoded_prefix)
    except OSError as exc:  # a full disk, a read-only or missing destination folder
        raise ProcessingError(f"the result could not be written: {exc.strerror or exc}", kind="export_failed") from exc


def _single_destination(ctx: StepContext, job: Job, ext: str) -> tuple[BlobStore, str]:
    """Where a one-file result goes: the job's destination, or the default output location."""
    filename = paths.filename_from_url(job.input)
    if job.destination:
        return ctx.destination(paths.render(job.destination, job_id=job.id, kind=job.kind, filename=filename, ext=ext))
    return ctx.outputs, paths.default_output_key(job.id, filename, ext)


def _export(ctx: StepContext, job: Job, encoded: File, encoded_prefix: str) -> File:
    main_name = posixpath.basename(encoded.url)
    ext = posixpath.splitext(main_name)[1].lstrip(".")
    if job.kind == "adaptive_video" and not job.destination:  # the master playlist is master.m3u8, as documented
        store, key = ctx.outputs, paths.default_output_prefix(job.id) + main_name
    else:
        store, key = _single_destination(ctx, job, ext)
    if job.kind == "adaptive_video":
        # The whole tree goes under the destination folder; the master keeps the requested name.
        if key.endswith(".m3u8"):
            prefix, main_key = posixpath.dirname(key), key
        else:
            prefix = key.rstrip("/")
            main_key = posixpath.join(prefix, "master.m3u8")
        moves = []
        placed = encoded.url == store.uri(main_key)  # a chunked encode's parts and join wrote it there
        for src_key in [] if placed else list(ctx.work.keys(encoded_prefix)):
            rel = src_key[len(encoded_prefix):].lstrip("/")
            moves.append((src_key, main_key if rel == main_name else posixpath.join(prefix, rel)))
        with ThreadPoolExecutor(max_workers=EXPORT_THREADS) as pool:  # an hour of HLS is ~3000 files
            list(pool.map(lambda move: _deliver(ctx, move[0], store, move[1]), moves))
        final_key = main_key
    else:
        if encoded.url != store.uri(key):  # a join by indexes may have written it there already
            _deliver(ctx, f"{encoded_prefix}/{main_name}", store, key)
        final_key = key
    return encoded.model_copy(update={"url": store.uri(final_key)})
