"""Tortoise models of Gatehouse; Tortoise discovers them from this package."""

from models.enums import (
    CARE_PERMISSIONS,
    ApprovalState,
    DeliveryState,
    InvitationState,
    MessageKind,
    OutboxState,
    Permission,
    ScopeLevel,
)
from models.factors import AttemptWindow, FactorChallenge, RecoveryCode, SecondFactorPolicy, TotpFactor
from models.governance import ApprovalRule, ReviewCampaign, ReviewItem
from models.history import AccountSuspension, RoleChange
from models.integrations import ApiRateWindow, ApiToken, ScimRecord, WebhookDelivery, WebhookEndpoint
from models.invitations import AccessNotice, AuditEvent, Invitation, OutboxMessage, PendingCount
from models.organisations import Deployment, GrantPolicy, Organisation
from models.passkeys import Passkey, PasskeyChallenge
from models.sso import SsoConnection, SsoFactorStep, SsoFlow, SsoIdentity, SsoSession
from models.staff import LoginTicket, Role, RoleAssignment, Session, StaffMember

__all__ = [
    "CARE_PERMISSIONS",
    "AccessNotice",
    "AccountSuspension",
    "ApiRateWindow",
    "ApiToken",
    "ApprovalRule",
    "ApprovalState",
    "AttemptWindow",
    "AuditEvent",
    "DeliveryState",
    "Deployment",
    "FactorChallenge",
    "GrantPolicy",
    "Invitation",
    "InvitationState",
    "LoginTicket",
    "MessageKind",
    "Organisation",
    "OutboxMessage",
    "OutboxState",
    "Passkey",
    "PasskeyChallenge",
    "PendingCount",
    "Permission",
    "RecoveryCode",
    "ReviewCampaign",
    "ReviewItem",
    "Role",
    "RoleAssignment",
    "RoleChange",
    "ScimRecord",
    "ScopeLevel",
    "SecondFactorPolicy",
    "Session",
    "SsoConnection",
    "SsoFactorStep",
    "SsoFlow",
    "SsoIdentity",
    "SsoSession",
    "StaffMember",
    "TotpFactor",
    "WebhookDelivery",
    "WebhookEndpoint",
]
