"""Plays an HLS link the way hls.js and Safari fetch it: the playlist at the link, then every URI in it
resolved against the playlist's own URL (RFC 3986: the link's query string is dropped, which is why a
presigned master playlist alone does not play), nested playlists in turn; redirects are followed. Every
fetch must answer 200. `fetch(url) -> (status, headers with lower-case names, body)` does the HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin

Fetch = Callable[[str], tuple[int, dict[str, str], bytes]]
REDIRECTS = (301, 302, 303, 307, 308)
_URI_ATTR = re.compile(r'URI="([^"]*)"')
TS_PACKET = 188


@dataclass
class Played:
    playlists: dict[str, str] = field(default_factory=dict)  # URL fetched → text
    media: dict[str, bytes] = field(default_factory=dict)  # URL fetched → bytes (segments, init segments, keys)
    variants: list[str] = field(default_factory=list)  # the master playlist's variant playlists, as fetched


def uris(playlist: str) -> list[tuple[str, bool]]:
    """(URI, is it a playlist) for every URI in `playlist`: the line after #EXT-X-STREAM-INF and the URI
    of #EXT-X-MEDIA / #EXT-X-I-FRAME-STREAM-INF are playlists; segment lines, #EXT-X-MAP and #EXT-X-KEY
    are media."""
    found: list[tuple[str, bool]] = []
    next_is_playlist = False
    for raw in playlist.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            for uri in _URI_ATTR.findall(line):
                found.append((uri, line.startswith(("#EXT-X-MEDIA:", "#EXT-X-I-FRAME-STREAM-INF:"))))
            next_is_playlist = next_is_playlist or line.startswith("#EXT-X-STREAM-INF")
        elif line:
            found.append((line, next_is_playlist))
            next_is_playlist = False
    return found


def get(fetch: Fetch, url: str, limit: int = 5) -> tuple[str, dict[str, str], bytes]:
    for _ in range(limit + 1):
        status, headers, body = fetch(url)
        if status in REDIRECTS:
            url = urljoin(url, headers["location"])
            continue
        assert status == 200, f"GET {url} → {status}: {body[:300]!r}"
        return url, headers, body
    raise AssertionError(f"more than {limit} redirects from {url}")


def play(link: str, fetch: Fetch) -> Played:
    played = Played()

    def walk(url: str, master: bool) -> None:
        final, _, body = get(fetch, url)
        text = body.decode()
        assert text.startswith("#EXTM3U"), f"{url} is not a playlist: {text[:100]!r}"
        played.playlists[url] = text
        for uri, is_playlist in uris(text):
            target = urljoin(final, uri)
            if is_playlist:
                if master:
                    played.variants.append(target)
                walk(target, False)
            else:
                played.media[target] = get(fetch, target)[2]

    walk(link, True)
    return played


def is_media(data: bytes) -> bool:
    """MPEG-TS (a sync byte every 188 bytes) or fragmented MP4 (an ftyp, styp or moof box first)."""
    if len(data) >= TS_PACKET * 2 and len(data) % TS_PACKET == 0:
        return all(data[i] == 0x47 for i in range(0, len(data), TS_PACKET))
    return data[4:8] in (b"ftyp", b"styp", b"moof")
