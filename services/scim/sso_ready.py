"""SCIM in an organisation whose single sign-on is required (issue 20 item 2): creating a user creates the account
ready for single sign-on (no password, the grant) and emails the person, through the outbox, to sign in through the
provider, instead of sending an invitation with a password link.

Only for an address that has no account and a role that needs no second person's approval; every other case is
invited as anywhere (services/scim/people.invite): an account elsewhere is never pulled in without its consent, and
approvals keep their rule. The second factor is still asked at the first sign-in (services/sso/factor_step.py) unless
the provider asserts one: no session exists before it."""

from tortoise.transactions import in_transaction

from models import Invitation, InvitationState, MessageKind, RoleAssignment, StaffMember
from services.access import grant_terms, roles
from services.access.service import Actor, Scope
from services.approvals import rules as approval_rules
from services.audit import service as audit
from services.invitations import addresses as emails
from services.invitations.vouched import NO_PASSWORD
from services.mail import outbox
from services.organisations import service as organisations
from services.platform import events
from services.sso import connections as sso

ACTION = "provision_sso"


async def give(*, actor: Actor, scope: Scope, email: str, role_id: int) -> bool:
    """Make the account ready for single sign-on with the role where the organisation requires single sign-on;
    False (nothing done) when the address is to be invited instead."""
    offer = await sso.offer_for(organisation_id=scope.organisation_id) if scope.organisation_id else None
    if offer is None or not offer.required:
        return False
    role = await roles.get(role_id=role_id)
    await roles.require_grant(
        actor=actor, role=role, scope=scope, action="invite", target=email, refusal=f"You may not give {role.name}."
    )
    await organisations.require_active(organisation_id=scope.organisation_id)
    if await approval_rules.needs_approval(organisation_id=scope.organisation_id, role=role):
        return False  # the invitation waits for its approval: nobody gets the role before
    address = emails.canonical(emails.normalise(email))
    terms = await grant_terms.check_terms(actor=actor, role=role, scope=scope, ends_at=None, sponsor_email=None)
    async with in_transaction() as connection:
        invited = Invitation.filter(email=address, scope_key=scope.key, state=InvitationState.PENDING)
        if await StaffMember.filter(email=address).using_db(connection).exists() or await invited.exists():
            return False  # an account is invited (never pulled in unasked); a pending invitation is replaced as ever
        member = await StaffMember.create(
            using_db=connection, email=address, full_name=address.partition("@")[0], password_hash=NO_PASSWORD
        )
        await RoleAssignment.create(
            using_db=connection, member_id=member.id, role_id=role.id, level=scope.level.value,
            organisation_id=scope.organisation_id, deployment_id=scope.deployment_id, scope_key=scope.key,
            granted_by_id=actor.member_id, sponsor_id=terms.sponsor_id, ends_at=terms.ends_at,
        )  # fmt: skip
        context = {
            "provider_name": offer.name,
            "role_name": role.name,
            "scope_name": await organisations.scope_name(scope=scope),
            "path": f"/login?org={scope.organisation_id}",
        }
        await outbox.enqueue_notice(
            connection=connection, kind=MessageKind.SSO_READY, recipient=address, context=context,
            organisation_id=scope.organisation_id,
        )  # fmt: skip
        detail = {"role": role.name, "sponsor": terms.sponsor_name, "provider": offer.name}
        await audit.record(
            actor=actor, action=ACTION, scope=scope, target=address, detail=detail, connection=connection
        )
    await events.publish(organisation_id=scope.organisation_id, kind="staff")
    outbox.mail_committed()
    return True
