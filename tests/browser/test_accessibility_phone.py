"""Every screen and dialog state on a 390x844 phone that asks for less motion, with axe-core and the layout checks.

The walk (tests/browser/accessibility_walk.py, states in docs/ACCESSIBILITY.md): tables become cards and nothing
scrolls sideways. The phone's system asks for reduced motion (prefers-reduced-motion, WCAG 2.3.3), and the app
honours it: menus and dialogs open without a fade or a slide.
"""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.accessibility_walk import DEPLOYMENT, ORGANISATION, start, walk
from tests.browser.conftest import AppServer, NewContext
from tests.browser.helpers import create_deployment, watch_errors

pytestmark = pytest.mark.browser

expect.set_options(timeout=10_000)
LESS_MOTION = {"reduced_motion": "reduce"}
_RUNNING = "() => document.getAnimations().filter(a => a.playState === 'running').length"


def test_every_screen_fits_and_passes_axe_on_a_390_px_phone_that_asks_for_less_motion(
    app_server: AppServer, new_context: NewContext, shots_dir: Path
) -> None:
    errors: list[str] = []
    admin = watch_errors(new_context(**LESS_MOTION).new_page(), errors)
    start(admin, app_server)
    create_deployment(admin, ORGANISATION, DEPLOYMENT)
    _menus_and_dialogs_open_without_motion(admin)
    walk(admin, app_server, new_context, shots_dir, 390, errors, **LESS_MOTION)
    assert not errors, f"JavaScript errors in the pages: {errors}"


def _menus_and_dialogs_open_without_motion(admin: Page) -> None:
    # Checked the moment each is shown: with motion, Quasar's fade (0.3 s) would still be running.
    admin.get_by_role("button", name=f"Actions for {ORGANISATION}", exact=True).click()
    expect(admin.get_by_role("menu")).to_be_visible()
    assert admin.evaluate(_RUNNING) == 0, "the row menu moved although the browser asks for reduced motion"
    admin.get_by_role("menuitem", name="Rename").click()
    expect(admin.get_by_role("dialog")).to_be_visible()
    assert admin.evaluate(_RUNNING) == 0, "the dialog moved although the browser asks for reduced motion"
    admin.keyboard.press("Escape")
    expect(admin.get_by_role("dialog")).to_be_hidden()
