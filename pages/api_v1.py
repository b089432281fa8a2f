"""The REST API at /api/v1 (issue 20 item 3): invitations, staff and roles of the token's organisation, through
the same services (permission checks, audit, outbox) as the pages. Documented at /api/docs; errors are problem
details (pages/api_problems.py); each call is counted against its token's rate limit."""

import base64
import binascii
import json
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from nicegui import app

from pages import api_schemas as body
from pages.api_problems import PROBLEMS, ProblemRoute, install_docs, token_actor
from services.access import roles
from services.access import service as access
from services.access.service import Actor
from services.errors import FieldErrors, NotFound
from services.invitations import pending, resending, steps
from services.invitations import service as invitations
from services.organisations import grant_ends, staff

TITLE, VERSION = "Gatehouse REST API", "1"
DESCRIPTION = (
    "Invitations, staff and roles of the API token's organisation (or deployment). Authenticate with "
    "`Authorization: Bearer ghk_…` (Care Portal → Manage → Integrations). Errors are RFC 9457 problem details "
    "(`application/problem+json`); 429 says when to retry in `Retry-After`."
)
router = APIRouter(prefix="/api/v1", route_class=ProblemRoute, responses=PROBLEMS)
Caller = Annotated[Actor, Depends(token_actor)]
PendingSort = Literal["created", "email", "expires", "last_sent"]
StaffSort = Literal["name", "email", "role", "joined", "last_login"]


def create() -> None:
    """Register /api/v1 and its documentation at /api/docs."""
    app.include_router(router)
    install_docs(app, router, title=TITLE, version=VERSION, description=DESCRIPTION)


@router.post("/invitations", tags=["invitations"], summary="Invite one address or many (up to 100,000)")
async def invite(request: body.InviteRequest, actor: Caller) -> body.SendResultBody:
    organisation_id, deployment_id = _place(actor)
    result = await steps.send_in_steps(
        actor=actor,
        addresses=request.addresses,
        role_id=request.role_id,
        lifetime_hours=request.expires_in_hours,
        organisation_id=organisation_id,
        deployment_id=request.deployment_id or deployment_id,
        ends_at=request.ends_at,
        sponsor_email=request.sponsor_email,
    )
    return body.SendResultBody(
        invited=result.invited,
        replaced=result.replaced,
        awaiting_approval=result.awaiting,
        role_added=result.role_added,
        already_had_role=result.already_had_role,
        invalid=[body.AddressProblem(address=a, reason=r) for a, r in result.invalid],
        not_sent=result.not_sent,
        stopped=result.stopped,
    )


@router.get("/invitations", tags=["invitations"], summary="Pending invitations, a page at a time")
async def list_pending(
    actor: Caller,
    search: str = "",
    sort: PendingSort = "created",
    descending: bool = False,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 25,
    after: Annotated[str | None, Query(description="`next` of the page before")] = None,
    before: Annotated[str | None, Query(description="`previous` of the page after")] = None,
) -> body.PendingPageBody:
    found = await pending.list_pending(
        actor=actor,
        organisation_id=_place(actor)[0],
        search=search,
        sort=sort,
        descending=descending,
        page=page,
        page_size=page_size,
        after=_key(after, "after"),
        before=_key(before, "before"),
    )
    rows = found.rows
    return body.PendingPageBody(
        items=[_pending(row) for row in rows],
        total=found.total,
        page=found.page,
        page_size=found.page_size,
        next=_cursor(pending.edge_key(rows[-1], sort)) if rows and found.page * found.page_size < found.total else None,
        previous=_cursor(pending.edge_key(rows[0], sort)) if rows and found.page > 1 else None,
    )


@router.post("/invitations/resend", tags=["invitations"], summary="Resend invitations: a new link, the old dies")
async def resend(request: body.IdsRequest, actor: Caller) -> body.ResendBody:
    result = await resending.resend_each(actor=actor, invitation_ids=request.ids)
    skipped = [body.AddressProblem(address=a, reason=r) for a, r in result.skipped]
    return body.ResendBody(resent=result.resent, skipped=skipped)


@router.delete("/invitations/{invitation_id}", tags=["invitations"], summary="Delete a pending invitation")
async def delete_invitation(invitation_id: int, actor: Caller) -> body.DeletedBody:
    deleted = await invitations.delete(actor=actor, invitation_ids=[invitation_id])
    if not deleted:
        raise NotFound("There is no pending invitation with that id.")
    return body.DeletedBody(deleted=deleted)


@router.get("/staff", tags=["staff"], summary="Staff members, one row per grant")
async def list_staff(
    actor: Caller,
    show: Literal["all", "dormant", "ending", "ended"] = "all",
    search: str = "",
    sort: StaffSort = "name",
    descending: bool = False,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 25,
) -> body.StaffPageBody:
    rows, total = await staff.staff_page(
        actor=actor,
        organisation_id=_place(actor)[0],
        search=search,
        sort=sort,
        descending=descending,
        page=page,
        page_size=page_size,
        show=show,
    )
    return body.StaffPageBody(items=[_grant(row) for row in rows], total=total, page=page, page_size=page_size)


@router.put(
    "/staff/{assignment_id}/role",
    tags=["staff"],
    summary="Give a member another role in the same place (202: it waits for a second person's approval)",
    responses={202: {"model": body.RoleChangeDone, "description": "Waiting for a second person's approval"}},
)
async def change_role(
    assignment_id: int, request: body.RoleChange, actor: Caller, response: Response
) -> body.RoleChangeDone:
    changed = await staff.change_role(actor=actor, assignment_id=assignment_id, role_id=request.role_id)
    if changed.awaiting:
        response.status_code = 202
    return body.RoleChangeDone(member="", detail=changed.message, awaiting_approval=changed.awaiting)


@router.put("/staff/{assignment_id}/end", tags=["staff"], summary="Change when a member's access ends")
async def set_end(assignment_id: int, request: body.EndChange, actor: Caller) -> body.Done:
    email = await grant_ends.set_end(actor=actor, assignment_id=assignment_id, ends_at=request.ends_at)
    return body.Done(member=email, detail="The access ends then." if request.ends_at else "The access does not end.")


@router.delete("/staff/{assignment_id}", tags=["staff"], summary="Remove a member's role (Remove from team)")
async def remove(assignment_id: int, actor: Caller) -> body.Done:
    email = await staff.remove_from_team(actor=actor, assignment_id=assignment_id)
    return body.Done(member=email, detail="Removed from the team there.")


@router.get("/roles", tags=["roles"], summary="The roles of the organisation, and which this token may hand out")
async def list_roles(actor: Caller, deployment_id: int | None = None) -> list[body.RoleBody]:
    organisation_id, own_deployment = _place(actor)
    scope = await access.scope_of(organisation_id=organisation_id, deployment_id=deployment_id or own_deployment)
    grantable = {role.id for role in await roles.grantable(actor=actor, scope=scope)}
    return [
        body.RoleBody(
            id=role.id,
            key=role.key,
            name=role.name,
            levels=sorted(level.value for level in role.levels),
            permissions=sorted(p.value for p in role.permissions),
            grantable=role.id in grantable,
        )
        for role in await roles.available_in(organisation_id=organisation_id)
        if not role.is_admin_portal
    ]


def _place(actor: Actor) -> tuple[int, int | None]:
    """The token's organisation and deployment (None: the whole organisation)."""
    scope = actor.grants[0].scope
    return int(scope.organisation_id or 0), scope.deployment_id


def _cursor(key: tuple[str, int]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def _key(cursor: str | None, field: str) -> tuple[str, int] | None:
    if not cursor:
        return None
    try:
        value, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return str(value), int(row_id)
    except (ValueError, TypeError, binascii.Error):
        raise FieldErrors({field: "This is not a cursor this API gave out."}) from None


def _pending(row: pending.PendingRow) -> body.PendingInvitation:
    return body.PendingInvitation(
        id=row.id,
        email=row.email,
        role=row.role_name,
        place=row.scope_name,
        invited_by=row.invited_by,
        created_at=row.created_at,
        last_sent_at=row.last_sent_at,
        expires_at=row.expires_at,
        expired=row.expired,
        delivery=row.delivery_state,
        delivery_error=row.delivery_error,
        send_count=row.send_count,
        awaiting_approval=row.awaiting_approval,
        changes_from=row.changes_from,
    )


def _grant(row: staff.StaffRow) -> body.StaffGrant:
    return body.StaffGrant(
        assignment_id=row.assignment_id,
        member_id=row.member_id,
        name=row.name,
        email=row.email,
        role_id=row.role_id,
        role=row.role_name,
        place=row.scope_name,
        deployment_id=row.deployment_id,
        joined=row.joined,
        ends_at=row.ends_at,
        ended_at=row.ended_at,
        last_login=row.last_login,
        dormant=row.dormant,
        manageable=row.manageable,
    )
