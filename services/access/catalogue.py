"""The default role catalogue of PRODUCT.md, held once; seeded into the database at start."""

from dataclasses import dataclass

from models import CARE_PERMISSIONS, Permission, ScopeLevel

P = Permission
ORG = ScopeLevel.ORGANISATION
DEP = ScopeLevel.DEPLOYMENT
PLATFORM = ScopeLevel.PLATFORM

GOVERNANCE = frozenset({P.APPROVE_INVITATIONS, P.REVIEW_ACCESS})  # issue 19: whoever manages staff approves, reviews
ADMIN_OWNER_PERMISSIONS = frozenset(
    {P.MANAGE_ORGANISATION, P.MANAGE_DEPLOYMENTS, P.DELETE_ORGANISATION, P.INVITE_STAFF, P.INVITE_ADMIN_STAFF}
    | {P.EDIT_ROLES, P.VIEW_STAFF_LIST, P.VIEW_PATIENT_DATA}
    | GOVERNANCE
)
STAFF_MANAGER_PERMISSIONS = (
    frozenset({P.INVITE_STAFF, P.EDIT_ROLES, P.VIEW_STAFF_LIST, P.VIEW_PATIENT_DATA, P.EXPORT_PATIENT_DATA})
    | GOVERNANCE
)


@dataclass(frozen=True)
class DefaultRole:
    key: str
    name: str
    levels: tuple[ScopeLevel, ...]
    permissions: frozenset[Permission]
    admin_rank: int = 0
    grants_own_rank: bool = False  # Super Admin and Organisation Owner may make their peers
    privileged: bool = False  # issue 19: reviewed on the privileged schedule (whoever may change who has access)


DEFAULT_ROLES: tuple[DefaultRole, ...] = (
    DefaultRole("super_admin", "Super Admin", (PLATFORM,), frozenset(Permission), 5, grants_own_rank=True),
    DefaultRole(
        "platform_support",
        "Platform Support",
        (PLATFORM,),
        frozenset({P.CREATE_ORGANISATION, P.MANAGE_ORGANISATION, P.MANAGE_DEPLOYMENTS, P.INVITE_ADMIN_STAFF})
        | {P.INVITE_STAFF, P.VIEW_STAFF_LIST, P.VIEW_PATIENT_DATA},
        4,
    ),
    DefaultRole("account_manager", "Account Manager", (PLATFORM,), frozenset({P.CREATE_ORGANISATION}), 3),
    DefaultRole(
        "organisation_owner",
        "Organisation Owner",
        (ORG,),
        ADMIN_OWNER_PERMISSIONS | {P.MANAGE_INTEGRATIONS},  # issue 20: API tokens, SCIM, webhooks
        2,
        grants_own_rank=True,
        privileged=True,
    ),
    DefaultRole(
        "organisation_editor",
        "Organisation Editor",
        (ORG,),
        ADMIN_OWNER_PERMISSIONS - {P.DELETE_ORGANISATION},
        1,
        privileged=True,
    ),
    DefaultRole("access_controller", "Access Controller", (ORG,), STAFF_MANAGER_PERMISSIONS, privileged=True),
    DefaultRole(
        "organisation_staff",
        "Organisation Staff",
        (ORG,),
        frozenset({P.VIEW_STAFF_LIST, P.VIEW_PATIENT_DATA, P.EXPORT_PATIENT_DATA}),
    ),
    DefaultRole("administrator", "Administrator", (ORG, DEP), STAFF_MANAGER_PERMISSIONS, privileged=True),
    DefaultRole("admin", "Admin", (DEP,), frozenset(CARE_PERMISSIONS), privileged=True),
    DefaultRole(
        "contributor",
        "Contributor",
        (DEP,),
        frozenset({P.MANAGE_PATIENT_DATA, P.VIEW_PATIENT_DATA, P.CONTACT_PATIENT, P.VIEW_PATIENT_IDENTIFIERS})
        | {P.EXPORT_PATIENT_DATA},
    ),
    DefaultRole(
        "clinician",
        "Clinician",
        (ORG, DEP),
        frozenset({P.VIEW_PATIENT_DATA, P.MANAGE_PATIENT_DATA, P.CONTACT_PATIENT, P.VIEW_PATIENT_IDENTIFIERS})
        | {P.EXPORT_PATIENT_DATA, P.VIEW_STAFF_LIST},
    ),
    DefaultRole(
        "deployment_staff",
        "Deployment Staff",
        (DEP,),
        frozenset({P.VIEW_PATIENT_DATA, P.MANAGE_PATIENT_DATA, P.CONTACT_PATIENT, P.VIEW_PATIENT_IDENTIFIERS}),
    ),
    DefaultRole(
        "patient_support",
        "Patient Support",
        (DEP,),
        frozenset({P.VIEW_PATIENT_DATA, P.VIEW_PATIENT_IDENTIFIERS, P.CONTACT_PATIENT, P.OFFBOARD_PATIENTS}),
    ),
    DefaultRole(
        "supervisor",
        "Supervisor",
        (ORG, DEP),
        frozenset({P.VIEW_PATIENT_DATA, P.EXPORT_PATIENT_DATA, P.VIEW_STAFF_LIST}),
    ),
)

BY_KEY: dict[str, DefaultRole] = {role.key: role for role in DEFAULT_ROLES}
SUPER_ADMIN = "super_admin"
ACCOUNT_MANAGER = "account_manager"
# What an Account Manager holds over the organisations it created.
ACCOUNT_MANAGER_REACH_PERMISSIONS = BY_KEY["organisation_owner"].permissions
