"""What the SCIM service publishes: the User and Group attributes Gatehouse keeps, its resource types and its
ServiceProviderConfig, all built with scim2-models (no hand-written schemas)."""

from typing import Annotated, Any

from pydantic import Field
from scim2_models import (
    URN,
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    ComplexAttribute,
    ETag,
    Filter,
    GroupMembership,
    Mutability,
    Name,
    Patch,
    Reference,
    Required,
    Resource,
    Role,
    ScimPolicy,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
    Uniqueness,
)

MAX_RESULTS = 200  # a list or search returns at most this many resources a page


class Email(ComplexAttribute):
    """The address an invitation goes to: it never changes (a person with another address is another User)."""

    value: Annotated[str | None, Required.true] = None
    type: str | None = Field(None, examples=["work"])
    primary: bool | None = None


class User(Resource[Any]):
    """The core User schema narrowed to what Gatehouse keeps: the provider's userName, the address, the name the
    person set, active, and (read-only: Groups give them) the roles held or invited to."""

    __schema__ = URN("urn:ietf:params:scim:schemas:core:2.0:User")

    user_name: Annotated[str | None, Uniqueness.server, Required.true, Mutability.immutable] = None
    name: Annotated[Name | None, Mutability.read_only] = None
    display_name: Annotated[str | None, Mutability.read_only] = None
    active: Annotated[bool | None, Required.true] = None  # Gatehouse always knows; Entra and Okta always send it
    emails: Annotated[list[Email] | None, Required.true, Mutability.immutable] = None
    roles: Annotated[list[Role] | None, Mutability.read_only] = None
    groups: Annotated[list[GroupMembership] | None, Mutability.read_only] = None


class Member(ComplexAttribute):
    """A member of a Group: always a User (a role is held by people, not by other roles)."""

    value: Annotated[str | None, Mutability.immutable] = None
    ref: Annotated[Reference["User"] | None, Mutability.immutable] = Field(
        None, serialization_alias="$ref", validation_alias="$ref"
    )
    type: Annotated[str | None, Mutability.immutable] = Field(None, examples=["User"])


class Group(Resource[Any]):
    """The core Group schema: a role available in the token's scope and who holds it there."""

    __schema__ = URN("urn:ietf:params:scim:schemas:core:2.0:Group")

    display_name: Annotated[str | None, Required.true] = None
    members: list[Member] | None = None


CONFIG = ServiceProviderConfig(
    patch=Patch(supported=True),
    bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
    filter=Filter(supported=True, max_results=MAX_RESULTS),
    change_password=ChangePassword(supported=False),
    sort=Sort(supported=False),
    etag=ETag(supported=False),
    authentication_schemes=[
        AuthenticationScheme(
            type=AuthenticationScheme.Type.oauthbearertoken,
            name="Gatehouse API token",
            description="Authorization: Bearer ghk_… (an API token made in the Care Portal)",
            primary=True,
        )
    ],
)

# Entra ID removes members with a value rather than a path filter, and patches entries its filters do not match yet;
# identity providers send attributes Gatehouse does not keep (enterprise extension, phone numbers): they are dropped.
POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)

PROVIDER = ScimProvider(models=[User, Group], config=CONFIG, policy=POLICY)
