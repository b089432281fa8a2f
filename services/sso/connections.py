"""An organisation's OpenID Connect provider: connected, changed and removed by those who may change its access
settings (checked on every call, refusals audited); read by sign-in and the log-in and accept pages."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from models import RoleAssignment, Session, SsoConnection, SsoSession
from services.access import rights, sessions
from services.access import service as access
from services.access.liveness import live
from services.access.service import Actor
from services.audit import service as audit
from services.errors import FieldErrors, InvalidInput, NotFound, check_fields
from services.invitations import addresses as emails
from services.organisations import service as organisations
from services.platform import events, settings
from services.platform.clock import now
from services.sso import provider, sealing

REFUSED = "You need the *edit roles and permissions* permission in this organisation."
KEEP_SECRET = ""  # an empty client secret when changing a connection keeps the stored one
MAX_DOMAINS = 20
MAX_ACR_VALUES = 5
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass(frozen=True)
class ConnectionView:
    name: str
    issuer: str
    client_id: str
    required: bool
    email_domains: tuple[str, ...]
    mfa_acr_values: tuple[str, ...] = ()  # the ID token acr values that mean a multi-factor sign-in there


@dataclass(frozen=True)
class Offer:
    organisation_id: int
    name: str  # the button says "Sign in with <name>"
    required: bool


def callback_url() -> str:
    """The redirect URI every provider is registered with (one for all organisations: the state says which)."""
    return f"{settings.current().base_url}/sso/callback"


def logout_url(*, organisation_id: int) -> str:
    """The back-channel logout URI this organisation's provider is registered with."""
    return f"{settings.current().base_url}/sso/backchannel-logout/{organisation_id}"


async def view(*, actor: Actor, organisation_id: int) -> ConnectionView | None:
    """The organisation's connection as its settings page shows it (never the secret); None: not connected."""
    await _require(actor, organisation_id, "read_sso")
    row = await SsoConnection.get_or_none(organisation_id=organisation_id)
    if row is None:
        return None
    return ConnectionView(
        row.name, row.issuer, row.client_id, row.required, tuple(row.email_domains), tuple(row.mfa_acr_values.split())
    )


async def connect(
    *,
    actor: Actor,
    organisation_id: int,
    name: str,
    issuer: str,
    client_id: str,
    client_secret: str,
    required: bool,
    email_domains: Sequence[str] = (),
    mfa_acr_values: Sequence[str] = (),
) -> ConnectionView:
    """Connect (or change) the organisation's provider; the discovery document must be readable. Bad input raises
    FieldErrors at its field (name, issuer, client_id, client_secret, email_domains, mfa_acr_values) and changes
    nothing. Making it required ends the members' sessions that no provider opened."""
    scope = await _require(actor, organisation_id, "set_sso")
    await organisations.require_active(organisation_id=organisation_id)
    old = await SsoConnection.get_or_none(organisation_id=organisation_id)
    checked = check_fields(
        name=lambda: _label(name),
        issuer=lambda: provider.check_issuer_url(issuer),
        client_id=lambda: _client_id(client_id),
        client_secret=lambda: _secret(client_secret, keep=old is not None),
        email_domains=lambda: " ".join(_domains(email_domains)),
        mfa_acr_values=lambda: " ".join(_acr_values(mfa_acr_values)),
    )
    try:  # only a well-formed issuer is fetched
        await provider.discover(checked["issuer"])
    except InvalidInput as problem:
        raise FieldErrors({"issuer": str(problem)}) from None
    wanted = ConnectionView(
        checked["name"],
        checked["issuer"],
        checked["client_id"],
        bool(required),
        tuple(checked["email_domains"].split()),
        tuple(checked["mfa_acr_values"].split()),
    )
    secret = checked["client_secret"]
    async with in_transaction() as connection:
        await _save(organisation_id, old, wanted, secret, connection)
        ended = await _end_password_sessions(organisation_id, connection) if wanted.required else []
        detail = {
            "issuer": wanted.issuer, "required": wanted.required, "secret_changed": bool(secret),
            "mfa_acr_values": " ".join(wanted.mfa_acr_values),
        }  # fmt: skip
        await audit.record(
            actor=actor, action="set_sso", scope=scope, target=wanted.name, detail=detail, connection=connection
        )
    if ended:
        sessions.sessions_ended(token_hashes=ended)
        await events.publish(organisation_id=None, kind=sessions.SESSION_ENDED)
    await events.publish(organisation_id=organisation_id, kind="settings")
    return wanted


async def _save(
    organisation_id: int, old: SsoConnection | None, wanted: ConnectionView, secret: str, connection: BaseDBAsyncClient
) -> None:
    values: dict[str, Any] = {
        "name": wanted.name,
        "issuer": wanted.issuer,
        "client_id": wanted.client_id,
        "required": wanted.required,
        "email_domains": list(wanted.email_domains),
        "mfa_acr_values": " ".join(wanted.mfa_acr_values),
        "updated_at": now(),
    }
    if secret:
        values["client_secret_sealed"] = sealing.seal(secret, organisation_id=organisation_id)
    if old is None:
        await SsoConnection.create(
            using_db=connection, organisation_id=organisation_id, created_at=values["updated_at"], **values
        )
    else:
        await SsoConnection.filter(id=old.id).using_db(connection).update(**values)


async def disconnect(*, actor: Actor, organisation_id: int) -> str:
    """Remove the organisation's provider (its members log in with passwords again, those who have one); returns
    the provider's name."""
    scope = await _require(actor, organisation_id, "remove_sso")
    row = await SsoConnection.get_or_none(organisation_id=organisation_id)
    if row is None:
        raise NotFound("This organisation has no single sign-on connected.")
    async with in_transaction() as connection:
        await SsoConnection.filter(id=row.id).using_db(connection).delete()
        await audit.record(actor=actor, action="remove_sso", scope=scope, target=row.name, connection=connection)
    await events.publish(organisation_id=organisation_id, kind="settings")
    return row.name


async def offer_for(*, organisation_id: int) -> Offer | None:
    """The organisation's sign-in button, if it connected a provider (no permission: shown before log-in)."""
    row = await SsoConnection.get_or_none(organisation_id=organisation_id)
    return Offer(row.organisation_id, row.name, row.required) if row else None


async def offers_for_email(*, email: str) -> list[Offer]:
    """The providers of the organisations that listed this address's domain."""
    domain = emails.canonical(email.strip()).rpartition("@")[2]
    if not domain or not domain.isprintable():
        return []
    rows = await SsoConnection.all().order_by("id")
    return [Offer(r.organisation_id, r.name, r.required) for r in rows if domain in r.email_domains]


async def required_names(*, member_id: int) -> list[str]:
    """The provider a member must log in through: that of the one organisation holding all their live access, when it
    made single sign-on required (empty: a password log-in is fine, as for anyone with access beyond one
    organisation, whom no organisation's provider speaks for: speaks_for)."""
    places = set(await RoleAssignment.filter(live(), member_id=member_id).values_list("organisation_id", flat=True))
    if len(places) != 1 or None in places:
        return []
    rows = await SsoConnection.filter(organisation_id__in=places, required=True)
    return [row.name for row in rows]


async def speaks_for(*, member_id: int, organisation_id: int) -> bool:
    """May the organisation's provider sign this account in: is every live grant it holds in that organisation? One
    that also holds access elsewhere (another organisation, the Admin Portal) logs in with its own password and
    factor, or one organisation's provider could open a session carrying another's access, or a Super Admin's."""
    return not await RoleAssignment.filter(live(), _outside(organisation_id), member_id=member_id).exists()


def _outside(organisation_id: int) -> Q:
    return Q(organisation_id__isnull=True) | ~Q(organisation_id=organisation_id)


async def client_of(row: SsoConnection) -> provider.Client:
    """The OAuth client of a connection, its secret unsealed for this one use."""
    secret = sealing.unseal(row.client_secret_sealed, organisation_id=row.organisation_id)
    return provider.Client(row.issuer, row.client_id, secret, callback_url())


async def _require(actor: Actor, organisation_id: int, action: str) -> access.Scope:
    scope = await access.scope_of(organisation_id=organisation_id)
    if not rights.may_change_access_settings(actor=actor, organisation_id=organisation_id):
        await audit.record(actor=actor, action=action, scope=scope, outcome="refused")
        access.require(False, REFUSED)
    return scope


async def _end_password_sessions(organisation_id: int, connection: BaseDBAsyncClient) -> list[str]:
    """Sessions of the organisation's members that no provider opened end when single sign-on becomes required."""
    members = Subquery(RoleAssignment.filter(live(), organisation_id=organisation_id).values("member_id"))
    beyond = Subquery(RoleAssignment.filter(live(), _outside(organisation_id)).values("member_id"))  # not bound by it
    opened_by_provider = Subquery(SsoSession.filter(organisation_id=organisation_id).values("session_id"))
    open_sessions = (
        Session.filter(member_id__in=members, revoked_at=None)
        .exclude(id__in=opened_by_provider)
        .exclude(member_id__in=beyond)
    )
    hashes: list[str] = await open_sessions.using_db(connection).values_list("token_hash", flat=True)  # type: ignore
    if hashes:
        await Session.filter(token_hash__in=hashes).using_db(connection).update(revoked_at=now())
    return hashes


def _label(name: str) -> str:
    text = " ".join((name or "").split())
    if not text:
        raise InvalidInput("Enter the provider's name as your staff know it, such as Contoso Entra ID.")
    if len(text) > 80 or not text.isprintable():
        raise InvalidInput("A provider's name is at most 80 visible characters.")
    return text


def _client_id(client_id: str) -> str:
    text = (client_id or "").strip()
    if not text or len(text) > 255 or not text.isprintable():
        raise InvalidInput("Enter the client ID the provider gave Gatehouse (at most 255 characters).")
    return text


def _secret(secret: str, *, keep: bool) -> str:
    if not secret and keep:
        return KEEP_SECRET
    if not secret or len(secret) > 1000 or not secret.isprintable():
        raise InvalidInput("Enter the client secret the provider gave Gatehouse.")
    return secret


def _domains(domains: Sequence[str]) -> tuple[str, ...]:
    found: list[str] = []
    for raw in domains:
        domain = raw.strip().lower().lstrip("@")
        if not domain:
            continue
        if not _DOMAIN.match(domain):
            raise InvalidInput(f"“{raw[:60]}” is not a domain such as example.org.")
        if domain not in found:
            found.append(domain)
    if len(found) > MAX_DOMAINS:
        raise InvalidInput(f"List at most {MAX_DOMAINS} domains.")
    return tuple(found)


def _acr_values(values: Sequence[str]) -> tuple[str, ...]:
    kept = tuple(dict.fromkeys(value.strip() for value in values if value.strip()))
    if len(kept) > MAX_ACR_VALUES:
        raise InvalidInput(f"Name at most {MAX_ACR_VALUES} values.")
    for value in kept:
        if len(value) > 200 or not value.isprintable() or not value.isascii() or len(value.split()) > 1:
            raise InvalidInput(f"“{value[:40]}” is not an acr value: printable ASCII without spaces, at most 200.")
    return kept


def parse_domains(text: str) -> list[str]:
    """Domains typed with commas or spaces between."""
    return [part for part in re.split(r"[\s,;]+", text or "") if part]
