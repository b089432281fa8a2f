"""A hostile browser: raw websocket events with crafted arguments, for elements shown, hidden or never created."""

import json
import logging
from typing import Any

import pytest
from nicegui import ui
from nicegui.testing import User

from models import AuditEvent, Deployment, Invitation, Organisation
from tests import factories
from tests.ui_helpers import eventually, select_labelled, sign_in, table


def raw_event(user: User, element: ui.element, event_type: str, args: Any = None) -> None:
    """What a modified browser can send over the socket: any listener of any element id, with any arguments."""
    assert user.client is not None
    listener = next(listener for listener in element._event_listeners.values() if listener.type == event_type)
    user.client.handle_event({"id": element.id, "listener_id": listener.id, "args": [json.dumps(args)]})


def event_for_an_element_never_created(user: User, element_id: int) -> None:
    assert user.client is not None and element_id not in user.client.elements
    user.client.handle_event({"id": element_id, "listener_id": "forged", "args": [json.dumps({"id": 1})]})


async def test_row_events_for_another_organisation_change_nothing_and_are_recorded(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "owner@trust.org", "organisation_owner", org=world.org)
    await user.open("/admin")
    await eventually(lambda: len(table(user, "organisations").rows) == 1)
    foreign = {"id": world.other_org.id, "name": "Renamed by Mallory", "archived": False}

    raw_event(user, table(user, "organisations"), "rename", foreign)
    await user.should_see("Rename Renamed by Mallory")
    user.find("Organisation name").type(" Mine now")
    user.find(kind=ui.button, content="Save").click()
    await user.should_see("You do not have permission to do that.")
    raw_event(user, table(user, "organisations"), "new_deployment", foreign)
    user.find("Deployment name").type("Backdoor")
    user.find(kind=ui.button, content="Create deployment").click()
    await user.should_see("You may not create deployments in this organisation.")

    assert (await Organisation.get(id=world.other_org.id)).name == world.other_org.name
    assert not await Deployment.filter(name="Backdoor").exists()
    refused = set(await AuditEvent.filter(outcome="refused").values_list("action", flat=True))
    assert {"rename_organisation", "create_deployment"} <= refused


async def test_events_for_elements_never_shown_to_this_user_do_nothing(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "nurse@trust.org", "clinician", org=world.org)
    await user.open("/admin")
    await user.should_see("The Admin Portal is for platform and organisation administrators.")
    assert user.client is not None
    audit_before = await AuditEvent.all().count()
    for element_id in range(max(user.client.elements) + 1, max(user.client.elements) + 200):
        event_for_an_element_never_created(user, element_id)

    await user.should_see("The Admin Portal is for platform and organisation administrators.")
    assert not await Invitation.filter(invited_by_id__not_isnull=True).exists()
    assert await AuditEvent.all().count() == audit_before


def _expect_only_refused_values(caplog: pytest.LogCaptureFixture) -> None:
    """NiceGUI logs the malformed values it refused as errors; those, and nothing else, are expected here."""
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors and all(r.exc_info and r.exc_info[0] in (IndexError, KeyError, TypeError) for r in errors)
    caplog.clear()


async def test_a_crafted_role_expiry_or_click_in_the_pop_out_cannot_get_past_what_is_offered(
    user: User, caplog: pytest.LogCaptureFixture
) -> None:
    world = await factories.world()
    await sign_in(user, "owner@trust.org", "organisation_owner", org=world.org)
    await user.open("/admin")
    await eventually(lambda: len(table(user, "deployments").rows) == 2)
    raw_event(user, table(user, "deployments"), "invite", {"id": world.dep.id, "name": "x", "organisation": "y"})
    await user.should_see("Send invites")
    role, expiry = select_labelled(user, "Role"), select_labelled(user, "Link expires after")
    offered = set(role.options)
    send = next(iter(user.find(kind=ui.button, content="Send invites").elements))

    raw_event(user, send, "click")  # disabled: nothing to send yet
    user.find("Email addresses").type("target@example.org").trigger("keydown.enter")
    await user.should_see("1 valid address")
    for crafted in ({"value": 999}, "Super Admin", {"value": "0; DROP TABLE"}):
        raw_event(user, role, "update:modelValue", crafted)
        assert role.value is None or role.value in offered
    for crafted in ({"value": 99}, "8760"):
        raw_event(user, expiry, "update:modelValue", crafted)
        assert expiry.value in (24, 72, 168)
    _expect_only_refused_values(caplog)
    raw_event(user, send, "click")
    assert not await Invitation.filter(email="target@example.org").exists()

    role.value = next(k for k, v in role.options.items() if v == "Clinician")  # type: ignore[union-attr]
    raw_event(user, send, "click")
    await user.should_see("Invited (1)")
    invitation = await Invitation.get(email="target@example.org").select_related("role")
    assert invitation.role.name == "Clinician" and invitation.lifetime_hours in (24, 72, 168)
