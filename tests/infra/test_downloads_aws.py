"""HLS on AWS plays from the link the API returns: the API Lambda answers signed /downloads/ links
(mediajet.aws.downloads), rewriting each playlist so that every URI in it works, against moto S3 and
the synthesized state machine. Presigned S3 URLs are fetched with `requests`, which moto intercepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from mediajet.api.auth import create_key
from mediajet.aws import runtime
from tests.infra.harness import INBOX, OUTPUT, Aws, LambdaContext, http_event, load_handler
from tests.infra.hls_player import get, is_media, play, uris
from tests.media import make_video

PROJECT = "prj_hls"
API_HOST = http_event("GET", "/")["headers"]["host"]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """360p: two renditions (360p and 240p)."""
    return make_video(tmp_path_factory.mktemp("hls") / "clip.mp4", seconds=1, size="640x360")


def call(method: str, url: str, key: str | None = None, body: Any = None) -> dict[str, Any]:
    """The API Lambda's answer to `method url` (a full URL on the API's host, or a path)."""
    parts = urlsplit(url)
    assert parts.netloc in ("", API_HOST), url
    event = http_event(method, parts.path, body, key=key)
    event["rawQueryString"] = parts.query
    if parts.query:
        event["queryStringParameters"] = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return load_handler("api").handler(event, LambdaContext("api", 29))


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    """A player's GET: the API's host goes to the API Lambda, anything else (presigned S3) through requests."""
    import requests

    if urlsplit(url).netloc == API_HOST:
        answer = call("GET", url)
        return answer["statusCode"], {k.lower(): v for k, v in answer["headers"].items()}, answer["body"].encode()
    response = requests.get(url, allow_redirects=False, timeout=10)
    return response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.content


def error(answer: dict[str, Any]) -> tuple[int, str]:
    assert answer["headers"]["Content-Type"] == "application/json"
    body = json.loads(answer["body"])
    assert set(body) == {"kind", "message"}, body
    return answer["statusCode"], body["kind"]


def with_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    params = {k: v[0] for k, v in parse_qs(parts.query).items()} | {name: value}
    return parts._replace(query="&".join(f"{k}={v}" for k, v in params.items())).geturl()


def test_an_adaptive_video_plays_from_the_link_the_api_returns(aws: Aws, clip: Path) -> None:
    aws.s3.upload_file(str(clip), INBOX, "uploads/clip.mp4")
    key = create_key(runtime.job_store(), PROJECT)
    created = call("POST", "/jobs", key, {"input": f"s3://{INBOX}/uploads/clip.mp4", "kind": "adaptive_video"})
    assert created["statusCode"] == 201, created
    job_id = json.loads(created["body"])["id"]
    assert aws.wait(aws.execution_arn(job_id))["status"] == "SUCCEEDED"

    done = call("GET", f"/jobs/{job_id}", key)
    link = json.loads(done["body"])["output"]
    assert link.startswith(f"https://{API_HOST}/downloads/") and "/master.m3u8?expires=" in link, link
    played = assert_plays(link)

    # Every link in the tree is a capability for one key, until it expires.
    variant = played.variants[0]
    assert error(call("GET", with_param(link, "signature", "A" * 43))) == (403, "signature_invalid")
    assert error(call("GET", with_param(variant, "expires", str(int(variant.split("expires=")[1][:10]) + 1)))) \
        == (403, "signature_invalid"), "the expiry is signed"
    assert error(call("GET", link.split("?")[0])) == (403, "signature_missing")
    master_key = urlsplit(link).path.removeprefix("/downloads/")
    expired = runtime.downloads().url(f"https://{API_HOST}", master_key, -1)
    assert error(call("GET", expired)) == (403, "link_expired")
    other = urlsplit(variant)._replace(path=urlsplit(variant).path.replace("stream.m3u8", "other.m3u8")).geturl()
    assert error(call("GET", other)) == (403, "signature_invalid"), "a signature names its key"
    assert call("GET", expired)["headers"]["Access-Control-Allow-Origin"] == "*"


def assert_plays(link: str):
    played = play(link, fetch)
    assert len(played.variants) == 2, played.playlists[link]
    assert all(urlsplit(v).netloc == API_HOST for v in played.variants), "variants are signed links on the API"
    segments = [url for url in played.media if url.split("?")[0].endswith(".ts")]
    assert len(segments) >= 2 and len(segments) == len(played.media), sorted(played.media)
    assert all(OUTPUT in url and "X-Amz-Signature=" in url for url in segments), "segments come from S3, presigned"
    assert all(is_media(data) for data in played.media.values()), "real MPEG-TS segments"
    return played


# --- the route on its own, with a tree written by hand ---------------------------------------------------

MASTER = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360
360p/stream.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=400000
https://cdn.example.com/elsewhere.m3u8
"""
VARIANT = """#EXTM3U
#EXT-X-TARGETDURATION:6
#EXT-X-MAP:URI="init.mp4"
#EXTINF:6.0,
seg%200.m4s
#EXTINF:6.0,
../../secret/leak.m4s
#EXT-X-ENDLIST
"""
FMP4 = b"\x00\x00\x00\x18ftypiso6" + bytes(16)


@pytest.fixture
def tree(aws: Aws) -> str:
    """A hand-written HLS tree in the output bucket; the master playlist's signed link."""
    for name, body in {"master.m3u8": MASTER, "360p/stream.m3u8": VARIANT, "360p/init.mp4": FMP4,
                       "360p/seg 0.m4s": FMP4, "poster.jpg": b"\xff\xd8jpeg"}.items():
        aws.s3.put_object(Bucket=OUTPUT, Key=f"out/hls/{name}", Body=body)
    return runtime.downloads().url(f"https://{API_HOST}", "out/hls/master.m3u8", 600)


def test_playlists_are_rewritten_so_only_their_own_folder_becomes_reachable(tree: str) -> None:
    answer = call("GET", tree)
    assert answer["statusCode"] == 200
    assert answer["headers"]["Content-Type"] == "application/vnd.apple.mpegurl"
    assert answer["headers"]["Cache-Control"] == "no-store" and answer["headers"]["Access-Control-Allow-Origin"] == "*"
    master = [uri for uri, _ in uris(answer["body"])]
    assert master[0].startswith("360p/stream.m3u8?expires=") and "&signature=" in master[0], "relative, signed"
    assert master[1] == "https://cdn.example.com/elsewhere.m3u8", "absolute URIs are left alone"

    _, _, body = get(fetch, f"https://{API_HOST}/downloads/out/hls/{master[0]}")
    init, segment, leak = (uri for uri, _ in uris(body.decode()))
    assert init.startswith(f"https://{OUTPUT}.s3") and "/out/hls/360p/init.mp4?" in init
    assert "/out/hls/360p/seg%200.m4s?" in segment
    assert leak == "../../secret/leak.m4s", "a URI that leaves the folder is not signed"
    assert get(fetch, segment)[2] == FMP4


def test_other_files_redirect_to_a_presigned_url_and_methods_are_checked(tree: str) -> None:
    poster = tree.replace("master.m3u8", "poster.jpg").split("?")[0]
    signed = runtime.downloads().url(f"https://{API_HOST}", "out/hls/poster.jpg", 600)
    answer = call("GET", signed)
    assert answer["statusCode"] == 302 and OUTPUT in answer["headers"]["Location"]
    assert get(fetch, signed)[2] == b"\xff\xd8jpeg"
    assert error(call("GET", poster)) == (403, "signature_missing")

    head = call("HEAD", tree)
    assert head["statusCode"] == 200 and head["body"] == ""
    preflight = call("OPTIONS", tree)
    assert preflight["statusCode"] == 204 and preflight["headers"]["Access-Control-Allow-Headers"] == "Range"
    assert error(call("DELETE", tree)) == (405, "method_not_allowed")
    gone = runtime.downloads().url(f"https://{API_HOST}", "out/hls/gone.m3u8", 600)
    assert error(call("GET", gone)) == (404, "not_found")


def test_links_outside_a_request_use_the_public_url(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    """The webhook sender links results too: to MEDIAJET_PUBLIC_URL (infra/stack.py sets it to the API's URL);
    without a URL to link to, the master playlist is presigned as before."""
    from mediajet.settings import get_settings

    assert "X-Amz-Signature=" in runtime.sign_url(f"s3://{OUTPUT}/out/hls/master.m3u8")
    monkeypatch.setenv("MEDIAJET_PUBLIC_URL", "https://media.example.com/")
    get_settings.cache_clear()
    link = runtime.sign_url(f"s3://{OUTPUT}/out/hls/master.m3u8")
    assert link.startswith("https://media.example.com/downloads/out/hls/master.m3u8?expires="), link
    assert "X-Amz-Signature=" in runtime.sign_url(f"s3://{OUTPUT}/out/video.mp4"), "other files: presigned"
    assert runtime.sign_url("s3://someone-else/out/hls/master.m3u8") == "s3://someone-else/out/hls/master.m3u8"


def test_a_playlist_whose_link_secret_cannot_be_read_gets_a_presigned_link_not_a_500(
        aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    from infra import names

    monkeypatch.setenv(names.ENV_DOWNLOAD_SECRET, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:deleted")
    runtime.reset()
    token = runtime.REQUEST_URL.set(f"https://{API_HOST}")
    try:
        link = runtime.sign_url(f"s3://{OUTPUT}/jobs/job_x/master.m3u8")
    finally:
        runtime.REQUEST_URL.reset(token)
    assert "/downloads/" not in link and f"{OUTPUT}" in link and "X-Amz-Signature=" in link, link
