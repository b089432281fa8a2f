"""The REST API's request and response bodies (pydantic models: the OpenAPI document is built from them)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

MAX_ADDRESSES = 100_000


class InviteRequest(BaseModel):
    addresses: list[str] = Field(min_length=1, max_length=MAX_ADDRESSES, description="One address or up to 100,000")
    role_id: int = Field(description="A role from GET /api/v1/roles that the token may hand out there")
    expires_in_hours: Literal[24, 72, 168] = 72
    deployment_id: int | None = Field(None, description="One deployment; none: the token's place")
    ends_at: datetime | None = Field(None, description="When the access ends (ISO 8601 with a time zone)")
    sponsor_email: str | None = Field(None, description="Who is accountable for the access; none: the token's creator")


class AddressProblem(BaseModel):
    address: str
    reason: str


class SendResultBody(BaseModel):
    """What happened to every address, as the invite pop-out reports it."""

    invited: list[str]
    replaced: list[str]
    awaiting_approval: list[str]
    role_added: list[str]
    already_had_role: list[str]
    invalid: list[AddressProblem]
    not_sent: list[str]
    stopped: str


class PendingInvitation(BaseModel):
    id: int
    email: str
    role: str
    place: str
    invited_by: str
    created_at: datetime
    last_sent_at: datetime
    expires_at: datetime
    expired: bool
    delivery: str
    delivery_error: str
    send_count: int
    awaiting_approval: bool
    changes_from: str = Field(
        default="", description="A role change waiting for approval: the role the member holds until then; else empty"
    )


class PendingPageBody(BaseModel):
    items: list[PendingInvitation]
    total: int
    page: int
    page_size: int
    next: str | None = Field(description="Pass as `after` for the next page (keyset)")
    previous: str | None = Field(description="Pass as `before` for the previous page (keyset)")


class IdsRequest(BaseModel):
    ids: list[int] = Field(min_length=1, max_length=1000)


class ResendBody(BaseModel):
    resent: list[str]
    skipped: list[AddressProblem]


class DeletedBody(BaseModel):
    deleted: list[str]


class StaffGrant(BaseModel):
    assignment_id: int
    member_id: int
    name: str
    email: str
    role_id: int
    role: str
    place: str
    deployment_id: int | None
    joined: datetime
    ends_at: datetime | None
    ended_at: datetime | None
    last_login: datetime | None
    dormant: bool
    manageable: bool


class StaffPageBody(BaseModel):
    items: list[StaffGrant]
    total: int
    page: int
    page_size: int


class RoleChange(BaseModel):
    role_id: int


class EndChange(BaseModel):
    ends_at: datetime | None = Field(description="The new end (ISO 8601 with a time zone); null: it does not end")


class Done(BaseModel):
    member: str = Field(description="The member's email")
    detail: str


class RoleChangeDone(Done):
    awaiting_approval: bool = Field(
        default=False,
        description="True (status 202): the organisation's approval rules cover the role, so nothing changed yet; the "
        "change waits as an invitation awaiting approval and the member keeps their role until it is approved and "
        "accepted",
    )


class RoleBody(BaseModel):
    id: int
    key: str | None
    name: str
    levels: list[str]
    permissions: list[str]
    grantable: bool = Field(description="Whether this token may hand it out at the place asked about")
