"""Tailwind is off (main.py): every CSS class the pages and components use must be defined somewhere the page loads."""

import re
from pathlib import Path

import nicegui

ROOT = Path(__file__).resolve().parents[1]
STATIC = Path(nicegui.__file__).parent / "static"
SHEETS = [
    STATIC / "quasar.unimportant.prod.css",
    STATIC / "quasar.important.prod.css",
    STATIC / "nicegui.css",
    ROOT / "components" / "utilities.css",
    ROOT / "components" / "invite_dialog.css",
]
USES = (r'\.classes\(\s*"([^"]*)"', r"\.classes\(\s*'([^']*)'", r'class=\\?"([^"\\{]*)\\?"')


def _used() -> dict[str, str]:
    found: dict[str, str] = {}
    for folder in ("pages", "components"):
        for path in sorted([*(ROOT / folder).glob("*.py"), *(ROOT / folder).glob("*.js")]):
            for pattern in USES:
                for names in re.findall(pattern, path.read_text()):
                    found |= {name: path.name for name in names.split() if "{" not in name}
    return found


def _defined() -> set[str]:
    text = "\n".join(sheet.read_text() for sheet in SHEETS)
    return set(re.findall(r"\.(-?[_a-zA-Z][\w-]*)", text))


def test_every_class_the_pages_use_is_defined() -> None:
    used, defined = _used(), _defined()
    assert len(used) > 40  # the patterns still find the classes
    assert {name: where for name, where in used.items() if name not in defined} == {}
