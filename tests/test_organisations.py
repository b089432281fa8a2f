"""Organisation and deployment rules: who may create, rename, archive and restore; names; lists."""

import pytest

from models import AuditEvent, Invitation, Organisation, OutboxMessage
from services.errors import InvalidInput, LinkInvalid, PermissionDenied
from services.invitations import acceptance
from services.invitations import service as invitations
from services.organisations import directory
from services.organisations import service as organisations
from tests import factories


@pytest.fixture(autouse=True)
def fresh_limits() -> None:
    acceptance.accept_limiter.reset()


async def test_names_are_trimmed_and_checked_and_unique_within_their_parent(db: str) -> None:
    admin = await factories.member("sa@gatehouse.org", "super_admin")
    org = await organisations.create_organisation(actor=admin, name="  St   Mary's  Trust ")
    assert org.name == "St Mary's Trust"
    for bad, problem in (("", "Give the organisation a name"), ("x" * 121, "at most 120"), ("A\x00B", "control")):
        with pytest.raises(InvalidInput, match=problem):
            await organisations.create_organisation(actor=admin, name=bad)
    with pytest.raises(InvalidInput, match="already exists"):
        await organisations.create_organisation(actor=admin, name="st mary's trust")
    folded = await organisations.create_organisation(actor=admin, name="Line\r\nBreak")
    assert folded.name == "Line Break"
    await organisations.create_deployment(actor=admin, organisation_id=org.id, name="Trial")
    with pytest.raises(InvalidInput, match="already has a deployment"):
        await organisations.create_deployment(actor=admin, organisation_id=org.id, name="TRIAL")
    other = await organisations.create_organisation(actor=admin, name="Northwind")
    assert (await organisations.create_deployment(actor=admin, organisation_id=other.id, name="Trial")).name == "Trial"


async def test_only_platform_roles_create_organisations_and_owners_manage_their_own(db: str) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    with pytest.raises(PermissionDenied):
        await organisations.create_organisation(actor=owner, name="Mine")
    await organisations.create_deployment(actor=owner, organisation_id=world.org.id, name="New study")
    with pytest.raises(PermissionDenied):
        await organisations.create_deployment(actor=owner, organisation_id=world.other_org.id, name="Not mine")
    await organisations.rename_organisation(actor=owner, organisation_id=world.org.id, name="St Mary's NHS Trust")
    assert (await Organisation.get(id=world.org.id)).name == "St Mary's NHS Trust"
    assert await AuditEvent.filter(outcome="refused").count() == 2


async def test_owners_archive_editors_may_not_and_only_a_super_admin_restores(db: str) -> None:
    world = await factories.world()
    editor = await factories.member("editor@trust.org", "organisation_editor", org=world.org)
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    admin = await factories.member("sa@gatehouse.org", "super_admin")
    with pytest.raises(PermissionDenied):
        await organisations.archive_organisation(actor=editor, organisation_id=world.org.id)
    await organisations.archive_organisation(actor=owner, organisation_id=world.org.id)
    with pytest.raises(PermissionDenied):
        await organisations.restore_organisation(actor=owner, organisation_id=world.org.id)
    await organisations.restore_organisation(actor=admin, organisation_id=world.org.id)
    assert (await Organisation.get(id=world.org.id)).archived_at is None


async def test_nothing_is_invited_into_an_archived_organisation_and_its_links_stop_working(db: str) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    clinician = await factories.role("clinician")
    await invitations.send(
        actor=owner, addresses=["a@example.org"], role_id=clinician.id, lifetime_hours=24, deployment_id=world.dep.id
    )
    token = factories.token_of(await OutboxMessage.get(recipient="a@example.org"))
    await organisations.archive_organisation(actor=owner, organisation_id=world.org.id)
    with pytest.raises(InvalidInput, match="archived"):
        await invitations.send(
            actor=owner,
            addresses=["b@example.org"],
            role_id=clinician.id,
            lifetime_hours=24,
            deployment_id=world.dep.id,
        )
    with pytest.raises(LinkInvalid):
        await acceptance.preview(token=token, client="t")
    assert await Invitation.filter(email="b@example.org").count() == 0


async def test_each_admin_role_lists_only_the_organisations_within_its_reach_with_counts(db: str) -> None:
    world = await factories.world()
    support = await factories.member("ps@gatehouse.org", "platform_support")
    manager = await factories.member("am@gatehouse.org", "account_manager")
    created = await organisations.create_organisation(actor=manager, name="Created By Manager")
    manager = await factories.actor_of("am@gatehouse.org")
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    await factories.member("nurse@trust.org", "clinician", dep=world.dep)
    clinician = await factories.role("clinician")
    await invitations.send(
        actor=owner,
        addresses=["p1@example.org", "p2@example.org"],
        role_id=clinician.id,
        lifetime_hours=24,
        deployment_id=world.dep.id,
    )

    async def names(actor: factories.Actor) -> list[str]:
        rows, _ = await directory.organisations_page(actor=actor)
        return [r.name for r in rows]

    assert await names(support) == ["Created By Manager", "Northwind Health", "St Mary's Trust"]
    assert await names(manager) == [created.name]
    assert await names(owner) == ["St Mary's Trust"]
    rows, total = await directory.organisations_page(actor=owner)
    assert total == 1 and (rows[0].deployments, rows[0].staff, rows[0].pending) == (2, 2, 2)
    deps, _ = await directory.deployments_page(actor=owner, search="heart")
    assert [(d.name, d.staff, d.pending) for d in deps] == [("Heart Failure Trial", 1, 2)]
    page, total = await directory.organisations_page(actor=support, sort="name", descending=True, page=2, page_size=2)
    assert total == 3 and [r.name for r in page] == ["Created By Manager"]
