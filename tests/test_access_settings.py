"""An organisation's access settings (issue 18): who may change them, bad input refused at its field with nothing
changed, a change audited in a sentence and announced to open pages; other services read them without a permission."""

from typing import Any

import pytest

from models import AuditEvent, Organisation
from services.audit import service as audit
from services.errors import FieldErrors, InvalidInput, NotFound, PermissionDenied
from services.organisations import access_settings
from services.organisations import service as organisations
from services.organisations.access_settings import AccessSettings
from services.platform import events
from tests import factories

DEFAULTS = AccessSettings((14, 7, 1), True, 90, False)
CHANGED = {"end_warning_days": [7, 30], "invitation_reminders": False, "dormant_days": 60, "end_dormant_access": True}


async def _owner(world: factories.World) -> factories.Actor:
    return await factories.member("ada@trust.org", "organisation_owner", org=world.org, full_name="Ada Admin")


async def _update(actor: factories.Actor, organisation_id: int, **changes: Any) -> AccessSettings:
    return await access_settings.update(actor=actor, organisation_id=organisation_id, **{**CHANGED, **changes})


async def test_a_new_organisation_has_the_defaults_and_an_unknown_one_is_not_found(db: str) -> None:
    world = await factories.world()
    assert await access_settings.settings_of(organisation_id=world.org.id) == DEFAULTS
    assert DEFAULTS.dormant_after.days == 90
    with pytest.raises(NotFound):
        await access_settings.settings_of(organisation_id=999_999)


async def test_a_change_is_kept_audited_in_a_sentence_and_announced(db: str) -> None:
    world = await factories.world()
    owner = await _owner(world)
    heard: list[str] = []
    unsubscribe = events.subscribe(organisation_id=world.org.id, handler=heard.append)
    try:
        saved = await _update(owner, world.org.id)
    finally:
        unsubscribe()
    assert saved == AccessSettings((30, 7), False, 60, True)
    assert await access_settings.settings_of(organisation_id=world.org.id) == saved
    assert await access_settings.settings_of(organisation_id=world.other_org.id) == DEFAULTS
    assert (await Organisation.get(id=world.org.id)).end_warning_days == "30,7"
    assert heard == ["settings"]
    event = await AuditEvent.get(action="set_access_settings")
    assert (event.outcome, event.organisation_id) == ("ok", world.org.id)
    assert event.detail["from"]["end_warning_days"] == [14, 7, 1] and event.detail["to"]["dormant_days"] == 60
    rows, _ = await audit.events_page(actor=owner, organisation_id=world.org.id, action="set_access_settings")
    assert [r.sentence for r in rows] == [
        "Ada Admin changed the access settings of St Mary's Trust (whole organisation): warnings 30 and 7 days "
        "before access ends (was 14, 7 and 1); invitation reminders off; members dormant after 60 days without a "
        "log-in (was 90); dormant members' access is suspended automatically."
    ]
    assert audit.ACTIONS["set_access_settings"] == "Access settings changed"


async def test_no_warnings_at_all_is_a_setting_and_saving_the_same_again_records_nothing_new(db: str) -> None:
    world = await factories.world()
    owner = await _owner(world)
    await _update(owner, world.org.id, end_warning_days=[])
    await _update(owner, world.org.id, end_warning_days=[])
    assert (await access_settings.settings_of(organisation_id=world.org.id)).end_warning_days == ()
    assert await AuditEvent.filter(action="set_access_settings").count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"end_warning_days": [30, 14, 7, 3, 2, 1]}, "end_warning_days", "Give at most 5 warning days."),
        ({"end_warning_days": [0]}, "end_warning_days", "Each warning must be between 1 and 365 days before the end"),
        ({"end_warning_days": [366]}, "end_warning_days", "Each warning must be between 1 and 365 days before the end"),
        ({"end_warning_days": [7, 7]}, "end_warning_days", "Give each warning day once: 7 is there more than once."),
        ({"dormant_days": 6}, "dormant_days", "A member can count as dormant after 7 to 3,650 days without a log-in."),
        ({"dormant_days": 3651}, "dormant_days", "A member can count as dormant after 7 to 3,650 days"),
    ],
)
async def test_bad_input_is_refused_at_its_field_and_changes_nothing(
    db: str, changes: dict[str, Any], field: str, message: str
) -> None:
    world = await factories.world()
    owner = await _owner(world)
    with pytest.raises(FieldErrors) as refused:
        await _update(owner, world.org.id, **changes)
    assert list(refused.value.fields) == [field] and refused.value.fields[field].startswith(message)
    assert await access_settings.settings_of(organisation_id=world.org.id) == DEFAULTS
    assert not await AuditEvent.filter(action="set_access_settings").exists()


async def test_both_bad_fields_are_named_at_once(db: str) -> None:
    world = await factories.world()
    with pytest.raises(FieldErrors) as refused:
        await _update(await _owner(world), world.org.id, end_warning_days=[400], dormant_days=1)
    assert list(refused.value.fields) == ["end_warning_days", "dormant_days"]


@pytest.mark.parametrize("role_key", ["clinician", "organisation_staff"])
async def test_who_may_not_edit_roles_is_refused_and_the_refusal_audited(db: str, role_key: str) -> None:
    world = await factories.world()
    nurse = await factories.member("nurse@trust.org", role_key, org=world.org)
    with pytest.raises(PermissionDenied):
        await _update(nurse, world.org.id)
    assert await access_settings.settings_of(organisation_id=world.org.id) == DEFAULTS
    refusal = await AuditEvent.get(action="set_access_settings")
    assert (refusal.outcome, refusal.actor_id, refusal.organisation_id) == ("refused", nurse.member_id, world.org.id)


async def test_an_owner_elsewhere_an_unknown_and_an_archived_organisation_are_refused(db: str) -> None:
    world = await factories.world()
    owner = await _owner(world)
    with pytest.raises(PermissionDenied):
        await _update(owner, world.other_org.id)
    with pytest.raises(PermissionDenied):
        await _update(owner, 999_999)
    admin = await factories.member("root@gatehouse.org", "super_admin")
    await organisations.archive_organisation(actor=admin, organisation_id=world.org.id)
    with pytest.raises(InvalidInput, match="is archived"):
        await _update(owner, world.org.id)
    assert await access_settings.settings_of(organisation_id=world.org.id) == DEFAULTS
    assert await access_settings.settings_of(organisation_id=world.other_org.id) == DEFAULTS


async def test_an_access_controller_may_change_them(db: str) -> None:
    world = await factories.world()
    controller = await factories.member("ac@trust.org", "access_controller", org=world.org)
    assert (await _update(controller, world.org.id)).dormant_days == 60


@pytest.mark.parametrize(
    ("typed", "days"),
    [("14, 7, 1", (14, 7, 1)), ("1 7 14", (14, 7, 1)), ("", ()), ("  30;7 ", (30, 7))],
)
def test_warning_days_are_read_as_typed(typed: str, days: tuple[int, ...]) -> None:
    assert access_settings.parse_warning_days(typed) == days


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("14, seven", "“seven” is not a whole number of days: give days such as 14, 7, 1."),
        ("7.5", "“7.5” is not a whole number of days"),
        ("-3", "“-3” is not a whole number of days"),
        ("14, 14", "Give each warning day once: 14 is there more than once."),
        ("1, 2, 3, 4, 5, 6", "Give at most 5 warning days."),
    ],
)
def test_typed_warning_days_that_are_not_are_refused_precisely(typed: str, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        access_settings.parse_warning_days(typed)
    assert str(refused.value).startswith(message)


async def test_the_review_schedule_is_kept_checked_and_said_and_left_alone_when_not_given(db: str) -> None:
    world = await factories.world()
    owner = await _owner(world)
    saved = await _update(owner, world.org.id, review_every_days=180, privileged_review_days=0)
    saved = await _update(owner, world.org.id, reviews_remove_unanswered=True)
    assert (saved.review_every_days, saved.privileged_review_days, saved.reviews_remove_unanswered) == (180, 0, True)
    assert (await _update(owner, world.org.id)).review_every_days == 180  # not given: as it was
    for field, days in (("review_every_days", 6), ("review_every_days", 731), ("privileged_review_days", 366)):
        with pytest.raises(FieldErrors) as refused:
            await _update(owner, world.org.id, **{field: days})
        assert list(refused.value.fields) == [field] and "or give 0 for no scheduled reviews" in str(refused.value)
    rows, _ = await audit.events_page(actor=owner, organisation_id=world.org.id, action="set_access_settings")
    first, second = (r.sentence for r in reversed(rows))
    assert first.endswith("; access reviewed every 180 days (was 90); no scheduled reviews of privileged roles.")
    assert second.endswith("(whole organisation): access nobody answered for in a review ends at its deadline.")
