"""Turn pydantic validation errors into the typed, Ittybit-kinded `InvalidRequest`."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from mediajet.errors import InvalidRequest

M = TypeVar("M", bound=BaseModel)

# Errors whose kind follows from the field at fault (when pydantic, not our code, raised them).
_FIELD_KINDS = {"format": "invalid_format", "codec": "invalid_codec", "input": "invalid_input", "kind": "invalid_kind",
                "output": "invalid_output"}
_MISSING_KINDS = {"input": "input_required", "kind": "kind_required", "end": "end_required"}
# Keys and values in errors come from the client, unbounded: an error must not echo a megabyte back.
_ECHO_CHARS = 40


def clip(text: str, limit: int = _ECHO_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _field_name(loc: tuple[Any, ...]) -> str:
    return ".".join(clip(str(part)) for part in loc if not isinstance(part, int)) or "body"


def to_domain_error(exc: ValidationError, *, prefix: str = "", model: type[BaseModel] | None = None) -> InvalidRequest:
    err = exc.errors(include_url=False)[0]
    loc = tuple(err.get("loc", ())) + tuple(filter(None, [err.get("ctx", {}).get("field")]))
    leaf = clip(str(loc[-1])) if loc else ""
    field = prefix + _field_name(loc) if loc else (prefix.rstrip(".") or None)
    etype = err["type"]
    message = err["msg"]
    if etype in {"invalid_option", "invalid_codec", "invalid_format", "invalid_input", "end_required",
                 "invalid_kind", "input_required", "kind_required"}:
        kind = etype
    elif etype == "missing":
        kind = _MISSING_KINDS.get(leaf, "invalid_option" if "options" in prefix + field else "request_invalid")
        message = f"{leaf} is required"
    elif etype == "extra_forbidden":
        kind = "invalid_option" if "options" in (field or "") else "request_invalid"
        message = f"unknown field '{leaf}'" + _did_you_mean(leaf, _fields_at(model, loc[:-1]))
    else:
        kind = _FIELD_KINDS.get(leaf, "invalid_option" if "options" in (field or "") else "request_invalid")
        if etype == "literal_error":
            expected = err.get("ctx", {}).get("expected", "")
            message = f"'{clip(str(err.get('input')))}' is not allowed; expected {expected}"
    where = f"{field}: " if field and not message.startswith(leaf) else ""
    return InvalidRequest(f"{where}{message}", kind=kind, field=field)


def parse(model: type[M], data: Any, *, prefix: str = "") -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise to_domain_error(exc, prefix=prefix, model=model) from None


def _fields_at(model: type[BaseModel] | None, path: tuple[Any, ...]) -> list[str]:
    """The field names of the model that `path` leads to inside `model` (none when it leads elsewhere)."""
    for part in path:
        field = model.model_fields.get(str(part)) if model is not None else None
        annotation = field.annotation if field is not None else None
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return list(model.model_fields) if model is not None else []


def _did_you_mean(name: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
