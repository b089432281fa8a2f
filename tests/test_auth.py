"""Log-in, sessions and logout through the auth service."""

import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Literal

import argon2
import pytest

from models import Session
from services.access import auth
from services.errors import InvalidInput, NotAuthenticated, RateLimited
from services.platform import clock
from tests import factories

PASSWORD = "a long enough password"


@pytest.fixture(autouse=True)
def fresh_limits() -> None:
    auth.login_limiter.reset()


async def _member(email: str = "nurse@trust.org") -> None:
    await factories.member(email, password_hash=await auth.hash_password(PASSWORD))


async def _session(email: str = "nurse@trust.org", redirect_to: str = "/care") -> auth.CompletedLogin:
    ticket = (await auth.login(email=email, password=PASSWORD, redirect_to=redirect_to, client="c")).ticket
    return await auth.complete_login(ticket=ticket)


async def test_log_in_gives_a_fresh_session_each_time_and_the_ticket_works_once(db: str) -> None:
    await _member()
    ticket = (await auth.login(email=" Nurse@Trust.org ", password=PASSWORD, redirect_to="/care", client="c")).ticket
    done = await auth.complete_login(ticket=ticket)
    assert done.redirect_to == "/care"
    with pytest.raises(NotAuthenticated):
        await auth.complete_login(ticket=ticket)
    other = await _session()
    assert other.session_token != done.session_token
    actor = await auth.actor_for(session_token=done.session_token)
    assert actor.email == "nurse@trust.org"
    assert await Session.filter(token_hash=done.session_token).count() == 0  # only hashes are stored


async def test_wrong_password_and_unknown_address_look_the_same(db: str) -> None:
    await _member()
    messages = set()
    for email, password in (("nurse@trust.org", "wrong password!"), ("nobody@trust.org", PASSWORD)):
        with pytest.raises(InvalidInput) as refused:
            await auth.login(email=email, password=password, redirect_to="/", client="c")
        messages.add(str(refused.value))
    assert messages == {auth.WRONG_LOGIN}


async def test_log_in_attempts_are_limited_per_client_and_address(db: str) -> None:
    await _member()
    for _ in range(10):
        with pytest.raises(InvalidInput):
            await auth.login(email="nurse@trust.org", password="guess guess", redirect_to="/", client="c")
    with pytest.raises(RateLimited):
        await auth.login(email="nurse@trust.org", password=PASSWORD, redirect_to="/", client="c")


async def test_sessions_end_at_logout_when_idle_and_after_the_absolute_limit(db: str) -> None:
    await _member()
    done = await _session()
    await auth.logout(session_token=done.session_token)
    with pytest.raises(NotAuthenticated):
        await auth.actor_for(session_token=done.session_token)
    idle = await _session()
    clock.advance(auth.IDLE_TIMEOUT + timedelta(seconds=1))
    with pytest.raises(NotAuthenticated):
        await auth.actor_for(session_token=idle.session_token)
    busy = await _session()
    for _ in range(int(auth.ABSOLUTE_TIMEOUT / timedelta(minutes=20)) + 1):
        clock.advance(timedelta(minutes=20))
        try:
            await auth.actor_for(session_token=busy.session_token)
        except NotAuthenticated:
            break
    else:
        pytest.fail("an active session outlived the absolute timeout")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/care?x=1", "/care?x=1"),
        ("https://evil.example", "/"),
        ("//evil.example", "/"),
        ("/\\evil", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
        ("/ok\r\nSet-Cookie: x", "/"),
    ],
)
def test_redirects_after_log_in_stay_on_this_site(target: str, expected: str) -> None:
    assert auth.safe_redirect(target) == expected


def test_production_hashes_passwords_with_argon2id_at_rfc_9106_strength() -> None:
    """The suite hashes cheaply (tests/conftest.py); a process that never swaps the hasher must not."""
    script = "import asyncio; from services.access import auth; print(asyncio.run(auth.hash_password('x' * 12)))"
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=Path(__file__).parents[1], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    used = argon2.extract_parameters(run.stdout.strip())
    floor = argon2.profiles.RFC_9106_LOW_MEMORY
    assert used.type is argon2.Type.ID
    assert used.memory_cost >= floor.memory_cost and used.time_cost >= floor.time_cost
    assert used.parallelism >= floor.parallelism and used.salt_len >= 16


async def test_an_unknown_address_costs_one_check_of_a_hash_with_the_hashers_own_parameters(db: str) -> None:
    """Even timing: a log-in for an address nobody holds verifies a password against a hash as costly as a
    member's, so how long the refusal takes does not tell whether the address has an account."""
    checked: list[str] = []

    class Watched(argon2.PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            checked.append(str(hash))
            return super().verify(hash, password)

    hasher = Watched.from_parameters(argon2.profiles.CHEAPEST)
    previous = auth.use_hasher(hasher)
    try:
        with pytest.raises(InvalidInput, match="do not match"):
            await auth.login(email="nobody@trust.org", password=PASSWORD, redirect_to="/", client="c")
    finally:
        auth.use_hasher(previous)
    assert len(checked) == 1
    assert argon2.extract_parameters(checked[0]) == argon2.extract_parameters(hasher.hash(PASSWORD))


async def test_hashes_made_before_a_hasher_swap_still_verify(db: str) -> None:
    strong = auth.PRODUCTION_HASHER.hash(PASSWORD)
    await factories.member("nurse@trust.org", password_hash=strong)
    assert (await auth.login(email="nurse@trust.org", password=PASSWORD, redirect_to="/", client="c")).ticket
