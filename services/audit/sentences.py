"""What each audit action means, said as a sentence: "Ada Admin gave Bob Brown the role Clinician in ..."."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from models import AuditEvent, Deployment, Organisation, StaffMember
from models.enums import PERMISSION_LABELS
from services.audit import (
    account_sentences,
    factor_sentences,
    grant_sentences,
    integration_sentences,
    passkey_sentences,
    review_sentences,
    sso_sentences,
)
from services.organisations import naming
from services.platform.words import count, duration, plural

# The actions a reader may filter by, in words.
ACTION_LABELS = {
    "invite": "Invitations sent",
    "resend": "Invitations resent",
    "delete": "Invitations deleted",
    "accept": "Invitations accepted",
    "remind": "Invitation reminders sent",
    "grant_role": "Roles given to members",
    "change_role": "Roles changed",
    "remove_member": "Members removed",
    "delivery_failed": "Emails not delivered",
    "create_role": "Custom roles created",
    "update_role": "Custom roles changed",
    "delete_role": "Custom roles deleted",
    "create_organisation": "Organisations created",
    "rename_organisation": "Organisations renamed",
    "archive_organisation": "Organisations archived",
    "restore_organisation": "Organisations restored",
    "create_deployment": "Deployments created",
    "login": "Log-ins refused",
    "list_staff": "Staff lists refused",
    "view_audit": "Audit logs refused",
    "purge": "Old records removed",
    **integration_sentences.LABELS,
    **factor_sentences.LABELS,
    "approve": "Invitations approved",
    "decline": "Invitations declined",
    "set_approval_rules": "Approval rules changed",
    "export_evidence": "Evidence packs exported",
    "export_audit": "Audit logs exported",
    "set_access_settings": "Access settings changed",
    **review_sentences.LABELS,
    **passkey_sentences.LABELS,
    **sso_sentences.LABELS,
    **account_sentences.LABELS,
    **grant_sentences.LABELS,
}
OUTCOMES = {"ok": "Done", "refused": "Refused", "failed": "Failed"}


@dataclass(frozen=True)
class Names:
    """The names an audit page's sentences need, read once for the page."""

    members: dict[int, str]  # member id: full name
    by_email: dict[str, str]  # address: full name (targets that are members)
    organisations: dict[int, str]
    deployments: dict[int, str]

    def actor(self, event: AuditEvent) -> str:
        if event.actor_id is None:
            return "Gatehouse"
        return self.members.get(event.actor_id) or event.actor_email or "Someone"

    def person(self, email: str) -> str:
        name = self.by_email.get(email)
        return f"{name} ({email})" if name else email

    def place(self, event: AuditEvent) -> str:
        organisation = self.organisations.get(event.organisation_id or 0)
        deployment = self.deployments.get(event.deployment_id or 0)
        if event.organisation_id is not None and organisation is None:
            organisation = "an organisation that no longer exists"
        if event.deployment_id is not None and deployment is None:
            deployment = "a deployment that no longer exists"
        return naming.place_name(organisation=organisation, deployment=deployment)


async def names_for(events: list[AuditEvent]) -> Names:
    """Read every name the events' sentences use, in four queries."""
    member_ids = {e.actor_id for e in events if e.actor_id is not None}
    emails = {e.target for e in events if "@" in e.target}
    members = await StaffMember.filter(id__in=member_ids).values_list("id", "full_name") if member_ids else []
    targets = await StaffMember.filter(email__in=emails).values_list("email", "full_name") if emails else []
    org_ids = {e.organisation_id for e in events if e.organisation_id is not None}
    dep_ids = {e.deployment_id for e in events if e.deployment_id is not None}
    orgs = await Organisation.filter(id__in=org_ids).values_list("id", "name") if org_ids else []
    deps = await Deployment.filter(id__in=dep_ids).values_list("id", "name") if dep_ids else []
    return Names(
        {int(i): str(n) for i, n in members},
        {str(e): str(n) for e, n in targets},
        {int(i): str(n) for i, n in orgs},
        {int(i): str(n) for i, n in deps},
    )


def sentence(event: AuditEvent, names: Names) -> str:
    """The event in words; an action without a sentence of its own is still said plainly."""
    detail = event.detail or {}
    who, target, place = names.actor(event), names.person(event.target), names.place(event)
    if event.action == "delivery_failed":
        return f"The email to {target} could not be delivered: {detail.get('error') or 'no reason given'}."
    what = _WHAT.get(event.action)
    plain = f"{event.action.replace('_', ' ')} {event.target}".strip()
    past, attempt = what(target, place, detail) if what else (plain, plain)
    if event.outcome == "refused":
        return f"{who} tried to {attempt or past}, and was refused{_refusal_reason(detail)}."
    return f"{who} {past}."


Phrase = Callable[[str, str, dict[str, Any]], tuple[str, str]]  # (target, place, detail) -> (done, tried to)


def _invite(target: str, place: str, d: dict[str, Any]) -> tuple[str, str]:
    role = d.get("role", "a role")
    valid = f", with a link valid {duration(int(d['expires_in_hours']))}" if d.get("expires_in_hours") else ""
    first = " as the first administrator" if d.get("first_admin") else ""
    return f"invited {target} as {role} to {place}{valid}{first}", f"invite {target} as {role} to {place}"


def _role_change(target: str, place: str, d: dict[str, Any]) -> tuple[str, str]:
    if "to" not in d:
        return "", f"change the role {d.get('role', '')} of {target} in {place}"
    moves = f"in {place} from {d.get('from')} to {d.get('to')}"
    if d.get("approval") == "awaiting":  # services/approvals/role_changes.py: nothing changed yet
        return f"asked to change the role of {target} {moves}, which waits for a second person's approval", ""
    if d.get("approval") == "accepted":
        return f"accepted the approved change of their role {moves}", ""
    return f"changed the role of {target} {moves}" + _dropped(d), ""


def _role_update(target: str, place: str, d: dict[str, Any]) -> tuple[str, str]:
    renamed = f" (renamed from {d['old_name']})" if d.get("old_name") and d["old_name"] != target else ""
    before, after = set(d.get("from", [])), set(d.get("to", []))
    changes = [f"added {_labels(after - before)}" if after - before else ""]
    changes.append(f"removed {_labels(before - after)}" if before - after else "")
    said = "; ".join(c for c in changes if c)
    return f"changed the custom role {target}{renamed}" + (f": {said}" if said else ""), f"change the role {target}"


def _settings(target: str, place: str, d: dict[str, Any]) -> tuple[str, str]:
    old, new = d.get("from") or {}, d.get("to") or {}
    changed = [
        said(new[key], old.get(key)) for key, said in _SETTINGS.items() if key in new and new[key] != old.get(key)
    ]
    return f"changed the access settings of {place}: {'; '.join(changed)}", f"change the access settings of {place}"


def _listed(days: list[int]) -> str:
    return " and ".join(filter(None, [", ".join(str(day) for day in days[:-1]), str(days[-1])])) if days else "none"


def _warnings(new: list[int], old: list[int] | None) -> str:
    now_said = (
        f"warnings {_listed(new)} {plural(new[0] if len(new) == 1 else len(new), 'day')}" if new else "no warnings"
    )
    return f"{now_said} before access ends (was {_listed(old or [])})"


_SETTINGS: dict[str, Callable[[Any, Any], str]] = {
    "end_warning_days": _warnings,
    "invitation_reminders": lambda new, old: "invitation reminders on" if new else "invitation reminders off",
    "dormant_days": lambda new, old: f"members dormant after {count(int(new), 'day')} without a log-in (was {old})",
    "end_dormant_access": lambda new, old: (
        f"dormant members' access {'is' if new else 'is no longer'} suspended automatically"
    ),
    **review_sentences.SETTINGS,
}


def _purge(target: str, place: str, d: dict[str, Any]) -> tuple[str, str]:
    messages = f" and {count(int(d['messages']), 'sent or failed email')}" if d.get("messages") else ""
    age = f"older than {count(int(d.get('retention_days') or 0), 'day')}"
    return f"removed {count(int(d.get('invitations') or 0), 'finished invitation')}{messages} {age}", ""


_WHAT: dict[str, Phrase] = {
    "invite": _invite,
    "resend": lambda t, p, d: (
        f"resent the invitation to {t} for {p} with a new link",
        f"resend the invitation to {t}",
    ),
    "delete": lambda t, p, d: (f"deleted the invitation to {t} for {p}", f"delete the invitation to {t}"),
    "accept": lambda t, p, d: (f"accepted the invitation and now holds {d.get('role')} in {p}", "accept an invitation"),
    "remind": lambda t, p, d: (f"sent {t} a reminder of the invitation to {p}, with the same link", ""),
    "grant_role": lambda t, p, d: (f"gave {t} the role {d.get('role')} in {p}", f"give {t} a role in {p}"),
    "change_role": _role_change,
    "remove_member": lambda t, p, d: (
        f"took the role {d.get('role')} in {p} away from {t}{_dropped(d)}",
        f"remove {t} from the role {d.get('role')} in {p}",
    ),
    "create_role": lambda t, p, d: (f"created the custom role {t}", f"create the role {t}"),
    "update_role": _role_update,
    "delete_role": lambda t, p, d: (
        f"deleted the custom role {t} ({count(int(d.get('assignments_removed') or 0), 'member')} lost it, "
        f"{count(int(d.get('invitations_deleted') or 0), 'pending invitation')} with it deleted)",
        f"delete the role {t}",
    ),
    "create_organisation": lambda t, p, d: (f"created the organisation {t}", f"create the organisation {t}"),
    "rename_organisation": lambda t, p, d: (
        f"renamed the organisation {d.get('old_name')} to {t}",
        f"rename the organisation to {t}",
    ),
    "archive_organisation": lambda t, p, d: (f"archived the organisation {t}", f"archive the organisation {t}"),
    "restore_organisation": lambda t, p, d: (f"restored the organisation {t}", f"restore the organisation {t}"),
    "create_deployment": lambda t, p, d: (f"created the deployment {p}", f"create the deployment {t}"),
    "login": lambda t, p, d: (f"logged in as {t}", f"log in as {t}"),
    "list_staff": lambda t, p, d: (f"read the staff list of {p}", f"read the staff list of {p}"),
    "view_audit": lambda t, p, d: (f"read the audit log of {p}", f"read the audit log of {p}"),
    "purge": _purge,
    "approve": lambda t, p, d: (
        f"approved the invitation of {t} as {d.get('role')} in {p}",
        f"approve the invitation of {t} as {d.get('role')} in {p}",
    ),
    "decline": lambda t, p, d: (
        f"declined the invitation of {t} as {d.get('role')} in {p}: {d.get('reason')}",
        f"decline the invitation of {t} as {d.get('role')} in {p}",
    ),
    "set_approval_rules": lambda t, p, d: (
        f"required a second person's approval in {p} for {_approval_rules(d)}",
        f"change the approval rules of {p}",
    ),
    "export_evidence": lambda t, p, d: (
        f"exported the evidence pack of {p}{_period(d)}",
        f"export the evidence pack of {p}",
    ),
    "export_audit": lambda t, p, d: (
        f"exported the audit log of {p}{_period(d)}",
        f"export the audit log of {p}",
    ),
    "set_access_settings": _settings,
    **review_sentences.WHAT,
    **integration_sentences.WHAT,
    **passkey_sentences.WHAT,
    **sso_sentences.WHAT,
    **factor_sentences.WHAT,
    **account_sentences.WHAT,
    **grant_sentences.WHAT,
}


def _approval_rules(d: dict[str, Any]) -> str:
    roles = [f"invitations as {role}" for role in d.get("roles", [])]
    held = [f"roles that {_labels({p}).lower()}" for p in d.get("permissions", [])]
    return ", ".join(roles + held) or "no invitation"


def _period(d: dict[str, Any]) -> str:
    since, until = str(d.get("since") or "")[:10], str(d.get("until") or "")[:10]
    if since and until:
        return f" from {since} to {until}"
    return f" from {since}" if since else f" until {until}" if until else " (all time)"


def _dropped(d: dict[str, Any]) -> str:
    dropped = int(d.get("invitations_deleted") or 0)
    if not dropped:
        return ""
    return f"; {count(dropped, 'pending invitation')} they had sent there {plural(dropped, 'was')} deleted"


def _labels(permissions: set[str]) -> str:
    known = {p.value: label for p, label in PERMISSION_LABELS.items()}
    return ", ".join(sorted(known.get(p, p) for p in permissions))


def _refusal_reason(d: dict[str, Any]) -> str:
    if d.get("reason"):
        return f" ({d['reason']})"
    if d.get("permissions_not_held"):
        return f" (permissions they do not hold: {_labels(set(d['permissions_not_held']))})"
    if d.get("role"):
        return f" (the role {d['role']} is not theirs to hand out there)"
    return ""
