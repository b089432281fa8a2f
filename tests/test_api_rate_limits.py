"""The REST API's per-token rate limit is one counter in the database: calls counted by two processes (two
counters over one database here) add up, the limit holds across them, and a new window starts afresh."""

from datetime import timedelta

import pytest

from models import ApiRateWindow, ApiToken
from services.integrations import rate_limits, tokens
from services.platform import clock
from tests import factories


async def _token_id() -> int:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    await tokens.create(actor=owner, organisation_id=world.org.id, name="HR", permissions=["invite_staff"], days=5)
    return (await ApiToken.get(name="HR")).id


@pytest.mark.data
async def test_calls_from_two_processes_share_one_limit_and_a_new_window_starts_afresh(db: str) -> None:
    token_id = await _token_id()
    first_process, second_process = rate_limits.count_call, rate_limits.count_call  # one database, no memory
    assert [await first_process(token_id=token_id, limit=4) for _ in range(2)] == [1, 2]
    assert [await second_process(token_id=token_id, limit=4) for _ in range(2)] == [3, 4]
    with pytest.raises(rate_limits.TooManyCalls) as refused:
        await first_process(token_id=token_id, limit=4)
    assert 1 <= refused.value.retry_after <= rate_limits.WINDOW_SECONDS
    clock.advance(timedelta(seconds=rate_limits.WINDOW_SECONDS))
    assert await second_process(token_id=token_id, limit=4) == 1
    assert await ApiRateWindow.filter(token_id=token_id).count() == 1  # the old window is gone
