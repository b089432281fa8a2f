"""What nobody answered by a review's deadline goes to the organisation's owners (issue 19: "unanswered items go to
the owners"). Unless the organisation chose removal at the deadline (deadlines.close then ends them), the open items of
live grants pass to the owners (reviewers.Owners: never one for their own access), each of them is emailed the list with
a link to the review, and the review stays open, *Overdue: with the owners*, until the last item is decided; then it is
locked (decisions.decide closes it as any review whose items are all decided). Each week it stays overdue, each owner
who still has items of it to decide is sent the list again (remind_due: once a week each, whichever process sends
it)."""

from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import AccessNotice, MessageKind, ReviewCampaign, ReviewItem
from services.access.liveness import is_live
from services.audit import service as audit
from services.mail import outbox
from services.organisations import service as organisations
from services.platform import events
from services.platform.clock import now
from services.platform.words import count
from services.reviews import campaigns, reviewers

LIST_LIMIT = 50  # lines of unanswered items in the owners' email; the review page has them all
SEPARATOR = " ¦ "  # between the lines of a list in one email context value (services/mail/notice_texts.py)
RELATED = ("assignment__role", "assignment__member", "assignment__organisation", "assignment__deployment")
REMIND_EVERY = timedelta(days=7)  # while a review is overdue, its owners hear of what is still open this often


def review_path(*, campaign: ReviewCampaign) -> str:
    """The review's page, behind log-in: what its emails link to."""
    return f"/care/reviews?org={campaign.organisation_id}&campaign={campaign.id}"


async def hand_to_owners(*, campaign_id: int, at: datetime) -> bool | None:
    """At the deadline of a review without removal: its open items of live grants go to the owners (the others, whose
    access already ended or that nobody but their member could decide, are unanswered). True when some went; False
    when none was left (the caller locks it); None when it was already overdue or closed (another process, or a last
    decision)."""
    campaign = await ReviewCampaign.get_or_none(id=campaign_id, closed_at=None, overdue_at=None)
    if campaign is None:
        return None
    owners = await reviewers.owners_of(organisation_id=campaign.organisation_id)
    async with in_transaction() as connection:
        claimed = ReviewCampaign.filter(id=campaign_id, closed_at=None, overdue_at=None).using_db(connection)
        if not await claimed.select_for_update().first():
            return None
        unanswered = (
            await ReviewItem.filter(campaign_id=campaign_id, decision="")
            .using_db(connection)
            .select_related(*RELATED)
            .order_by("id")
        )
        handed = [
            i
            for i in unanswered
            if is_live(i.assignment.ended_at, i.assignment.ends_at, at) and owners.deciders(member_id=i.member_id)
        ]  # not those whose access ended, nor one nobody but its member could decide (an only owner's, alone)
        ended = [i.id for i in unanswered if i not in handed]
        if ended:
            await ReviewItem.filter(id__in=ended).using_db(connection).update(decision="unanswered")
        if not handed:
            return False
        await ReviewCampaign.filter(id=campaign_id).using_db(connection).update(overdue_at=at)
        deciders = sorted({d for i in handed for d in owners.deciders(member_id=i.member_id)})
        told = [owners.emails[d] for d in deciders if d in owners.emails]
        await tell_owners(campaign, handed, [], told, connection, handed_over=True)
        detail = {"campaign": campaign.id, "unanswered": len(handed), "told": told}
        await audit.record(
            actor=None,
            action="review_overdue",
            scope=campaigns.scope_of(campaign=campaign),
            target=campaign.title,
            detail=detail,
            connection=connection,
        )
    if told:
        outbox.mail_committed()
    await events.publish(organisation_id=campaign.organisation_id, kind=campaigns.REVIEWS)
    return True


async def remind_due(*, at: datetime | None = None) -> int:
    """Each week a review stays overdue, send each owner the items of it still theirs to decide (each once a week,
    whichever process sends it); returns how many owners were told."""
    moment = at or now()
    told = 0
    for campaign in await ReviewCampaign.filter(closed_at=None, overdue_at__lte=moment - REMIND_EVERY):
        if campaign.overdue_at is None:  # never: the filter's; for the type checker
            continue
        week = (moment - campaign.overdue_at) // REMIND_EVERY
        told += await _remind_owners(campaign, week, moment)
    if told:
        outbox.mail_committed()
    return told


async def _remind_owners(campaign: ReviewCampaign, week: int, at: datetime) -> int:
    owners = await reviewers.owners_of(organisation_id=campaign.organisation_id)
    items = await ReviewItem.filter(campaign_id=campaign.id, decision="").select_related(*RELATED).order_by("id")
    waiting = [i for i in items if is_live(i.assignment.ended_at, i.assignment.ends_at, at)]
    told = 0
    for decider in sorted({d for i in waiting for d in owners.deciders(member_id=i.member_id)}):
        theirs = [i for i in waiting if decider in owners.deciders(member_id=i.member_id)]
        email = owners.emails.get(decider)
        if email is None:
            continue
        try:
            async with in_transaction() as connection:
                key = f"review-overdue:{campaign.id}:{decider}:{week}"
                notice = {"key": key, "member_id": decider, "organisation_id": campaign.organisation_id}
                await AccessNotice.create(using_db=connection, created_at=now(), **notice)
                await tell_owners(campaign, theirs, [], [email], connection, handed_over=True)
                detail = {"campaign": campaign.id, "title": campaign.title, "items": len(theirs), "weeks": week}
                scope = campaigns.scope_of(campaign=campaign)
                await audit.record(
                    actor=None,
                    action="review_reminder",
                    scope=scope,
                    target=email,
                    detail=detail,
                    connection=connection,
                )
            told += 1
        except IntegrityError:  # another process told this owner this week first
            continue
    return told


async def owner_emails(*, organisation_id: int) -> list[str]:
    """Who hears of a review's unanswered items: its owners, else the holders of review access over all of it."""
    owners = await reviewers.owners_of(organisation_id=organisation_id)
    chosen = owners.owners or owners.stand_ins
    return [owners.emails[m] for m in sorted(chosen) if m in owners.emails]


async def tell_owners(
    campaign: ReviewCampaign,
    waiting: list[ReviewItem],
    ending: list[ReviewItem],
    recipients: list[str],
    connection: BaseDBAsyncClient,
    *,
    handed_over: bool = False,
) -> None:
    """One email to each recipient listing the unanswered items, with a link to the review; handed_over: they are now
    the recipients' to decide."""
    lines = [_line(item) for item in waiting[:LIST_LIMIT]]
    if len(waiting) > LIST_LIMIT:
        lines.append(f"and {count(len(waiting) - LIST_LIMIT, 'more')}")
    context = {
        "title": campaign.title,
        "scope_name": await organisations.scope_name(scope=campaigns.scope_of(campaign=campaign)),
        "ends_at": campaign.due_at.isoformat(),
        "items": count(len(waiting), "item"),
        "unanswered": SEPARATOR.join(lines),
        "removed": count(len(ending), "grant") if ending else "",
        "handed_over": "yes" if handed_over else "",
        "path": review_path(campaign=campaign),
    }
    for email in recipients:
        await outbox.enqueue_notice(
            connection=connection,
            kind=MessageKind.REVIEW_UNANSWERED,
            recipient=email,
            context=context,
            organisation_id=campaign.organisation_id,
        )


def _line(item: ReviewItem) -> str:
    grant = item.assignment
    place = grant.deployment.name if grant.deployment else "the whole organisation"
    return f"{grant.member.full_name or grant.member.email} ({grant.member.email}): {grant.role.name}, {place}"
