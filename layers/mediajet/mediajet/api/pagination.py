"""List pagination headers (DESIGN.md, spec §1.3): `Link` (RFC 8288), `Has-More`, `Limit`.

Paging forward (`after`, or no cursor) continues with `after=<last id>` under rel="next"; paging with
a lone `before` continues further back with `before=<first id>` under rel="prev" (the stores read a
lone `before` as "the page right before this id", see store.base.page_window). The link repeats the
filters and the order, so following it needs no state on the client.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from mediajet.store.base import JobPage, JobQuery


def base_url(headers: Mapping[str, str], domain: str | None, path: str) -> str:
    """The URL the client called (API Gateway sets x-forwarded-proto; the local server is plain http)."""
    host = headers.get("host") or domain or "localhost"
    scheme = (headers.get("x-forwarded-proto") or "http").split(",")[0].strip()
    return f"{scheme}://{host}{path}"


def page_headers(page: JobPage, query: JobQuery, url: str) -> dict[str, str]:
    headers = {"Has-More": "true" if page.has_more else "false", "Limit": str(query.limit)}
    if page.has_more and page.items:
        params = query.model_dump(exclude_none=True)
        if query.before is not None and query.after is None:  # paging back: "more" lies further back
            params["before"], rel = page.items[0].id, "prev"
        else:
            params["after"], rel = page.items[-1].id, "next"
        headers["Link"] = f'<{url}?{urlencode(params)}>; rel="{rel}"'
    return headers
