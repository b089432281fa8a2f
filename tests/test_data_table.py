"""components/data_table.js is a fork of NiceGUI's table component: every NiceGUI upgrade has it reviewed."""

import hashlib
from pathlib import Path

import nicegui

# The SHA-256 of nicegui/elements/table.js that data_table.js was last compared with (NiceGUI 3.18).
REVIEWED_TABLE_JS = "5854a1d452d3d9bcee04a6668c680ee352153bc5dfb35c644b797bc6f92242c1"


def test_nicegui_table_js_is_the_one_the_fork_was_reviewed_against() -> None:
    installed = Path(nicegui.__file__).parent / "elements" / "table.js"
    digest = hashlib.sha256(installed.read_bytes()).hexdigest()
    assert digest == REVIEWED_TABLE_JS, (
        f"NiceGUI's {installed} changed (NiceGUI {nicegui.__version__}): review components/data_table.js, which "
        "forks it, carry over what changed, then set REVIEWED_TABLE_JS to the new SHA-256"
    )
