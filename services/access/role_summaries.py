"""One line on what a role allows, derived from its permissions, so that custom roles get one too."""

from collections.abc import Iterable

from models import Permission

P = Permission
_PATIENT_WORK = frozenset(
    {P.VIEW_PATIENT_DATA, P.MANAGE_PATIENT_DATA, P.CONTACT_PATIENT, P.VIEW_PATIENT_IDENTIFIERS}
    | {P.EXPORT_PATIENT_DATA, P.OFFBOARD_PATIENTS}
)
_ADMINISTRATION = (
    (P.CREATE_ORGANISATION, "creates organisations"),
    (P.MANAGE_ORGANISATION, "manages organisations"),
    (P.MANAGE_DEPLOYMENTS, "manages deployments"),
    (P.DELETE_ORGANISATION, "may delete the organisation"),
    (P.INVITE_ADMIN_STAFF, "invites Admin Portal staff"),
)
_PATIENTS = (
    (P.VIEW_PATIENT_IDENTIFIERS, "sees patient identifiers"),
    (P.CONTACT_PATIENT, "contacts patients"),
    (P.EXPORT_PATIENT_DATA, "exports patient data"),
    (P.OFFBOARD_PATIENTS, "offboards patients"),
)


def summary(permissions: Iterable[Permission]) -> str:
    """What a role with these permissions allows, in one line ("Invites and manages staff, edits roles, ...")."""
    held = frozenset(permissions)
    if held >= frozenset(Permission):
        return "Everything, everywhere on the platform"
    parts = [phrase for permission, phrase in _ADMINISTRATION if permission in held]
    if P.INVITE_STAFF in held:
        parts.append("invites and manages staff")
    elif P.VIEW_STAFF_LIST in held:
        parts.append("sees the staff list")
    if P.EDIT_ROLES in held:
        parts.append("edits roles")
    if {P.APPROVE_INVITATIONS, P.REVIEW_ACCESS} <= held:
        parts.append("approves and reviews access")
    elif P.APPROVE_INVITATIONS in held or P.REVIEW_ACCESS in held:
        parts.append("approves invitations" if P.APPROVE_INVITATIONS in held else "reviews access")
    if P.MANAGE_INTEGRATIONS in held:
        parts.append("manages integrations")
    parts.extend(_patient_work(held))
    text = ", ".join(parts) or "no permissions"
    return text[:1].upper() + text[1:]


def _patient_work(held: frozenset[Permission]) -> list[str]:
    if held >= _PATIENT_WORK:
        return ["all work with patients and their data"]
    if P.MANAGE_PATIENT_DATA in held:
        parts = ["views and changes patient data"]
    elif P.VIEW_PATIENT_DATA in held:
        parts = ["views patient data"]
    else:
        parts = []
    return parts + [phrase for permission, phrase in _PATIENTS if permission in held]
