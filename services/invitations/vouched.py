"""Accepting for the person an organisation's identity provider vouched for (services/sso/sign_in.py): the account of
the asserted address takes the role as itself, else one with no password is made, in one transaction."""

from collections.abc import Awaitable, Callable

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import StaffMember
from services.access import auth, grants
from services.access.factors import Proof
from services.access.service import Actor, Scope
from services.audit import service as audit
from services.errors import LinkInvalid, PermissionDenied
from services.invitations import acceptance_steps as steps
from services.invitations.acceptance import HAS_ACCOUNT
from services.platform import events

OTHER_ADDRESS = "Your provider signed you in with another address: this invitation is for {email}."
NO_PASSWORD = ""  # an account made through single sign-on: no password verifies against it
AlsoInTransaction = Callable[[int, BaseDBAsyncClient], Awaitable[None]]


async def accept_vouched(
    *,
    token_hash: str,
    email: str,
    full_name: str,
    organisation_id: int,
    also: AlsoInTransaction,
    enrolment: Proof | None = None,
) -> tuple[int, list[str]]:
    """Accept for the person the organisation's identity provider vouched for (it asserted this address, verified):
    the account of that address takes the role as itself, else a new account with no password is made; `also` runs
    in the same transaction, as does setting up the authenticator app of enrolment, when given. Returns the member's
    id and the recovery codes (when an app was set up)."""
    invitation = await steps.live_invitation(token_hash=token_hash)
    if invitation.organisation_id != organisation_id:
        raise LinkInvalid()
    if email != invitation.email:
        raise PermissionDenied(OTHER_ADDRESS.format(email=invitation.email))
    name = steps.clean_full_name(full_name) if full_name.strip() else invitation.email.partition("@")[0]
    await grants.end_due()  # as in accept_as_member: a grant whose end came moments ago is ended, then given anew
    try:
        async with in_transaction() as connection:
            member = await StaffMember.filter(email=invitation.email).using_db(connection).first()
            if member is not None and not member.is_active:
                raise PermissionDenied(auth.SUSPENDED_LOGIN)
            if not await steps.claim(invitation, token_hash, connection):
                raise LinkInvalid()
            if member is None:
                member = await StaffMember.create(
                    using_db=connection, email=invitation.email, full_name=name, password_hash=NO_PASSWORD
                )
                await steps.assign(invitation, member.id, connection)
            else:
                await steps.grant_to(invitation, member.id, connection)
            await also(member.id, connection)
            codes = await steps.enrol(member.id, enrolment, connection)
            detail = {**steps.accept_detail(invitation, enrolled=enrolment if codes else None), "via": "single sign-on"}
            actor = Actor(member.id, member.email, member.full_name, ())
            await audit.record(
                actor=actor,
                action="accept",
                scope=Scope.of(invitation),
                target=email,
                detail=detail,
                connection=connection,
            )
    except IntegrityError:  # the same address's account made by another acceptance at this very moment
        raise PermissionDenied(HAS_ACCOUNT) from None
    await events.publish(organisation_id=invitation.organisation_id, kind="accepted")
    return member.id, codes
