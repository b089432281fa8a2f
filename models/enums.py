"""Enumerations shared by the models and the services."""

from enum import StrEnum


class ScopeLevel(StrEnum):
    PLATFORM = "platform"
    ORGANISATION = "organisation"
    DEPLOYMENT = "deployment"


class Permission(StrEnum):
    VIEW_PATIENT_DATA = "view_patient_data"
    MANAGE_PATIENT_DATA = "manage_patient_data"
    CONTACT_PATIENT = "contact_patient"
    VIEW_PATIENT_IDENTIFIERS = "view_patient_identifiers"
    EXPORT_PATIENT_DATA = "export_patient_data"
    EDIT_ROLES = "edit_roles"
    INVITE_STAFF = "invite_staff"
    VIEW_STAFF_LIST = "view_staff_list"
    OFFBOARD_PATIENTS = "offboard_patients"
    APPROVE_INVITATIONS = "approve_invitations"
    REVIEW_ACCESS = "review_access"
    MANAGE_INTEGRATIONS = "manage_integrations"
    CREATE_ORGANISATION = "create_organisation"
    MANAGE_ORGANISATION = "manage_organisation"
    DELETE_ORGANISATION = "delete_organisation"
    MANAGE_DEPLOYMENTS = "manage_deployments"
    INVITE_ADMIN_STAFF = "invite_admin_staff"


CARE_PERMISSIONS: tuple[Permission, ...] = (
    Permission.VIEW_PATIENT_DATA,
    Permission.MANAGE_PATIENT_DATA,
    Permission.CONTACT_PATIENT,
    Permission.VIEW_PATIENT_IDENTIFIERS,
    Permission.EXPORT_PATIENT_DATA,
    Permission.EDIT_ROLES,
    Permission.INVITE_STAFF,
    Permission.VIEW_STAFF_LIST,
    Permission.OFFBOARD_PATIENTS,
    Permission.APPROVE_INVITATIONS,
    Permission.REVIEW_ACCESS,
    Permission.MANAGE_INTEGRATIONS,
)

PERMISSION_LABELS: dict[Permission, str] = {
    Permission.VIEW_PATIENT_DATA: "View patient data",
    Permission.MANAGE_PATIENT_DATA: "Manage patient data",
    Permission.CONTACT_PATIENT: "Contact patient",
    Permission.VIEW_PATIENT_IDENTIFIERS: "View patient identifiers",
    Permission.EXPORT_PATIENT_DATA: "Export patient data",
    Permission.EDIT_ROLES: "Edit roles and permissions",
    Permission.INVITE_STAFF: "Invite staff members",
    Permission.VIEW_STAFF_LIST: "View staff list",
    Permission.OFFBOARD_PATIENTS: "Offboard patients",
    Permission.APPROVE_INVITATIONS: "Approve invitations",
    Permission.REVIEW_ACCESS: "Review access",
    Permission.MANAGE_INTEGRATIONS: "Manage integrations",
    Permission.CREATE_ORGANISATION: "Create organisation",
    Permission.MANAGE_ORGANISATION: "Manage organisation",
    Permission.DELETE_ORGANISATION: "Delete organisation",
    Permission.MANAGE_DEPLOYMENTS: "Manage deployments",
    Permission.INVITE_ADMIN_STAFF: "Invite Admin Portal staff",
}


class InvitationState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DELETED = "deleted"


class ApprovalState(StrEnum):
    """An invitation's two-person approval (issue 19); NONE when its organisation's rules ask for none."""

    NONE = ""
    AWAITING = "awaiting"
    APPROVED = "approved"
    DECLINED = "declined"


class DeliveryState(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class OutboxState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class MessageKind(StrEnum):
    INVITATION = "invitation"
    ROLE_NOTICE = "role_notice"
    END_WARNING = "end_warning"  # to the member: their grant ends in N days
    END_WARNING_SPONSOR = "end_warning_sponsor"  # to the grant's sponsor
    DORMANT_WARNING = "dormant_warning"  # to a dormant member: their access here is suspended in 7 days
    APPROVAL_OUTCOME = "approval_outcome"  # to an inviter: a second person approved or declined their invitation
    REMINDER = "reminder"  # of a pending invitation, a day before it expires, with the same link
    REVIEW_REMINDER = "review_reminder"  # to a reviewer: open items in an access review, its deadline near
    REVIEW_UNANSWERED = "review_unanswered"  # to an organisation's owners: what a review left unanswered
    FACTORS_RESET = "factors_reset"  # to a member: an owner reset their second factors (issue 21)
    ACCESS_RESTORED = "access_restored"  # to a member: an owner restored the access dormancy suspended
    SSO_READY = "sso_ready"  # to a person SCIM provisioned under required single sign-on: sign in through the provider
