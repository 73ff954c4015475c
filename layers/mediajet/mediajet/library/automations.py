"""Automations: `{kind: "event", event: "media.created"}` runs a workflow on the new media item's first file.

A workflow is a list of steps run in parallel: an encode step `{kind: video|image|audio, ref?, next?, …options}`
starts a standalone task on the file (its result joins the same media item, labelled `ref`); `next` steps
start when that result is ready, on it. A condition step `{kind: "conditions", conditions: [{prop, value}],
next}` runs its `next` steps on the same file when every condition holds: `prop` names a file property
(kind, format, type, width, height, duration, fps, filesize, orientation, codec) or `metadata.<key>` (the
file's metadata, then the media item's); values compare as text (`"320"` matches a width of 320).

Steps are checked when the automation is saved (`check_workflow`): kinds the engine does not run are a 422,
options are the task options of the kind (a 400 names the bad one). A task started by an automation carries
`automation_id` and `step` (the step's path, "0.1" = `workflow[0].next[1]`) in its options; that is how its
result finds the steps chained after it.
"""

from __future__ import annotations

import logging
from typing import Any

from mediajet.errors import InvalidRequest, NotFound, StaleWrite, StepNotRun
from mediajet.library import LibraryContext
from mediajet.models.job import Task
from mediajet.models.library import Automation, LibraryFile, Media
from mediajet.models.mime import mime_type
from mediajet.models.options import OPTIONS_BY_KIND
from mediajet.models.validation import clip, parse
from mediajet.store.library import LibraryStore

log = logging.getLogger("mediajet.library")

RUN_KINDS = ("video", "image", "audio")
NOT_RUN = ("chapters", "subtitles", "thumbnails", "nsfw", "speech", "description", "outline", "prompt", "http",
           "webhook", "workflow", "ingest")
STEP_KEYS = ("kind", "ref", "next")
MAX_STEPS = 20  # in the whole workflow, next steps included
MAX_DEPTH = 5
MAX_CONDITIONS = 20
PAGE = 100
MIME_MAJOR = ("video", "audio", "image")


# --- checking a workflow ----------------------------------------------------------------------------


def check_trigger(trigger: Any) -> dict[str, str]:
    if trigger != {"kind": "event", "event": "media.created"}:
        raise InvalidRequest('trigger must be {"kind": "event", "event": "media.created"}, the one trigger there is',
                             field="trigger")
    return trigger


def check_workflow(workflow: Any) -> list[dict[str, Any]]:
    if not isinstance(workflow, list) or not workflow:
        raise InvalidRequest("workflow must be a non-empty array of steps", field="workflow")
    count = [0]
    return [_check_step(step, f"workflow[{n}]", 1, count) for n, step in enumerate(workflow)]


def _check_step(step: Any, where: str, depth: int, count: list[int]) -> dict[str, Any]:
    count[0] += 1
    if count[0] > MAX_STEPS or depth > MAX_DEPTH:
        raise InvalidRequest(f"a workflow has at most {MAX_STEPS} steps, chained at most {MAX_DEPTH} deep",
                             field=where)
    if not isinstance(step, dict):
        raise InvalidRequest(f"{where} must be an object with a kind", field=where)
    kind = step.get("kind")
    if kind in NOT_RUN:
        raise StepNotRun(f"{where}: MediaJet does not run '{kind}' steps; it runs video, image, audio and "
                         "conditions", field=f"{where}.kind")
    if kind != "conditions" and kind not in RUN_KINDS:
        raise InvalidRequest(f"{where}.kind '{clip(str(kind))}' is not a step kind; MediaJet runs video, image, "
                             "audio and conditions", kind="invalid_kind", field=f"{where}.kind")
    checked: dict[str, Any] = {"kind": kind}
    if kind == "conditions":
        checked["conditions"] = _check_conditions(step.get("conditions"), f"{where}.conditions")
        extra = sorted(set(step) - {"kind", "conditions", "next"})
        if extra:
            raise InvalidRequest(f"unknown field '{clip(extra[0])}' in a conditions step", field=f"{where}.{extra[0]}")
    else:
        options = {key: value for key, value in step.items() if key not in STEP_KEYS and value is not None}
        parse(OPTIONS_BY_KIND[kind], options, prefix=f"{where}.")  # a bad option is a 400 now, not a failed task
        checked.update(options)
        ref = step.get("ref")
        if ref is not None:
            if not isinstance(ref, str) or not 1 <= len(ref) <= 255:
                raise InvalidRequest(f"{where}.ref must be a string of 1 to 255 characters", field=f"{where}.ref")
            checked["ref"] = ref
    chained = step.get("next")
    if chained is not None:
        if not isinstance(chained, list):
            raise InvalidRequest(f"{where}.next must be an array of steps", field=f"{where}.next")
        checked["next"] = [_check_step(s, f"{where}.next[{n}]", depth + 1, count) for n, s in enumerate(chained)]
    return checked


def _check_conditions(conditions: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(conditions, list) or not 1 <= len(conditions) <= MAX_CONDITIONS:
        raise InvalidRequest(f"{where} must be an array of 1 to {MAX_CONDITIONS} {{prop, value}}", field=where)
    for n, condition in enumerate(conditions):
        ok = (isinstance(condition, dict) and set(condition) == {"prop", "value"}
              and isinstance(condition["prop"], str) and 1 <= len(condition["prop"]) <= 100
              and isinstance(condition["value"], str | int | float | bool) and len(str(condition["value"])) <= 500)
        if not ok:
            raise InvalidRequest(f"{where}[{n}] must be {{prop, value}}: a property name and the value it must have",
                                 field=f"{where}[{n}]")
    return conditions


# --- running ---------------------------------------------------------------------------------------


def file_ready(lib: LibraryContext, file: LibraryFile, task: Task | None) -> None:
    """A file became ready: continue the automation that made it, or fire `media.created` for a new media item."""
    if lib.start_task is None or lib.sign_url is None:
        return  # this runtime does not run automations (see the README)
    options = task.options if task is not None else {}
    try:
        media = lib.store.get_record(Media, file.media_id, file.project_id)
        if isinstance(options.get("automation_id"), str):
            automation = lib.store.get_record(Automation, options["automation_id"], file.project_id)
            step = _step_at(automation.workflow, str(options.get("step", "")))
            if step is not None and automation.status == "active":
                _run(lib, automation, step.get("next") or [], f"{options['step']}.", file, media)
            return
        if media.announced or not file.original:
            return
        try:
            media = lib.store.save_record(media.touched(announced=True))  # conditional: one announcer wins
        except StaleWrite:
            return
        for automation in _active(lib.store, file.project_id):
            _run(lib, automation, automation.workflow, "", file, media)
    except NotFound:
        return  # deleted meanwhile: nothing to add the results to


def _active(store: LibraryStore, project_id: str) -> list[Automation]:
    found, page = [], 1
    while True:
        batch = store.list_records(Automation, project_id, page, PAGE)
        found.extend(a for a in batch if a.status == "active")
        if len(batch) < PAGE:
            return sorted(found, key=lambda a: a.id)
        page += 1


def _step_at(workflow: list[dict[str, Any]], path: str) -> dict[str, Any] | None:
    steps, step = workflow, None
    for part in path.split("."):
        if not part.isdigit() or int(part) >= len(steps):
            return None
        step = steps[int(part)]
        steps = step.get("next") or []
    return step


def _run(lib: LibraryContext, automation: Automation, steps: list[dict[str, Any]], prefix: str, file: LibraryFile,
         media: Media) -> None:
    for n, step in enumerate(steps):
        path = f"{prefix}{n}"
        if step["kind"] == "conditions":
            if all(holds(c, file, media) for c in step["conditions"]):
                _run(lib, automation, step.get("next") or [], f"{path}.", file, media)
            continue
        options = {key: value for key, value in step.items() if key not in ("kind", "next")}
        options.update(media_id=media.id, automation_id=automation.id, step=path)
        task = Task(kind=step["kind"], input=task_input(file, lib.sign_url), options=options,
                    project_id=file.project_id)
        task.updated_at = task.created_at
        stored, _ = lib.store.create_task(task)
        try:
            lib.start_task(stored)  # type: ignore[misc]
        except Exception:
            log.exception("automation %s could not start step %s on %s", automation.id, path, file.id)


def task_input(file: LibraryFile, sign) -> dict[str, Any]:
    """A library file as a task's input: the engine's File, with a link the task can fetch."""
    fields = ("kind", "format", "width", "height", "duration", "fps", "filesize", "bitrate")
    data = {name: getattr(file, name) for name in fields if getattr(file, name) is not None}
    if file.codecs is not None:
        data["codecs"] = file.codecs.model_dump(exclude_none=True)
    return {"object": "file", "id": file.id, **data, "url": sign(file.uri) if file.uri else None}


def holds(condition: dict[str, Any], file: LibraryFile, media: Media) -> bool:
    prop, wanted = condition["prop"], condition["value"]
    if prop.startswith("metadata."):
        key = prop.removeprefix("metadata.")
        actual = file.metadata.get(key, media.metadata.get(key))
    else:
        actual = file_property(file, prop)
    return actual is not None and _text(actual) == _text(wanted)


def file_property(file: LibraryFile, prop: str) -> Any:
    if prop == "orientation":
        return orientation(file.width, file.height)
    if prop == "codec":
        return None if file.codecs is None else (file.codecs.audio if file.kind == "audio" else file.codecs.video)
    if prop == "type":
        return mime_type(file.kind, file.format)
    if prop in ("kind", "format", "width", "height", "duration", "fps", "filesize", "bitrate", "ref", "folder",
                "filename"):
        return getattr(file, prop)
    return None


def orientation(width: int | None, height: int | None) -> str | None:
    if not width or not height:
        return None
    return "landscape" if width > height else "portrait" if height > width else "square"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip().lower()
