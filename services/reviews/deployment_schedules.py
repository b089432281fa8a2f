"""A deployment's own access review schedule (issue 19 item 2): a review of its every grant every review_every_days,
one of its privileged roles' grants every privileged_review_days, started by housekeeping (reviews/schedule.py).

None (the default): the organisation's schedule covers the deployment. With one of its own, the organisation's scheduled
reviews leave the deployment's grants out, so that no grant is reviewed on two schedules (a review started by hand
covers its whole scope, as ever). Its own schedule may be more frequent than the organisation's, never less often: a
deployment cannot loosen the organisation's rule. Its first reviews count from the moment it was set."""

from dataclasses import dataclass

from tortoise.transactions import in_transaction

from models import Deployment, Organisation, ScopeLevel
from services.access import rights
from services.access import service as access
from services.access.service import Actor, Scope
from services.audit import service as audit
from services.errors import InvalidInput, check_fields
from services.organisations import service as organisations
from services.organisations.access_settings import PRIVILEGED_REVIEW_DAYS, REVIEW_DAYS
from services.platform import events
from services.platform.clock import now
from services.platform.words import count
from services.reviews import reviewers
from services.reviews.campaigns import REVIEWS

ACTION = "set_review_schedule"
REFUSED = (
    "You need the *edit roles and permissions* and *review access* permissions in that deployment to change its "
    "review schedule."
)
BOTH = "Give both numbers of days, or choose the organisation's schedule."


@dataclass(frozen=True)
class DeploymentSchedule:
    deployment_id: int
    name: str
    review_every_days: int | None  # None: the organisation's schedule covers it
    privileged_review_days: int | None
    may_change: bool

    @property
    def own(self) -> bool:
        return self.review_every_days is not None


async def schedules(*, actor: Actor, organisation_id: int) -> list[DeploymentSchedule]:
    """The organisation's deployments whose review schedule the actor may see (where they hold *review access* or may
    change it), by name; a deployment's admins see only theirs."""
    rows = await Deployment.filter(organisation_id=organisation_id).order_by("name")
    found = []
    for row in rows:
        may_change = rights.may_set_deployment_review_schedule(
            actor=actor, organisation_id=organisation_id, deployment_id=row.id
        )
        there = Scope(ScopeLevel.DEPLOYMENT, organisation_id, row.id)
        if may_change or reviewers.reviews_in(actor=actor, scope=there):
            found.append(_of(row, may_change))
    return found


async def set_schedule(
    *, actor: Actor, deployment_id: int, review_every_days: int | None, privileged_review_days: int | None
) -> DeploymentSchedule:
    """Give the deployment its own review schedule, or (both None) leave it to the organisation's; who may:
    rights.may_set_deployment_review_schedule. Bad input raises FieldErrors at its field and changes nothing."""
    scope = await access.scope_of(deployment_id=deployment_id)
    organisation_id = scope.organisation_id or 0
    if not rights.may_set_deployment_review_schedule(
        actor=actor, organisation_id=organisation_id, deployment_id=deployment_id
    ):
        await audit.record(actor=actor, action=ACTION, scope=scope, outcome="refused")
        access.require(False, REFUSED)
    await organisations.require_active(organisation_id=organisation_id)
    organisation = await Organisation.get(id=organisation_id)
    own = review_every_days is not None or privileged_review_days is not None
    if own:
        check_fields(
            review_every_days=lambda: check_days(
                review_every_days, REVIEW_DAYS, organisation.review_every_days, "every grant"
            ),
            privileged_review_days=lambda: check_days(
                privileged_review_days, PRIVILEGED_REVIEW_DAYS, organisation.privileged_review_days, "privileged roles"
            ),
        )
    deployment = await Deployment.get(id=deployment_id)
    old, new = _said(deployment), {"every": review_every_days, "privileged": privileged_review_days}
    if old == new:
        return _of(deployment, True)
    since = (deployment.review_schedule_since if old["every"] is not None else now()) if own else None
    async with in_transaction() as connection:
        await (
            Deployment.filter(id=deployment_id)
            .using_db(connection)
            .update(
                review_every_days=review_every_days,
                privileged_review_days=privileged_review_days,
                review_schedule_since=since,
            )
        )
        await audit.record(
            actor=actor,
            action=ACTION,
            scope=scope,
            target=deployment.name,
            detail={"from": old, "to": new},
            connection=connection,
        )
    await events.publish(organisation_id=organisation_id, kind=REVIEWS)
    return _of(await Deployment.get(id=deployment_id), True)


def check_days(days: int | None, allowed: tuple[int, int], organisation_days: int, what: str) -> None:
    """Refuse (InvalidInput) a deployment's review period outside the allowed range or less often than the
    organisation's own of that kind (when it has one)."""
    if days is None:
        raise InvalidInput(BOTH)
    low, high = allowed
    capped = 0 < organisation_days < high
    if isinstance(days, bool) or not isinstance(days, int) or not low <= days <= min(high, organisation_days or high):
        if capped:
            raise InvalidInput(
                f"Review {what} every {low} to {count(organisation_days, 'day')}: a deployment's own schedule cannot "
                f"be less often than the organisation's (every {count(organisation_days, 'day')})."
            )
        raise InvalidInput(f"Review {what} every {low} to {high:,} days.")


def _of(row: Deployment, may_change: bool) -> DeploymentSchedule:
    return DeploymentSchedule(row.id, row.name, row.review_every_days, row.privileged_review_days, may_change)


def _said(row: Deployment) -> dict[str, int | None]:
    return {"every": row.review_every_days, "privileged": row.privileged_review_days}
