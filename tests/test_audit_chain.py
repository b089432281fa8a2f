"""The audit trail is tamper-evident (issue 19 item 4): events are sealed into one hash chain, and an edited, removed
or re-hashed event is caught and named by the documented command."""

import asyncio
from pathlib import Path

import pytest
from tortoise import connections

from models import AuditEvent
from services.access.service import Scope, ScopeLevel
from services.audit import chain, verify
from services.audit import service as audit
from services.platform import sql
from services.platform.database import connected
from services.platform.housekeeping import Housekeeper
from tests.conftest import copy_of

TRUST = Scope(ScopeLevel.ORGANISATION, 7)  # audit events name organisations by id alone


async def _events(count: int) -> list[int]:
    for n in range(count):
        detail = {"role": "Clinician", "n": n, "ends_at": "2027-01-01T10:00:00+00:00", "nested": {"b": 1, "a": [2]}}
        await audit.record(actor=None, action="invite", scope=TRUST, target=f"p{n}@trust.org", detail=detail)
    return [event.id for event in await AuditEvent.all().order_by("id").only("id")]


@pytest.mark.data
async def test_sealed_events_verify_and_later_ones_continue_the_chain(db: str) -> None:
    await _events(5)
    assert await chain.seal() == 5
    first = await chain.verify()
    assert first.intact and first.checked == 5 and first.unsealed == 0
    await _events(3)
    assert (await chain.verify()).unsealed == 3
    assert await chain.seal(batch=2) == 3
    second = await chain.verify(batch=4)
    assert second.intact and second.checked == 8 and second.head != first.head


@pytest.mark.data
async def test_an_edited_event_is_caught_and_named(db: str) -> None:
    ids = await _events(5)
    await chain.seal()
    await AuditEvent.filter(id=ids[2]).update(target="someone-else@trust.org")
    verdict = await chain.verify()
    assert (verdict.broken_at, verdict.checked) == (ids[2], 2)
    assert verdict.reason == "its content or its hash was changed"


@pytest.mark.data
async def test_an_event_removed_from_the_middle_or_rehashed_is_caught(db: str) -> None:
    ids = await _events(5)
    await chain.seal()
    await AuditEvent.filter(id=ids[3]).update(hash="0" * 64)
    assert (await chain.verify()).broken_at == ids[3]
    await AuditEvent.filter(id=ids[1]).delete()
    verdict = await chain.verify()
    assert verdict.broken_at == ids[2] and verdict.reason.startswith("events missing before it")


@pytest.mark.data
async def test_events_bulk_written_by_sql_seal_and_verify_like_the_others(db: str) -> None:
    await _events(1)
    connection = connections.get("default")
    event = audit.event_fields(actor=None, action="invite", detail={"role": "Clinician", "sponsor": "Sam"})
    rows = ((f"bulk{n}@trust.org",) for n in range(300))
    await sql.insert(
        connection,
        AuditEvent,
        columns=("target",),
        rows=rows,
        constants={k: v for k, v in event.items() if k != "target"},
    )
    assert await chain.seal(batch=128) == 301
    assert (await chain.verify()).intact


@pytest.mark.data
async def test_two_sealers_at_once_never_fork_the_chain(db: str) -> None:
    await _events(40)
    sealed = await asyncio.gather(chain.seal(batch=7), chain.seal(batch=7), chain.seal(batch=7))
    await chain.seal()
    verdict = await chain.verify()
    assert verdict.intact and verdict.checked == 40 and sum(sealed) <= 40


async def test_the_command_reports_an_intact_trail_then_names_the_first_broken_event(
    tmp_path: Path, migrated_sqlite: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite://{copy_of(migrated_sqlite, tmp_path)}"
    monkeypatch.setenv("GATEHOUSE_DATABASE_URL", url)
    async with connected(url):
        await audit.record(actor=None, action="purge", target="one")
        await audit.record(actor=None, action="purge", target="two")
        await chain.seal()  # the app's housekeeping seals; the command only reads
    assert await asyncio.to_thread(verify.main) == 0
    assert "Intact: 2 audit events fit the chain." in capsys.readouterr().out
    async with connected(url):
        tampered = await AuditEvent.get(target="two")
        await AuditEvent.filter(id=tampered.id).update(target="three")
    assert await asyncio.to_thread(verify.main) == 1
    assert f"BROKEN at audit event {tampered.id}: its content or its hash was changed." in capsys.readouterr().out


async def test_the_command_never_seals_so_newest_events_edited_and_unsealed_stay_unsealed_and_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite://{tmp_path}/gatehouse.sqlite3"
    monkeypatch.setenv("GATEHOUSE_DATABASE_URL", url)
    async with connected(url):
        for target in ("one", "two", "three"):
            await audit.record(actor=None, action="purge", target=target)
        await chain.seal()
    assert await asyncio.to_thread(verify.main) == 0
    written_down = capsys.readouterr().out.rsplit("Head hash: ", 1)[1].strip()
    async with connected(url):  # someone edits the two newest events and clears their seal
        newest = [e.id for e in await AuditEvent.all().order_by("-id").limit(2)]
        await AuditEvent.filter(id__in=newest).update(target="nobody", seal=None, hash=None)
    assert await asyncio.to_thread(verify.main) == 0
    said = capsys.readouterr().out
    assert "Intact: 1 audit events fit the chain." in said and written_down not in said
    assert "Not sealed yet: 2 audit events, the oldest written " in said and "had its seal cleared" in said
    async with connected(url):  # nothing was sealed with the edit
        assert await AuditEvent.filter(id__in=newest, seal__isnull=True).count() == 2


async def test_housekeeping_refuses_to_seal_again_once_the_head_it_sealed_is_gone(
    db: str, caplog: pytest.LogCaptureFixture
) -> None:
    keeper = Housekeeper(database_url="sqlite://:memory:", retention_days=90, interval_seconds=60)
    ids = await _events(3)
    await keeper.run_once()
    assert (await chain.verify()).checked >= 3
    await AuditEvent.filter(id=ids[-1]).update(target="nobody", seal=None, hash=None)  # edited, its seal cleared
    await keeper.run_once()
    assert (await AuditEvent.get(id=ids[-1])).seal is None  # not sealed with the edit
    assert "not sealing" in caplog.text
    verdict = await chain.verify()
    assert verdict.intact and verdict.unsealed >= 1 and verdict.oldest_unsealed is not None
