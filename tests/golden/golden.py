"""Golden files: the approved text of every notification Warden writes, one file per message.

A wording change is one edit in `warden/messages/` and one approved diff under `tests/golden/texts/`:
run the tests with `UPDATE_GOLDEN=1` to rewrite the files, read the diff, commit it. Without the variable a
test whose rendered text differs from its file fails with a unified diff, and a missing file fails too (it is
never created silently).
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

from warden.domain.notification import Notification

TEXTS = Path(__file__).parent / "texts"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def updating() -> bool:
    return os.environ.get("UPDATE_GOLDEN", "") == "1"


def as_text(notification: Notification) -> str:
    """What a subscriber reads: the subject line, the severity and event (the filterable attributes), the body."""
    return (
        f"Subject: {notification.subject}\n"
        f"Event: {notification.event} ({notification.severity.value})\n"
        f"\n{notification.body.rstrip()}\n"
    )


def assert_golden(name: str, text: str) -> None:
    """`text` must equal tests/golden/texts/<name>.txt (UPDATE_GOLDEN=1 writes it instead)."""
    assert _NAME.match(name), f"golden file names are lower-case words: {name!r}"
    path = TEXTS / f"{name}.txt"
    if updating():
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path.relative_to(TEXTS.parent.parent.parent)}: run with UPDATE_GOLDEN=1"
    approved = path.read_text(encoding="utf-8")
    if text != approved:
        diff = "".join(
            difflib.unified_diff(
                approved.splitlines(keepends=True), text.splitlines(keepends=True), "approved", "rendered"
            )
        )
        raise AssertionError(f"{name}: the rendered text differs from its golden file\n{diff}")


def assert_golden_notification(name: str, notification: Notification) -> None:
    assert_golden(name, as_text(notification))
