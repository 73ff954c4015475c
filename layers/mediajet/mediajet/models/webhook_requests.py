"""Request bodies of the webhook endpoint routes (POST and PATCH /webhooks/endpoints, spec §5.3).

- `url`: https:// (plain http:// too where MEDIAJET_ALLOW_PRIVATE_URLS is set: webhooks/delivery.py `check_url`),
  with a host and no credentials; a host that is literally a loopback, private, link-local or metadata address
  (in any spelling storage/ssrf.py knows, and `localhost`) is refused here unless private URLs are allowed. A
  name is resolved when each delivery is made, through the same address policy (webhooks/delivery.py `post`).
- `topics`: 1 to `MAX_TOPICS` of `TOPICS` and `WILDCARDS` (models/webhooks.py), duplicates dropped, order kept.
- `description`: free text of at most `MAX_DESCRIPTION_CHARS`; `status` (PATCH only): active or disabled.

The settings (for the address policy) come in the validation context: `parse_endpoint(..., settings)`.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from mediajet.errors import InvalidRequest
from mediajet.models.requests import MAX_URL_CHARS
from mediajet.models.validation import clip, to_domain_error
from mediajet.models.webhooks import TOPICS, WILDCARDS
from mediajet.settings import Settings

MAX_TOPICS = 20
MAX_DESCRIPTION_CHARS = 1000
MAX_ENDPOINTS = 20  # per project: every job and task change reads them all (store/*_outbox.py)
KNOWN_TOPICS = WILDCARDS + TOPICS
# The kinds our validators raise; pydantic's own errors are named by models/validation.py.
OWN_KINDS = frozenset({"invalid_webhook_url", "invalid_topic"})


def check_webhook_url(url: Any, settings: Settings) -> str:
    """The URL, stripped, or PydanticCustomError(invalid_webhook_url) saying what is wrong with it: the rules of
    every webhook URL (webhooks/delivery.py `check_url`)."""
    from mediajet.webhooks.delivery import check_url

    def bad(why: str) -> PydanticCustomError:
        return PydanticCustomError("invalid_webhook_url", why)

    if not isinstance(url, str) or not url.strip() or len(url) > MAX_URL_CHARS:
        raise bad(f"url must be an https:// URL of at most {MAX_URL_CHARS} characters")
    text = url.strip()
    try:
        check_url(text, settings, field="url")
    except InvalidRequest as exc:
        raise bad(exc.message) from None
    return text


def check_topics(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise PydanticCustomError("invalid_topic", f"topics must be a non-empty list of topics: one or more of "
                                  f"{', '.join(KNOWN_TOPICS)}")
    topics: list[str] = []
    for topic in value:
        if not isinstance(topic, str) or topic not in KNOWN_TOPICS:
            shown = clip(topic) if isinstance(topic, str) else type(topic).__name__
            raise PydanticCustomError("invalid_topic", f"'{shown}' is not a topic; topics are "
                                      f"{', '.join(KNOWN_TOPICS)}")
        if topic not in topics:
            topics.append(topic)
    if len(topics) > MAX_TOPICS:
        raise PydanticCustomError("invalid_topic", f"an endpoint takes at most {MAX_TOPICS} topics")
    return topics


class _EndpointFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION_CHARS)

    @field_validator("url", "topics", mode="before", check_fields=False)
    @classmethod
    def _checked(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name == "topics":
            return check_topics(value)
        return check_webhook_url(value, (info.context or {}).get("settings") or Settings())


class EndpointCreate(_EndpointFields):
    url: str
    topics: list[str]


class EndpointUpdate(_EndpointFields):
    """Only the fields sent change (`model_fields_set`); `description: null` clears it."""

    url: str | None = None
    topics: list[str] | None = None
    status: Literal["active", "disabled"] | None = None

    def changes(self) -> dict[str, Any]:
        for name in ("url", "topics", "status"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise InvalidRequest(f"{name} cannot be null; leave it out to keep it", field=name)
        return {name: getattr(self, name) for name in self.model_fields_set}


M = TypeVar("M", EndpointCreate, EndpointUpdate)


def parse_endpoint(model: type[M], body: Any, settings: Settings) -> M:
    """`body` as `model`; InvalidRequest with kind invalid_webhook_url, invalid_topic, url_required,
    topics_required or request_invalid."""
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object", field="body")
    try:
        return model.model_validate(body, context={"settings": settings})
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        if err["type"] in OWN_KINDS:
            raise InvalidRequest(err["msg"], kind=err["type"], field=str(err["loc"][0])) from None
        if err["type"] == "missing":
            name = str(err["loc"][0])
            raise InvalidRequest(f"{name} is required", kind=f"{name}_required", field=name) from None
        raise to_domain_error(exc, model=model) from None
