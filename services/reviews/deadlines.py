"""A review's deadline: reminders to reviewers with open items 7 days and 1 day before (each once, whichever process
sends it: an access_notice key per campaign, reviewer and day), and what happens at the deadline. Where the
organisation chose removal, unanswered items are marked, listed to its owners (one email each) and their grants end
(never the last grants able to manage its staff); then the campaign is locked. Otherwise they go to the owners to
decide (overdue.py) and the campaign locks with its last decision. A campaign whose items are all decided closes at
once."""

from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import AccessNotice, MessageKind, Permission, ReviewCampaign, ReviewItem, RoleAssignment, StaffMember
from services.access import grants
from services.access.liveness import is_live, live
from services.access.service import Scope
from services.audit import service as audit
from services.mail import outbox
from services.organisations import service as organisations
from services.platform import events
from services.platform.clock import now
from services.platform.words import count
from services.reviews import campaigns, overdue, reviewers

REMINDER_DAYS = (7, 1)
END_REASON = "review"  # role_assignment.end_reason of a grant ended because nobody answered for it in a review


async def close_due(*, at: datetime | None = None) -> int:
    """Handle every open campaign whose deadline has come (and is not with the owners yet): its open items go to the
    owners, or, where the organisation chose removal, end and it is locked; returns how many this process handled."""
    moment = at or now()
    due = await (
        ReviewCampaign.filter(closed_at=None, overdue_at=None, due_at__lte=moment)
        .order_by("due_at")
        .values_list("id", "remove_unanswered")
    )
    handled = 0
    for campaign_id, remove in due:
        handed = None if remove else await overdue.hand_to_owners(campaign_id=int(campaign_id), at=moment)
        if handed:
            handled += 1
        elif handed is False or remove:  # nothing left to decide, or the organisation chose removal
            handled += await close(campaign_id=int(campaign_id), at=moment)
    return handled


async def close(*, campaign_id: int, at: datetime) -> bool:
    """Lock the campaign; its open items become unanswered, go to the owners by email and, where chosen, end. False
    when it was already closed (by another process, or a last decision)."""
    campaign = await ReviewCampaign.get_or_none(id=campaign_id, closed_at=None).select_related("organisation")
    if campaign is None:
        return False
    scope = campaigns.scope_of(campaign=campaign)
    async with in_transaction() as connection:
        if not await ReviewCampaign.filter(id=campaign_id, closed_at=None).using_db(connection).update(closed_at=at):
            return False
        unanswered = (
            await ReviewItem.filter(campaign_id=campaign_id, decision="")
            .using_db(connection)
            .select_related(
                "assignment__role", "assignment__member", "assignment__organisation", "assignment__deployment"
            )
            .order_by("id")
        )
        await ReviewItem.filter(campaign_id=campaign_id, decision="").using_db(connection).update(decision="unanswered")
        waiting = [i for i in unanswered if is_live(i.assignment.ended_at, i.assignment.ends_at, at)]
        ending = await _removable(campaign, waiting, connection) if campaign.remove_unanswered else []
        for item in ending:
            await _end(campaign, item, at, connection)
        told = await overdue.owner_emails(organisation_id=campaign.organisation_id) if waiting else []
        if told:
            await overdue.tell_owners(campaign, waiting, ending, told, connection)
        detail = {"campaign": campaign.id, "unanswered": len(waiting), "removed": len(ending), "told": told}
        await audit.record(
            actor=None, action="review_closed", scope=scope, target=campaign.title, detail=detail, connection=connection
        )
    if told:
        outbox.mail_committed()
    if ending:
        await grants.end_due()
    await events.publish(organisation_id=campaign.organisation_id, kind=campaigns.REVIEWS)
    return True


async def remind_due(*, at: datetime | None = None) -> int:
    """Queue the reminders whose time has come (7 days and 1 day before a deadline; only the nearest when several
    came at once, none that the campaign is too short for); returns how many reviewers were reminded."""
    moment = at or now()
    horizon = moment + timedelta(days=max(REMINDER_DAYS))
    due = await ReviewCampaign.filter(closed_at=None, due_at__gt=moment, due_at__lte=horizon).select_related(
        "organisation", "deployment"
    )
    reminded = 0
    for campaign in due:
        crossed = [d for d in REMINDER_DAYS if _reminder_due(campaign, d, moment)]
        if not crossed:
            continue
        waiting = await _open_by_reviewer(campaign)
        keys = {_key(campaign, member, d) for member in waiting for d in crossed}
        given = {str(k) for k in await AccessNotice.filter(key__in=sorted(keys)).values_list("key", flat=True)}
        for member, items in waiting.items():
            if _key(campaign, member, min(crossed)) not in given:
                days = [d for d in crossed if _key(campaign, member, d) not in given]
                reminded += await _remind(campaign, member, items, days)
    if reminded:
        outbox.mail_committed()
    return reminded


def _reminder_due(campaign: ReviewCampaign, days: int, moment: datetime) -> bool:
    before = timedelta(days=days)
    return campaign.due_at - before <= moment and campaign.due_at - campaign.started_at > before


def _key(campaign: ReviewCampaign, member: StaffMember, days: int) -> str:
    return f"review:{campaign.id}:{member.id}:{days}"


async def _open_by_reviewer(campaign: ReviewCampaign) -> dict[StaffMember, int]:
    """Each reviewer's open items of live grants: the assigned ones, and the unassigned ones they may decide."""
    items = await ReviewItem.filter(campaign_id=campaign.id, decision="").select_related("assignment").order_by("id")
    items = [i for i in items if is_live(i.assignment.ended_at, i.assignment.ends_at)]
    holders = await reviewers.holders(organisation_id=campaign.organisation_id)
    counts: dict[int, int] = {}
    for item in items:
        scope = Scope.of(item.assignment)
        chosen = [item.reviewer_id] if item.reviewer_id else [h.member_id for h in holders if reviewers.may_decide(
            actor=h, member_id=item.member_id, reviewer_id=None, scope=scope)]  # fmt: skip
        for member_id in chosen:
            counts[member_id] = counts.get(member_id, 0) + 1
    people = await StaffMember.filter(id__in=sorted(counts), is_active=True).order_by("id")
    return {person: counts[person.id] for person in people}


async def _remind(campaign: ReviewCampaign, member: StaffMember, items: int, days: list[int]) -> int:
    """One reviewer's reminder with its notice keys (the nearest day, and farther ones due at the same pass)."""
    scope = campaigns.scope_of(campaign=campaign)
    context = {
        "title": campaign.title,
        "scope_name": await _scope_name(campaign),
        "ends_at": campaign.due_at.isoformat(),  # the deadline, said as access notices say a moment
        "items": count(items, "item"),
        "path": overdue.review_path(campaign=campaign),
    }
    try:
        async with in_transaction() as connection:
            for day in days:
                await AccessNotice.create(
                    using_db=connection,
                    key=_key(campaign, member, day),
                    member_id=member.id,
                    organisation_id=campaign.organisation_id,
                    created_at=now(),
                )
            await outbox.enqueue_notice(
                connection=connection,
                kind=MessageKind.REVIEW_REMINDER,
                recipient=member.email,
                context=context,
                organisation_id=campaign.organisation_id,
            )
            detail = {"campaign": campaign.id, "title": campaign.title, "items": items, "days": min(days)}
            await audit.record(
                actor=None,
                action="review_reminder",
                scope=scope,
                target=member.email,
                detail=detail,
                connection=connection,
            )
    except IntegrityError:  # another process reminded this reviewer first
        return 0
    return 1


async def _removable(
    campaign: ReviewCampaign, waiting: list[ReviewItem], connection: BaseDBAsyncClient
) -> list[ReviewItem]:
    """The unanswered items whose grants end: all of them, unless that would leave the organisation with nobody able to
    manage its staff; then the staff managers' grants stay."""
    managing = (
        await RoleAssignment.filter(live(), organisation_id=campaign.organisation_id, deployment_id=None)
        .using_db(connection)
        .select_related("role")
    )
    managers = {m.id for m in managing if _manages_staff(m)}
    if managers - {item.assignment_id for item in waiting}:
        return waiting
    return [item for item in waiting if item.assignment_id not in managers]


def _manages_staff(grant: RoleAssignment) -> bool:
    return grant.deployment_id is None and Permission.INVITE_STAFF.value in grant.role.permissions


async def _end(campaign: ReviewCampaign, item: ReviewItem, at: datetime, connection: BaseDBAsyncClient) -> None:
    """Bring the grant's end to now (grants.end_due then ends it, as any end), audited as the review's outcome."""
    grant = item.assignment
    await (
        RoleAssignment.filter(id=grant.id, ended_at=None).using_db(connection).update(ends_at=at, end_reason=END_REASON)
    )
    detail = {"campaign": campaign.id, "title": campaign.title, "role": grant.role.name}
    await audit.record(
        actor=None,
        action="review_removed",
        scope=Scope.of(grant),
        target=grant.member.email,
        detail=detail,
        connection=connection,
    )


async def _scope_name(campaign: ReviewCampaign) -> str:
    return await organisations.scope_name(scope=campaigns.scope_of(campaign=campaign))
