"""Access settings: an organisation's end-of-access rules per role, the warnings before access ends, invitation
reminders, dormant members and the access review schedule."""

from collections.abc import Callable
from functools import partial
from typing import TypeVar

from fastapi import Request
from nicegui import ui

from components.form_errors import FormErrors
from components.frame import LANGUAGE, care_page_top, frame
from components.session import PageSession
from services.access import grant_terms, rights, roles, second_factor
from services.access.service import Actor, RoleInfo, ScopeLevel
from services.approvals import rules as approval_rules
from services.errors import DomainError, FieldErrors, InvalidInput
from services.organisations import access_settings
from services.organisations.access_settings import AccessSettings

T = TypeVar("T")
TITLE = "Access settings"
FIELD_WIDTH = "max-width: 36rem"  # room for the hint on two lines at most
SAVED = "Access settings saved."
RULES_NOTE = (
    "A role that requires an end date can only be given with an end, at most its longest duration away. "
    "Access given earlier keeps the end it has."
)
WARNINGS_HINT = (
    "Up to 5 numbers from 1 to 365, such as 14, 7, 1. The member and their sponsor get an email each time. "
    "Empty: no warnings."
)
REMINDER_NOTE = (
    "The reminder goes a day before a 72-hour or 7-day invitation link expires, with the same link. "
    "24-hour links get none."
)
DORMANT_NOTE = "Members who have not logged in for this many days are marked Dormant in the staff list."
SUSPEND_DORMANT = "Suspend their access here automatically"
SUSPEND_NOTE = (
    "Members about to become dormant are emailed 7 days before, and a log-in keeps their access. Otherwise their "
    "roles in this organisation stop at once (their account and any access elsewhere stay) and show in Ended access "
    "as suspended: an owner, or anyone who may manage that role here, gives them back with Restore access."
)
REVIEW_EVERY = "Review all access every (days)"
REVIEW_PRIVILEGED = "Review privileged roles every (days)"
REVIEW_REMOVE = "At a review's deadline, end the access nobody answered for"
REVIEW_NOTE = (
    "A scheduled review asks each grant's sponsor, or whoever holds Review access there, to keep, change or end it, "
    "within 14 days. 0: no scheduled reviews. What is left unanswered then goes to the organisation's owners to "
    "decide. This schedule covers every deployment without one of its own (see Access reviews, Deployment review "
    "schedules)."
)
APPROVAL_NOTE = (
    "Invitations to these roles, or to any role holding one of these permissions, wait until a second person "
    "approves them: someone who holds Approve invitations, may hand out the role there, and did not send it. "
    "No email leaves before that."
)

FACTOR_NOTE = (
    "Members holding these roles here must give a second factor (a passkey or a code from an authenticator app) when "
    "they log in, and set one up before they accept an invitation. Admin Portal roles always need one."
)


def create() -> None:
    """Register /care/settings."""

    @ui.page("/care/settings", language=LANGUAGE)
    async def settings_page(request: Request, org: int = 0) -> None:
        session = PageSession(request)
        actor = await session.actor()
        if actor is None:
            return
        with frame(TITLE, actor, session_token=session.token):
            allowed = rights.may_change_access_settings(actor=actor, organisation_id=org)
            if not care_page_top(org, allowed=allowed, refused=access_settings.REFUSED):
                return
            try:
                current = await access_settings.settings_of(organisation_id=org)
            except DomainError as problem:
                ui.label(str(problem)).props('role="alert"')
                return
            await _SettingsForm(session, org).build(current)


class _RoleRule:
    """One role's end-of-access rule: Require an end date, and its Longest duration (days)."""

    def __init__(self, role: RoleInfo, longest: int | None) -> None:
        self.role, self.saved = role, longest
        self.key = f"max_days_{role.id}"
        with ui.row().classes("w-full items-center gap-4") as row:
            name = ui.label(role.name).classes("text-body1").style("width: 14rem; max-width: 100%")
            self.required = ui.checkbox("Require an end date", value=longest is not None).mark(f"require-{role.id}")
            self.days = ui.input("Longest duration (days)", value=str(longest or "")).mark(f"longest-{role.id}")
            self.days.props('outlined dense inputmode="numeric"').style("width: 14rem; max-width: 100%")
            self.days.bind_enabled_from(self.required, "value")
        row.props(f'role="group" aria-labelledby="{name.html_id}"')

    def wanted(self) -> int | None:
        """The rule as entered (None: no end required); InvalidInput when the duration is not one."""
        if not self.required.value:
            return None
        days = access_settings.parse_days(self.days.value or "")
        grant_terms.check_max_days(days)
        return days


class _SettingsForm:
    def __init__(self, session: PageSession, organisation_id: int) -> None:
        self.session = session
        self.organisation_id = organisation_id

    async def build(self, current: AccessSettings) -> None:
        rules = await grant_terms.policies(organisation_id=self.organisation_id)
        held_here = [
            r
            for r in await roles.available_in(organisation_id=self.organisation_id)
            if r.levels - {ScopeLevel.PLATFORM}
        ]
        with _section("End of access rules per role"):
            ui.label(RULES_NOTE)
            self.rules = [_RoleRule(role, rules.get(role.id)) for role in held_here]
        approval = await approval_rules.rules_of(organisation_id=self.organisation_id)
        with _section("Invitations that need a second person's approval"):
            ui.label(APPROVAL_NOTE)
            with ui.row().classes("w-full gap-4").props('role="group" aria-label="Roles that need approval"'):
                self.approval_roles = {
                    role.id: ui.checkbox(role.name, value=role.id in approval.role_ids).mark(f"approve-role-{role.id}")
                    for role in held_here
                }
            ui.label("Or any role that may:").classes("text-body2")
            with ui.row().classes("w-full gap-4").props('role="group" aria-label="Permissions that need approval"'):
                self.approval_permissions = {
                    choice.permission: ui.checkbox(choice.label, value=choice.permission in approval.permissions)
                    for choice in roles.permission_choices()
                }
        policy = await second_factor.policy_of(organisation_id=self.organisation_id)
        chosen = second_factor.default_roles(held_here) if policy.role_ids is None else policy.role_ids
        with _section("Second factor"):
            ui.label(FACTOR_NOTE)
            with ui.row().classes("w-full gap-4").props('role="group" aria-label="Roles that need a second factor"'):
                self.factor_roles = {
                    role.id: ui.checkbox(role.name, value=role.id in chosen).mark(f"factor-role-{role.id}")
                    for role in held_here
                    if not role.is_admin_portal
                }
        with _section("Warnings before access ends"):
            self.warnings = ui.input("Warn this many days before access ends", value=_days(current.end_warning_days))
            self.warnings.props(f'outlined dense hint="{WARNINGS_HINT}"').classes("w-full").style(FIELD_WIDTH)
        with _section("Invitation reminders"):
            self.reminders = ui.switch(
                "Send a reminder before an invitation expires", value=current.invitation_reminders
            )
            ui.label(REMINDER_NOTE)
        with _section("Dormant members"):
            self.dormant = ui.input("Dormant after (days without a log-in)", value=str(current.dormant_days))
            self.dormant.props(f'outlined dense inputmode="numeric" hint="{DORMANT_NOTE}"').classes("w-full")
            self.dormant.style(FIELD_WIDTH)
            self.end_dormant = ui.checkbox(SUSPEND_DORMANT, value=current.end_dormant_access)
            ui.label(SUSPEND_NOTE)
        with _section("Access reviews"):
            ui.label(REVIEW_NOTE)
            self.review_every = _days_field(REVIEW_EVERY, current.review_every_days)
            self.review_privileged = _days_field(REVIEW_PRIVILEGED, current.privileged_review_days)
            self.review_remove = ui.checkbox(REVIEW_REMOVE, value=current.reviews_remove_unanswered)
        fields = {rule.key: rule.days for rule in self.rules}
        reviews = {"review_every_days": self.review_every, "privileged_review_days": self.review_privileged}
        self.errors = FormErrors({**fields, "end_warning_days": self.warnings, "dormant_days": self.dormant, **reviews})
        ui.button("Save access settings", on_click=self.save).props("no-caps color=primary").classes("q-mt-md")

    async def save(self) -> None:
        """Check every field first (nothing is saved while one is wrong), then save the settings and the rules."""
        problems: dict[str, str] = {}
        warnings = _read(problems, "end_warning_days", lambda: access_settings.parse_warning_days(self.warnings.value))
        dormant = _read(problems, "dormant_days", lambda: access_settings.parse_days(self.dormant.value))
        wanted = {rule.key: _read(problems, rule.key, rule.wanted) for rule in self.rules}
        every = _read(problems, "review_every_days", lambda: access_settings.parse_days(self.review_every.value))
        privileged = _read(
            problems, "privileged_review_days", lambda: access_settings.parse_days(self.review_privileged.value)
        )
        if problems or dormant is None or every is None or privileged is None:
            self.errors.show(problems)
            return
        saved = await self.session.run(
            lambda a: access_settings.update(
                actor=a,
                organisation_id=self.organisation_id,
                end_warning_days=warnings or (),
                invitation_reminders=bool(self.reminders.value),
                dormant_days=dormant,
                end_dormant_access=bool(self.end_dormant.value),
                review_every_days=every,
                privileged_review_days=privileged,
                reviews_remove_unanswered=bool(self.review_remove.value),
            ),
            form=self.errors,
        )
        if saved is None:
            return
        self.warnings.value = _days(saved.end_warning_days)
        if not await self.session.run(self._set_approval_rules):
            return
        if not await self.session.run(self._set_factor_roles):
            return
        for rule in self.rules:
            longest = wanted[rule.key]
            if longest != rule.saved:
                set_rule = partial(self._set_rule, rule=rule, longest=longest)
                if not await self.session.run(set_rule, form=self.errors):
                    return
        ui.notify(SAVED, type="positive")

    async def _set_approval_rules(self, actor: Actor) -> bool:
        await approval_rules.set_rules(
            actor=actor,
            organisation_id=self.organisation_id,
            role_ids=[role_id for role_id, box in self.approval_roles.items() if box.value],
            permissions=[str(permission) for permission, box in self.approval_permissions.items() if box.value],
        )
        return True

    async def _set_factor_roles(self, actor: Actor) -> bool:
        await second_factor.set_policy(
            actor=actor,
            organisation_id=self.organisation_id,
            role_ids=[role_id for role_id, box in self.factor_roles.items() if box.value],
        )
        return True

    async def _set_rule(self, actor: Actor, *, rule: _RoleRule, longest: int | None) -> bool:
        try:
            await grant_terms.set_policy(
                actor=actor, organisation_id=self.organisation_id, role_id=rule.role.id, max_days=longest
            )
        except FieldErrors as problem:  # at this role's field, not at a field called max_days
            raise FieldErrors({rule.key: " ".join(problem.fields.values())}) from None
        rule.saved = longest
        return True


def _section(title: str) -> ui.card:
    with ui.card().classes("w-full q-mb-md").props("flat bordered") as card:
        ui.label(title).classes("text-h6").props('role="heading" aria-level="2"')
    return card


def _days_field(label: str, days: int) -> ui.input:
    field = ui.input(label, value=str(days)).props('outlined dense inputmode="numeric"').classes("w-full")
    return field.style(FIELD_WIDTH)


def _read(problems: dict[str, str], field: str, parse: Callable[[], T]) -> T | None:
    try:
        return parse()
    except InvalidInput as problem:
        problems[field] = str(problem)
        return None


def _days(days: tuple[int, ...]) -> str:
    return ", ".join(str(day) for day in days)
