"""How a composed S3 object is cut into multipart parts: every part but the last holds 5 MiB or more,
and a range is copied inside S3 whenever nothing waits to be uploaded before it."""

from __future__ import annotations

from mediajet.storage.base import Span
from mediajet.storage.s3_compose import Part, plan_parts

MIN = 100


def test_a_large_range_is_copied_once_the_head_is_sent() -> None:
    a, b, c = Span("a", 0, 150), Span("b", 10, 120), Span("c", 0, 100)
    assert plan_parts(b"h" * 20, [a, b, c], MIN) == [Part(pieces=[b"h" * 20, a]), Part(copy=b), Part(copy=c)]


def test_small_ranges_are_gathered_until_they_fill_a_part_and_the_last_may_be_small() -> None:
    spans = [Span("a", 0, 60), Span("b", 0, 60), Span("c", 0, 200), Span("d", 0, 30)]
    assert plan_parts(b"", spans, MIN) == [Part(pieces=[spans[0], spans[1]]), Part(copy=spans[2]),
                                          Part(pieces=[spans[3]])]


def test_a_head_alone_is_one_part_and_empty_ranges_are_skipped() -> None:
    assert plan_parts(b"head", [Span("a", 0, 0)], MIN) == [Part(pieces=[b"head"])]
