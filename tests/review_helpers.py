"""A world for access review tests: an owner, a sponsor holding review access, and the grants they review."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from models import ReviewItem, RoleAssignment
from services.platform import clock
from services.reviews import campaigns
from tests import factories

OWNER, SPONSOR, NURSE, CLERK, COLLEAGUE = (
    "ada@trust.org", "sam@trust.org", "nora@trust.org", "carl@trust.org", "cleo@trust.org",
)  # fmt: skip


@dataclass
class Team:
    world: factories.World
    owner: factories.Actor  # Organisation Owner: review access everywhere in the organisation
    sponsor: factories.Actor  # Access Controller: review access in the organisation, sponsors the nurse
    colleague: factories.Actor  # Clinician in the deployment: no review access, sponsors the clerk
    nurse: RoleAssignment  # Supervisor in the organisation, sponsored by the sponsor: theirs to review
    clerk: RoleAssignment  # Clinician in the deployment, sponsored by the colleague: anyone's with review access


async def team() -> Team:
    world = await factories.world()
    owner = await factories.member(OWNER, "organisation_owner", org=world.org, full_name="Ada Admin")
    sponsor = await factories.member(SPONSOR, "access_controller", org=world.org, full_name="Sam Sponsor")
    colleague = await factories.member(COLLEAGUE, "clinician", dep=world.dep, full_name="Cleo Colleague")
    nurse = await factories.member(NURSE, full_name="Nora Nurse")
    clerk = await factories.member(CLERK, full_name="Carl Clerk")
    nurse_grant = await factories.grant(nurse.member_id, "supervisor", org=world.org, sponsor_id=sponsor.member_id)
    clerk_grant = await factories.grant(clerk.member_id, "clinician", dep=world.dep, sponsor_id=colleague.member_id)
    return Team(world, owner, sponsor, colleague, nurse_grant, clerk_grant)


def deadline(days: float = 14) -> datetime:
    return clock.now() + timedelta(days=days)


async def start(actor: factories.Actor, world: factories.World, *, other: bool = False, **options: object) -> int:
    """Start a review of the whole organisation (the other one with other; options' deployment_id: of one deployment)
    due in 14 days; its id."""
    started = await campaigns.start_campaign(
        actor=actor,
        organisation_id=world.other_org.id if other else world.org.id,
        title=str(options.pop("title", "Spring review")),
        due_at=deadline(),
        **options,  # type: ignore[arg-type]
    )
    assert started is not None
    return started


async def item_of(campaign_id: int, grant: RoleAssignment) -> ReviewItem:
    return await ReviewItem.get(campaign_id=campaign_id, assignment_id=grant.id)


async def item_for(campaign_id: int, email: str) -> ReviewItem:
    return await ReviewItem.get(campaign_id=campaign_id, assignment__member__email=email)
