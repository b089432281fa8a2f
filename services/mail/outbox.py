"""Writing emails into the transactional outbox (the mail worker delivers them)."""

from collections.abc import Callable
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from models import MessageKind, OutboxMessage, OutboxState
from services.platform import sql
from services.platform.clock import now


def message_fields(
    *,
    kind: MessageKind,
    recipient: str,
    context: dict[str, Any],
    link_seed: str | None,
    invitation_id: int | None,
    organisation_id: int | None,
) -> dict[str, Any]:
    """The column values of one queued message, for bulk inserts."""
    at = now()
    return {
        "kind": kind.value,
        "recipient": recipient,
        "context": context,
        "link_seed": link_seed,
        "invitation_id": invitation_id,
        "organisation_id": organisation_id,
        "state": OutboxState.QUEUED,
        "next_attempt_at": at,
        "created_at": at,
    }


async def enqueue(*, connection: BaseDBAsyncClient, **fields: Any) -> OutboxMessage:
    """Queue one message inside the caller's transaction."""
    return await OutboxMessage.create(using_db=connection, **message_fields(**fields))


async def enqueue_notice(
    *,
    connection: BaseDBAsyncClient,
    kind: MessageKind,
    recipient: str,
    context: dict[str, Any],
    organisation_id: int | None,
) -> OutboxMessage:
    """Queue one access notice (a warning, a reminder: no link of its own, no invitation) inside the caller's
    transaction; its context's "path" names the page behind log-in it links to."""
    return await enqueue(
        connection=connection,
        kind=kind,
        recipient=recipient,
        context=context,
        link_seed=None,
        invitation_id=None,
        organisation_id=organisation_id,
    )


async def cancel_queued(*, invitation_id: int, connection: BaseDBAsyncClient) -> None:
    """A dead invitation's unsent emails never leave (and their links are wiped)."""
    await (
        OutboxMessage.filter(invitation_id=invitation_id, state=OutboxState.QUEUED)
        .using_db(connection)
        .update(state=OutboxState.FAILED, last_error="invitation no longer pending", link_seed=None)
    )


async def cancel_queued_of(*, invitation_ids: list[int], connection: BaseDBAsyncClient) -> None:
    """cancel_queued for many dead invitations at once."""
    if not invitation_ids:
        return
    await sql.update_where_in(
        connection,
        OutboxMessage,
        changes={"state": OutboxState.FAILED, "last_error": "invitation no longer pending", "link_seed": None},
        key="invitation_id",
        values=invitation_ids,
        where={"state": OutboxState.QUEUED},
    )


_waker: Callable[[], None] | None = None


def set_waker(waker: Callable[[], None] | None) -> None:
    """Let the running mail worker be woken as soon as new mail is committed."""
    global _waker
    _waker = waker


def mail_committed() -> None:
    """Called after a commit that queued mail: the worker starts at once instead of at its next poll."""
    if _waker is not None:
        _waker()
