"""Deciding a review item: keep, change role, set an end, or remove, applied through the staff services in the same
transaction as the decision, the grant's last review and the audit event. A campaign closes when nothing is open."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models import ReviewCampaign, ReviewItem, RoleAssignment
from services.access import roles
from services.access import service as access
from services.access.liveness import is_live
from services.access.service import Actor, Scope
from services.audit import service as audit
from services.errors import FieldErrors, InvalidInput, NotFound, PermissionDenied
from services.organisations import grant_ends, staff
from services.platform import events
from services.platform.clock import now
from services.reviews import deadlines, reviewers
from services.reviews.campaigns import REVIEWS

CHOICES = ("keep", "change", "end", "remove")
COMMENT_MAX = 500
LOCKED = "This review is finished: its decisions can no longer change."
OWN = "Nobody reviews their own access: someone else with review access decides this one."
NOT_YOURS = "This item is assigned to another reviewer, or you do not hold *review access* there."
WITH_OWNERS = "This review is overdue: what nobody answered is with the organisation's owners to decide."
ENDED = "That access has already ended: only Remove can be recorded for it."
DECIDED = "Someone has already decided this item."
RECORDED = "Decision recorded."


@dataclass(frozen=True)
class Recorded:
    email: str
    message: str  # for the reviewer: recorded, or the change waits for a second person's approval


async def decide(
    *,
    actor: Actor,
    item_id: int,
    decision: str,
    comment: str = "",
    role_id: int | None = None,
    ends_at: datetime | None = None,
) -> Recorded:
    """Decide one item (the change through staff.change_role, grant_ends.set_end or staff.remove_from_team, with
    their own checks: nobody hands out or takes away what they may not); returns the member's email and what the
    reviewer is told (a change to a role the approval rules cover waits for a second person's approval)."""
    item = await ReviewItem.get_or_none(id=item_id).select_related("campaign", "assignment__role", "assignment__member")
    if item is None:
        raise NotFound("That review item does not exist.")
    grant, campaign = item.assignment, item.campaign
    if decision not in CHOICES:
        raise InvalidInput("Choose Keep, Change role, Set end or Remove.")
    note = _comment(comment)
    await _may_decide(actor, item)
    live = is_live(grant.ended_at, grant.ends_at)
    if not live and decision != "remove":
        raise NotFound(ENDED)
    if item.decision:
        raise InvalidInput(DECIDED)
    if decision == "change" and role_id is None:
        raise FieldErrors({"role_id": "Choose the new role."})
    if decision == "end" and ends_at is None:
        raise FieldErrors({"ends_at": "Give the date and time the access ends."})
    at = now()
    detail: dict[str, Any] = {"campaign": campaign.id, "item": item.id, "title": campaign.title, "decision": decision}
    detail |= {"role": grant.role.name, "comment": note}
    try:
        async with in_transaction() as connection:
            await _claim(item, actor, decision, note, at, connection)
            detail |= await _apply(actor, grant, decision, role_id, ends_at, live)
            told = str(detail.pop("message", RECORDED))
            await (
                RoleAssignment.filter(id=grant.id)
                .using_db(connection)
                .update(reviewed_at=at, reviewed_by_id=actor.member_id)
            )
            await audit.record(
                actor=actor,
                action="review_decision",
                scope=Scope.of(grant),
                target=grant.member.email,
                detail=detail,
                connection=connection,
            )
    except PermissionDenied:  # refused by the staff service: its own refusal went with the rollback
        await _refused(actor, item, "the change is not theirs to make")
        raise
    await events.publish(organisation_id=campaign.organisation_id, kind=REVIEWS)
    if not await ReviewItem.filter(campaign_id=campaign.id, decision="").exists():
        await deadlines.close(campaign_id=campaign.id, at=now())
    return Recorded(grant.member.email, told)


async def _may_decide(actor: Actor, item: ReviewItem) -> None:
    """Refuse (audited) a locked campaign, one's own access, and an item that is not the actor's to decide."""
    scope = Scope.of(item.assignment)
    if item.campaign.closed_at is not None:
        await _refused(actor, item, "the review is finished")
        raise InvalidInput(LOCKED)
    if item.member_id == actor.member_id:
        await _refused(actor, item, "nobody reviews their own access")
        access.require(False, OWN)
    late = item.campaign.overdue_at is not None
    owners = await reviewers.owners_of(organisation_id=item.campaign.organisation_id) if late else None
    if not reviewers.may_decide(
        actor=actor, member_id=item.member_id, reviewer_id=item.reviewer_id, scope=scope, overdue=owners
    ):
        await _refused(actor, item, "it is not theirs to review")
        access.require(False, WITH_OWNERS if late else NOT_YOURS)


async def _claim(
    item: ReviewItem, actor: Actor, decision: str, note: str, at: datetime, connection: BaseDBAsyncClient
) -> None:
    """Record the decision if the campaign is still open and nobody decided the item first (else roll back)."""
    still_open = ReviewCampaign.filter(id=item.campaign_id, closed_at=None).using_db(connection)
    if await still_open.select_for_update().first() is None:  # locked (PostgreSQL): the close waits for this decision
        raise InvalidInput(LOCKED)
    claimed = await (
        ReviewItem.filter(id=item.id, decision="")
        .using_db(connection)
        .update(decision=decision, decided_by_id=actor.member_id, decided_at=at, comment=note)
    )
    if not claimed:
        raise InvalidInput(DECIDED)


async def _apply(
    actor: Actor, grant: RoleAssignment, decision: str, role_id: int | None, ends_at: datetime | None, live: bool
) -> dict[str, Any]:
    """Make the change through the staff services (inside the caller's transaction); what the audit adds."""
    if decision == "change":
        assert role_id is not None
        changed = await staff.change_role(actor=actor, assignment_id=grant.id, role_id=role_id)
        waits = {"approval": "awaiting", "message": changed.message} if changed.awaiting else {}
        return {"to": changed.role_name, **waits}
    if decision == "end":
        await grant_ends.set_end(actor=actor, assignment_id=grant.id, ends_at=ends_at)
        return {"ends_at": ends_at.isoformat() if ends_at else ""}
    if decision == "remove" and live:
        await staff.remove_from_team(actor=actor, assignment_id=grant.id)
    elif decision == "remove":  # already ended elsewhere: recorded, nothing to take away; still the actor's to take
        await roles.require_grant(
            actor=actor, role=access.RoleInfo.of(grant.role), scope=Scope.of(grant), action="review_decision",
            target=grant.member.email,
        )  # fmt: skip
    return {}


async def _refused(actor: Actor, item: ReviewItem, reason: str) -> None:
    grant = item.assignment
    detail = {"campaign": item.campaign_id, "item": item.id, "reason": reason, "role": grant.role.name}
    await audit.record(
        actor=actor,
        action="review_decision",
        scope=Scope.of(grant),
        target=grant.member.email,
        outcome="refused",
        detail=detail,
    )


def _comment(comment: str) -> str:
    clean = " ".join((comment or "").split())
    if len(clean) > COMMENT_MAX:
        raise FieldErrors({"comment": f"A comment can be at most {COMMENT_MAX} characters long."})
    return audit.one_line(clean)
