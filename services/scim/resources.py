"""SCIM Users and Groups made from the people and roles of a token's scope, and what a POST, PUT or PATCH asks of
them: scim2-models parses, filters and applies the patch; this module only maps the result onto services/scim/people.
"""

from typing import Any

from scim2_models import (
    Context,
    GroupMembership,
    ListResponse,
    Meta,
    MutabilityException,
    Name,
    PatchOp,
    Reference,
    Role,
    ScimFilter,
    UniquenessException,
)

from services.access.service import Actor, RoleInfo
from services.scim import people, records
from services.scim.schema import MAX_RESULTS, PROVIDER, Email, Group, Member, User

USER_NAME_FIXED = "userName is the person's address: make a new user for another address."


def as_user(person: people.Person, base: str) -> User:
    """The SCIM User of a person."""
    held = sorted(person.roles.items())
    return User(
        id=person.id,
        external_id=person.external_id,
        user_name=person.user_name or person.email,
        display_name=person.full_name or None,
        name=Name(formatted=person.full_name) if person.full_name else None,
        active=person.active,
        emails=[Email(value=person.email, type="work", primary=True)],
        roles=[Role(value=str(i), display=n) for i, n in held] or None,
        groups=[_membership(i, n, base) for i, n in held] or None,
        meta=Meta(resource_type="User", location=f"{base}/Users/{person.id}"),
    )


def _membership(role_id: int, name: str, base: str) -> GroupMembership:
    return GroupMembership(value=str(role_id), display=name, ref=Reference(f"{base}/Groups/{role_id}"), type="direct")


def as_group(role: RoleInfo, members: list[people.Person], base: str, external_id: str | None = None) -> Group:
    """The SCIM Group of a role: who holds it, or is invited to it, in the scope."""
    held = [p for p in members if role.id in p.roles]
    return Group(
        id=str(role.id),
        external_id=external_id,
        display_name=role.name,
        members=[Member(value=p.id, type="User", ref=Reference(f"{base}/Users/{p.id}")) for p in held] or None,
        meta=Meta(resource_type="Group", location=f"{base}/Groups/{role.id}"),
    )


def listed(resources: list[Any], filter_text: str | None, start: int, count: int | None) -> Any:
    """One page (1-based start, at most MAX_RESULTS) of the resources a filter matches."""
    model = type(resources[0]) if resources else User
    if filter_text:
        matcher = ScimFilter[model](filter_text)  # type: ignore[valid-type]
        resources = [r for r in resources if matcher.match(r)]
    size = MAX_RESULTS if count is None else max(0, min(count, MAX_RESULTS))
    first = max(1, start)
    page = resources[first - 1 : first - 1 + size]
    listing = ListResponse[model]  # type: ignore[valid-type]
    return listing(total_results=len(resources), start_index=first, items_per_page=len(page), resources=page)


def user_name_filtered(filter_text: str | None) -> str | None:
    """The address of a plain `userName eq "…"` filter, so that only that person is read."""
    if not filter_text:
        return None
    node = ScimFilter[User](filter_text).ast
    attr = getattr(node, "attr_path", None)
    if attr is not None and str(attr).casefold() == "username" and str(getattr(node, "op", "")).endswith("eq"):
        return str(node.value)  # type: ignore[attr-defined]
    return None


async def create_user(*, actor: Actor, payload: dict[str, Any], base: str) -> User:
    """POST /Users: invite the address with the roles it names (roles[].value, or leniently groups[].value), or the
    token's default role; a User created inactive is only remembered."""
    user = User.model_validate(payload, scim_ctx=Context.RESOURCE_CREATION_REQUEST, scim_provider=PROVIDER)
    user_name = (user.user_name or "").strip()
    addresses = sorted(user.emails or [], key=lambda e: not e.primary)
    email = next((e.value.strip() for e in addresses if e.value), user_name)
    wanted = _values(payload, "roles") or _values(payload, "groups")
    role_ids = [await people.role_id_named(actor=actor, value=v) for v in wanted]
    try:
        created = await people.provision(
            actor=actor,
            email=email,
            user_name=user_name,
            role_ids=role_ids,
            active=user.active is not False,
            external_id=user.external_id,
        )
    except people.AlreadyThere as taken:
        raise UniquenessException(detail=str(taken)) from None
    return as_user(created, base)


async def replace_user(*, actor: Actor, scim_id: str, payload: dict[str, Any], base: str) -> User:
    """PUT /Users/{id}: active and externalId are replaced; read-only attributes are ignored (RFC 7644 §3.5.1)."""
    who = await people.person(actor=actor, scim_id=scim_id)
    user = User.model_validate(payload, scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST, scim_provider=PROVIDER)
    return await _settle(actor, who, user, base)


async def patch_user(*, actor: Actor, scim_id: str, payload: dict[str, Any], base: str) -> User:
    """PATCH /Users/{id} (RFC, Entra's and Okta's forms alike): applied to the User, then settled as a PUT."""
    who = await people.person(actor=actor, scim_id=scim_id)
    user = as_user(who, base)
    patch = PatchOp[User].model_validate(payload, scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_provider=PROVIDER)
    patch.patch(user, scim_policy=PROVIDER.policy)
    return await _settle(actor, who, user, base)


async def delete_user(*, actor: Actor, scim_id: str) -> None:
    """DELETE /Users/{id}: end every grant and invitation of the person there, and their sessions; forget them."""
    await people.delete(actor=actor, who=await people.person(actor=actor, scim_id=scim_id))


async def set_members(*, actor: Actor, role: RoleInfo, group: Group, base: str) -> Group:
    """Make the role's members in the scope those of the group: invite the new ones, end the grants of the others."""
    everyone = await people.people(actor=actor)
    held = {p.id: p for p in everyone if role.id in p.roles}
    wanted = {m.value for m in group.members or [] if m.value}
    for scim_id in sorted(wanted - held.keys()):
        await people.invite(actor=actor, email=people.email_of(scim_id), role_id=role.id)
    for scim_id in sorted(held.keys() - wanted):
        await people.withdraw(actor=actor, who=held[scim_id], role_ids={role.id})
    return as_group(role, await people.people(actor=actor), base, group.external_id)


async def _settle(actor: Actor, who: people.Person, user: User, base: str) -> User:
    if (user.user_name or who.user_name or who.email).casefold() != (who.user_name or who.email).casefold():
        raise MutabilityException(detail=USER_NAME_FIXED)
    scope = people.scope_of(actor)
    if user.external_id != who.external_id:
        await records.set_external_id(scope=scope, kind=records.USER, key=who.email, external_id=user.external_id)
    if user.active is False and who.active:
        await people.deactivate(actor=actor, who=who)
    elif user.active is True and not who.active:
        await people.reactivate(actor=actor, who=who)
    return as_user(await people.person(actor=actor, scim_id=who.id), base)


def _values(payload: dict[str, Any], name: str) -> list[str]:
    """roles[].value or groups[].value of a creation request: read-only here (Groups give roles), yet identity
    providers name the role there when they create a User."""
    found = next((v for k, v in payload.items() if k.casefold() == name), None) or []
    return [str(item["value"]) for item in found if isinstance(item, dict) and item.get("value")]
