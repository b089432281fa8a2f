"""Every screen and dialog state at 1366x768 with axe-core and the layout checks, and the keyboard alone.

The walk (tests/browser/accessibility_walk.py, states in docs/ACCESSIBILITY.md) plus, by keyboard: the skip link
comes first, the current page is marked, every control Tab reaches shows a focus ring, the password can be shown,
a table sorts from its header, and the focus goes back to the ⋮ button that opened a dialog, also after Tab wrapped
around the dialog. The keyboard part runs with motion as most people have it; the walk then asks for reduced motion,
as the phone's does: each state is checked as it stands once Quasar's transitions end, and waiting for about 40 of
them took 22 s of the 77 s this test took (the other browser tests keep the motion).
"""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.accessibility_walk import DEPLOYMENT, ORGANISATION, OTHER_ORGANISATION, start, walk
from tests.browser.conftest import AppServer, NewContext
from tests.browser.helpers import open_row_menu_by_keyboard, tab_to, watch_errors

pytestmark = pytest.mark.browser

expect.set_options(timeout=10_000)


def test_every_screen_fits_and_passes_axe_at_1366_and_works_by_keyboard(
    app_server: AppServer, new_context: NewContext, shots_dir: Path
) -> None:
    errors: list[str] = []
    admin = watch_errors(new_context().new_page(), errors)
    start(admin, app_server)
    _keyboard_sorts_and_dialog_gives_focus_back(admin)
    admin.emulate_media(reduced_motion="reduce")
    walk(admin, app_server, new_context, shots_dir, 1366, errors, reduced_motion="reduce")
    assert not errors, f"JavaScript errors in the pages: {errors}"


def _keyboard_sorts_and_dialog_gives_focus_back(admin: Page) -> None:
    # A sortable column header takes the focus and sorts with Enter or Space; the focus stays on it.
    organisations = admin.get_by_role("region", name="Organisations")
    header = organisations.get_by_role("columnheader", name="Organisation")
    first_row = organisations.get_by_role("row").nth(1)
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(first_row).to_contain_text(OTHER_ORGANISATION)
    tab_to(admin, header)
    admin.keyboard.press("Enter")
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(first_row).to_contain_text(ORGANISATION)
    expect(header).to_be_focused()  # the table re-rendered its header: the focus followed it
    admin.keyboard.press("Space")
    expect(header).to_have_attribute("aria-sort", "ascending")

    # New deployment from the row menu, by keyboard; Shift+Tab wraps past the dialog's first control and Quasar's
    # trap brings it back; the server closes the dialog on Enter: the focus goes back to the ⋮ button.
    opener = admin.get_by_role("button", name=f"Actions for {ORGANISATION}", exact=True)
    open_row_menu_by_keyboard(admin, ORGANISATION, "New deployment")
    dialog = admin.get_by_role("dialog", name=f"New deployment in {ORGANISATION}")
    name = dialog.get_by_label("Deployment name")
    expect(name).to_be_focused()
    admin.keyboard.type(DEPLOYMENT)
    for _ in range(3):
        admin.keyboard.press("Shift+Tab")
    expect(dialog.locator(":focus")).to_have_count(1)  # round the ends, still in the dialog
    tab_to(admin, name)
    admin.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    # Escape after Tab went round the confirmation (Quasar closes it in the browser): the same.
    open_row_menu_by_keyboard(admin, OTHER_ORGANISATION, "Archive")
    confirm = admin.get_by_role("dialog", name=f"Archive {OTHER_ORGANISATION}?")
    for _ in range(3):
        admin.keyboard.press("Tab")
    expect(confirm.locator(":focus")).to_have_count(1)
    admin.keyboard.press("Escape")
    expect(confirm).to_be_hidden()
    expect(admin.get_by_role("button", name=f"Actions for {OTHER_ORGANISATION}", exact=True)).to_be_focused()
