"""What the browser tests share: reading mail from /dev/mailbox, accounts, keyboard moves, screenshots, axe.

Everything waits with Playwright's auto-waiting (expect, locators): no fixed sleeps.
"""

import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import AppServer

PASSWORD = "a long enough password"
MAIL_TIMEOUT = 15_000  # ms: the worker sends within a second or two and the mailbox refreshes every second
FAILING_IMPACTS = ("serious", "critical")
TAB_LIMIT = 80  # Tab presses before giving up on reaching a control


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str
    link: str


def watch_errors(page: Page, errors: list[str]) -> Page:
    """Collect uncaught JavaScript errors of the page into errors."""
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    return page


def shot(page: Page, folder: Path, name: str, *, element: str | None = None) -> Path:
    """A screenshot in the test's temporary folder (pytest keeps the last runs' for a person to look at)."""
    path = folder / name
    if element is None:
        page.screenshot(path=path, full_page=True)
    else:
        page.locator(element).last.screenshot(path=path)
    return path


# --- mail and accounts -------------------------------------------------------------------------------------------


def mailbox_message(page: Page, address: str, subject: str) -> Locator:
    return page.locator(".q-expansion-item").filter(has_text=f"To {address} ").filter(has_text=subject)


def read_mail(page: Page, server: AppServer, address: str, subject: str) -> Mail:
    """Open the mailbox page, wait for the message to this address, open it and read its text and link."""
    page.goto(server.url("/dev/mailbox"))
    expect(page.get_by_role("heading", name="Mailbox")).to_be_visible()
    message = mailbox_message(page, address, subject)
    expect(message).to_have_count(1, timeout=MAIL_TIMEOUT)  # the page refreshes itself as mail arrives
    link = message.get_by_role("link", name="Create account")
    for _ in range(3):  # mail arriving meanwhile redraws the list and closes the message that was just opened
        message.get_by_text(subject).click()
        try:
            expect(link).to_be_visible(timeout=3_000)
            break
        except AssertionError:
            continue
    expect(link).to_be_visible()
    href = link.get_attribute("href")
    assert href, "the Create account link has no address"
    text = message.locator(".font-mono").inner_text()
    return Mail(subject=subject, text=text, link=href)


def first_admin_link(server: AppServer) -> str:
    """The first Super Admin's invitation link, as the console prints it at first start."""
    found = re.search(r"(http://\S+/accept/\S+)", server.output())
    assert found, f"no invitation link on the console:\n{server.output()}"
    return found.group(1)


def backdate_last_send(server: AppServer, email: str, *, minutes: int) -> None:
    """Let time pass for one pending invitation: it was last sent minutes ago (a resend needs a minute between).

    The browser tests run the real app, whose clock the test cannot move; this and expire() are the one place they
    touch its SQLite file, as tests/test_ui_care.py moves services.platform.clock for the same rules.
    """
    _move_pending(server, email, _SET_LAST_SENT, datetime.now(UTC) - timedelta(minutes=minutes))


def expire(server: AppServer, email: str) -> None:
    """Let one pending invitation's link run out a minute ago."""
    _move_pending(server, email, _SET_EXPIRES, datetime.now(UTC) - timedelta(minutes=1))


def organisation_id(server: AppServer, name: str) -> int:
    """The id of the organisation named name, as the Care Portal's ?org= takes it."""
    connection = sqlite3.connect(server.database, timeout=10)
    try:
        found = connection.execute("SELECT id FROM organisation WHERE name = ?", (name,)).fetchone()
    finally:
        connection.close()
    assert found, f"no organisation named {name}"
    return int(found[0])


_SET_LAST_SENT = "UPDATE invitation SET last_sent_at = ? WHERE email = ? AND state = 'pending'"
_SET_EXPIRES = "UPDATE invitation SET expires_at = ? WHERE email = ? AND state = 'pending'"


def _move_pending(server: AppServer, email: str, statement: str, at: datetime) -> None:
    connection = sqlite3.connect(server.database, timeout=10)
    try:
        with connection:  # one transaction, committed
            changed = connection.execute(statement, (at.isoformat(sep=" "), email)).rowcount
    finally:
        connection.close()
    assert changed == 1, f"{changed} pending invitations to {email}"


def create_account(page: Page, link: str, full_name: str, email: str) -> None:
    page.goto(link)
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    page.get_by_label("Full name").fill(full_name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile(r"^(Create account|Continue)$")).click()
    enrolment = page.get_by_role("heading", name="Set up your authenticator app")
    expect(enrolment.or_(page.get_by_role("button", name="Log in"))).to_be_visible()
    if enrolment.is_visible():  # the role needs a second factor: set up the app from the key shown as text
        set_up_app(page, email)
        expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
        page.get_by_role("button", name="Continue to log in").click()
    # The app also notifies "Your account is ready. Please log in." but navigates away at once, so a real
    # browser never shows it: what the person sees is the log-in page with the address filled in.
    expect(page).to_have_url(re.compile(r"/login\?email="))
    expect(page.get_by_label("Email")).to_have_value(email)


_apps: dict[str, str] = {}  # email -> the secret of the authenticator app set up for it in this test run
_last_step: dict[str, int] = {}  # secret -> the last step a code was made for (each test's apps are new)


def set_up_app(page: Page, email: str) -> str:
    """On the enrolment screen: read the key (as someone who cannot scan the QR code), confirm with a code."""
    secret = page.get_by_text(re.compile(r"^[A-Z2-7]{4}( [A-Z2-7]{4})+$")).inner_text()
    _apps[email] = secret.replace(" ", "")
    page.get_by_label("6-digit code from your app").fill(app_code(email))
    page.get_by_role("button", name=re.compile(r"^Confirm and (accept|continue)$")).click()
    return _apps[email]


def app_code(email: str) -> str:
    """The app's code for now, or for the next step when now's was used (the server accepts one step of drift)."""
    secret = _apps[email]
    app = pyotp.TOTP(secret)
    step = max(app.timecode(datetime.now(UTC)), _last_step.get(secret, 0) + 1)
    _last_step[secret] = step
    return app.generate_otp(step)


def log_in(page: Page, server: AppServer, email: str) -> None:
    if "/login" not in page.url:
        page.goto(server.url("/login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    if email in _apps:
        page.get_by_label("Authentication code").fill(app_code(email))
        page.get_by_role("button", name="Verify").click()


def pass_second_factor(page: Page, email: str) -> None:
    """After the password: give the app's code, or (an account made without one) set up an app and go on."""
    code, enrolment = (
        page.get_by_label("Authentication code"),
        page.get_by_role("heading", name="Set up your authenticator app"),
    )
    expect(code.or_(enrolment)).to_be_visible()
    if code.is_visible():
        code.fill(app_code(email))
        page.get_by_role("button", name="Verify").click()
        return
    set_up_app(page, email)
    page.get_by_role("button", name="Continue to Gatehouse").click()


def set_up_super_admin(page: Page, server: AppServer, full_name: str) -> None:
    """First start: the Super Admin opens the console link, creates her account and logs in to the Admin Portal."""
    create_account(page, first_admin_link(server), full_name, server.admin_email)
    log_in(page, server, server.admin_email)
    expect(page).to_have_url(server.url("/admin"))


def create_organisation(page: Page, name: str) -> None:
    page.get_by_label("New organisation name").fill(name)
    page.get_by_role("button", name="Create organisation").click()
    expect(page.get_by_role("region", name="Organisations").get_by_role("cell", name=name, exact=True)).to_be_visible()


def create_deployment(page: Page, organisation: str, name: str) -> None:
    row_menu(page, organisation, "New deployment")
    dialog = page.get_by_role("dialog", name=f"New deployment in {organisation}")
    dialog.get_by_label("Deployment name").fill(name)
    dialog.get_by_role("button", name="Create deployment").click()
    expect(dialog).to_be_hidden()


def row_menu(page: Page, row_name: str, item: str) -> None:
    """Open a table row's ⋮ menu and choose an item, with the mouse."""
    page.get_by_role("button", name=f"Actions for {row_name}", exact=True).click()
    page.get_by_role("menuitem", name=item, exact=True).click()


def choose_with_mouse(page: Page, scope: Locator, label: str, option: str) -> None:
    """Pick an option of a select with the mouse."""
    scope.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(scope.get_by_role("combobox", name=label, exact=True)).to_have_value(option)


# --- keyboard ----------------------------------------------------------------------------------------------------


_FOCUS = (
    "target => { const e = document.activeElement;"
    " const name = e ? (e.getAttribute('aria-label') || (e.innerText || e.value || '').trim().slice(0, 60)) : '';"
    " return [e === target, e ? `${e.tagName.toLowerCase()} role=${e.getAttribute('role')} \"${name}\"` : 'nothing']; }"
)


def is_focused(target: Locator) -> bool:
    return bool(target.evaluate(_FOCUS)[0])


def tab_to(page: Page, target: Locator, *, backwards: bool = False, limit: int = TAB_LIMIT) -> None:
    """Press Tab (or Shift+Tab) until the target has the focus: proof that the keyboard reaches it."""
    expect(target).to_be_visible()
    key = "Shift+Tab" if backwards else "Tab"
    seen: list[str] = []
    focused, where = target.evaluate(_FOCUS)
    for _ in range(limit):
        if focused:
            return
        page.keyboard.press(key)
        focused, where = target.evaluate(_FOCUS)
        seen.append(where)
    raise AssertionError(
        f"{key} never reached {target} in {limit} presses; the focus went through:\n" + "\n".join(seen)
    )


def choose_by_keyboard(page: Page, combobox: Locator, option: str) -> None:
    """With the select focused: Enter opens it, ArrowDown walks to the option, Enter picks it."""
    expect(combobox).to_be_focused()
    page.keyboard.press("Enter")
    listbox = page.locator(f"[id='{combobox.get_attribute('aria-controls')}']")
    options = listbox.get_by_role("option")
    expect(options.first).to_be_visible()
    names = [text.strip().split("\n")[0] for text in options.all_inner_texts()]  # a summary may follow the name
    assert option in names, f"{option!r} is not offered: {names}"
    wanted = options.nth(names.index(option)).get_attribute("id")
    expect(combobox).to_have_attribute("aria-expanded", "true")
    for _ in range(2 * len(names) + 1):  # where the highlight starts depends on the current value
        page.keyboard.press("ArrowDown")
        if combobox.get_attribute("aria-activedescendant") == wanted:
            break
    else:
        raise AssertionError(f"ArrowDown never highlighted {option!r} in {names}")
    page.keyboard.press("Enter")
    expect(combobox).to_have_value(option)


def open_row_menu_by_keyboard(page: Page, row_name: str, item: str) -> None:
    """Tab to a row's ⋮ button, open its menu with Enter, walk to the item with ArrowDown and choose it."""
    button = page.get_by_role("button", name=f"Actions for {row_name}", exact=True)
    tab_to(page, button)
    page.keyboard.press("Enter")
    menu = page.get_by_role("menu")
    expect(menu).to_be_focused()  # Quasar moves the focus into the menu once it is shown
    items = menu.get_by_role("menuitem")
    names = [text.strip() for text in items.all_inner_texts()]
    assert item in names, f"{item!r} is not in the menu: {names}"
    for _ in range(names.index(item) + 1):
        page.keyboard.press("ArrowDown")
    expect(menu.get_by_role("menuitem", name=item, exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(menu).to_be_hidden()


def open_manage_item_by_keyboard(page: Page, item: str) -> None:
    """Tab to Manage, open it with Enter, ArrowDown to the item, Enter."""
    tab_to(page, page.get_by_role("button", name="Manage"))
    page.keyboard.press("Enter")
    menu = page.get_by_role("menu")
    expect(menu).to_be_focused()  # Quasar moves the focus into the menu once it is shown
    target = menu.get_by_role("menuitem", name=item, exact=True)
    for _ in range(menu.get_by_role("menuitem").count()):
        page.keyboard.press("ArrowDown")
        if is_focused(target):
            break
    expect(target).to_be_focused()
    page.keyboard.press("Enter")


def type_addresses(page: Page, field: Locator, *addresses: str) -> None:
    """Type each address into the focused email field and press Enter, as a person would."""
    expect(field).to_be_focused()
    for address in addresses:
        page.keyboard.type(address)
        page.keyboard.press("Enter")
        expect(page.get_by_label(f"Address {address}", exact=True)).to_be_visible()
        # The server empties the field after making the chip; keys typed before that arrives are lost (a person
        # types slower than the round trip; Playwright does not). Wait for the empty field, as the eye would.
        expect(field).to_have_value("")


# --- accessibility -----------------------------------------------------------------------------------------------

_AXE = Axe()  # axe-core as bundled in axe-playwright-python (axe.min.js in the package: nothing is downloaded)
_AXE_LOADED = "() => typeof window.axe?.run === 'function'"
_AXE_RUN = "() => axe.run(document, {resultTypes: ['violations']}).then(results => results.violations)"  # the defaults
# Settled: no finite animation running, no element still in one of Vue's transition classes (under reduced
# motion a transition takes no time, but Vue holds its enter-from class for two animation frames), and no click's
# ripple left (Quasar removes it on a timer, whatever the motion; axe measures text under its circle as on grey).
_SETTLE = (
    "() => document.getAnimations().every(a => a.playState !== 'running'"
    " || a.effect?.getTiming().iterations === Infinity)"
    ' && !document.querySelector(\'[class*="-enter-"], [class*="-leave-"], .q-ripple__inner\')'
)


def check_accessibility(page: Page, name: str, *, report: list[str] | None = None) -> list[dict[str, Any]]:
    """Run axe-core on the whole page as it is now; fail on serious or critical violations, print the others.

    Returns the violations that did not fail (moderate and minor), which also go to report when given.
    """
    violations = _scan(page)
    if any(v["impact"] in FAILING_IMPACTS for v in violations):
        # A notification that began to fade out during the scan is measured half transparent: a failure must
        # still be there on a settled page.
        violations = _scan(page)
    failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    others = [v for v in violations if v["impact"] not in FAILING_IMPACTS]
    for violation in others:
        line = (
            f"axe [{name}] {violation['impact']}: {violation['id']} ({len(violation['nodes'])}x) {violation['help']}"
            f" — e.g. {violation['nodes'][0]['html'][:140]}"
        )
        print(line)
        if report is not None:
            report.append(line)
    assert not failing, f"axe found serious or critical problems on {name}:\n" + _describe(failing)
    return others


def _scan(page: Page) -> list[dict[str, Any]]:
    page.wait_for_function(_SETTLE)  # transitions finished: no half-faded text measured for contrast
    if not page.evaluate(_AXE_LOADED):  # once per document: injecting axe costs half as much as a scan
        page.evaluate(_AXE.axe_script)
    violations: list[dict[str, Any]] = page.evaluate(_AXE_RUN)
    return violations


def _describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            messages = [check["message"] for kind in ("any", "all", "none") for check in node.get(kind, [])]
            lines.append(f"    {', '.join(node['target'])}: {node['html'][:200]}")
            lines.extend(f"      {message}" for message in messages[:2])
    return "\n".join(lines)


def write_report(lines: list[str], folder: Path, name: str) -> None:
    """Keep the non-failing axe findings of a test next to its screenshots."""
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


# --- layout and focus --------------------------------------------------------------------------------------------

_LAYOUT = """() => {
  const problems = [];
  const width = window.innerWidth;
  const page = document.documentElement.scrollWidth;
  if (page > width) problems.push(`the page is ${page} px wide in a ${width} px window: it scrolls sideways`);
  for (const box of document.querySelectorAll(".q-dialog .q-card, .q-menu")) {
    const r = box.getBoundingClientRect();
    if (r.left < 0 || r.right > width + 0.5) problems.push(`${box.className} runs past the window: ${r.right}`);
  }
  for (const table of document.querySelectorAll(".q-table__container")) {
    const name = table.getAttribute("aria-label");
    const edges = table.getBoundingClientRect();
    const middle = table.querySelector(".q-table__middle");
    if (middle && middle.scrollWidth > middle.clientWidth + 1) {
      problems.push(`${name}: ${middle.scrollWidth} px of columns in a ${middle.clientWidth} px box`);
    }
    for (const button of table.querySelectorAll('button[aria-label^="Actions for "]')) {
      const label = button.getAttribute("aria-label");
      const b = button.getBoundingClientRect();
      if (b.left < edges.left || b.right > edges.right || b.left < 0 || b.right > width) {
        problems.push(`${label} at ${b.left}..${b.right}: outside ${name} (${edges.right}) or the window`);
      }
      const rowName = label.slice("Actions for ".length);
      const shown = (e) => {
        const r = e.getBoundingClientRect();
        return r.width > 0 && r.left >= 0 && r.right <= width;
      };
      const named = [...button.closest("tr, [role=group]").querySelectorAll("td, div")]
        .some((e) => e.textContent.trim() === rowName && shown(e));
      if (!named) problems.push(`${rowName} is not in sight beside its actions`);
    }
  }
  return problems;
}"""


def check_layout(page: Page, name: str) -> None:
    """No sideways scrolling: the page fits the window, tables their boxes, dialogs and menus the window, and each
    row's ⋮ button lies inside its table and the window with the row's name in sight beside it."""
    page.wait_for_function(_SETTLE)  # a tab panel sliding in is measured where it stops
    problems = page.evaluate(_LAYOUT)
    assert not problems, f"layout problems on {name}:\n" + "\n".join(problems)


_RING = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) return "";
  const field = element.closest(".q-field");
  const describe = `${element.tagName.toLowerCase()} "${(element.getAttribute("aria-label")
    || element.innerText || "").trim().slice(0, 50)}"`;
  if (field) {
    const control = field.querySelector(".q-field__control");
    const border = parseFloat(getComputedStyle(control, "::after").borderTopWidth);
    const ring = getComputedStyle(control);
    const outlined = field.classList.contains("q-field--outlined") && border >= 2;
    return outlined || (ring.outlineStyle !== "none" && parseFloat(ring.outlineWidth) >= 2) ? "" : describe;
  }
  const style = getComputedStyle(element);
  return style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2 ? "" : describe;
}"""


_FOCUSED_NAME = (
    "() => { const e = document.activeElement;"
    " return e.getAttribute('aria-label') || (e.innerText || '').trim().slice(0, 40) || e.tagName; }"
)


def tab_through(page: Page, presses: int) -> list[str]:
    """Press Tab `presses` times; every control the focus lands on must show a focus ring (an outline of 2 px or
    more, or an outlined field's thick border). Returns what was focused, in order."""
    seen, bare = [], []
    for _ in range(presses):
        page.keyboard.press("Tab")
        seen.append(page.evaluate(_FOCUSED_NAME))
        missing = page.evaluate(_RING)
        if missing:
            bare.append(missing)
    assert not bare, "no visible focus indicator on:\n" + "\n".join(dict.fromkeys(bare))
    return seen
