"""Passkeys (issue 21 item 1) against a software authenticator (tests/passkey_authenticator.py: a real P-256 key
signing real client and authenticator data): registration and proof, and every way an answer must be refused."""

import asyncio
import hashlib
import json
from datetime import timedelta

import pytest

from models import AuditEvent, Passkey, PasskeyChallenge, StaffMember
from services.access import passkey_ceremony as ceremony
from services.access import passkeys
from services.access.passkeys import CeremonyCancelled, CeremonyFailed
from services.audit import sentences
from services.errors import FieldErrors, InvalidInput, NotFound
from services.platform import clock, settings
from tests import factories
from tests.conftest import TEST_SECRET
from tests.passkey_authenticator import SoftAuthenticator, unb64url

ORIGIN = "http://localhost:8080"  # the default base URL the tests run with


async def _registered(member_id: int, label: str = "Laptop") -> SoftAuthenticator:
    device = SoftAuthenticator()
    options = await passkeys.registration_options(member_id=member_id)
    await passkeys.finish_registration(member_id=member_id, answer=device.register(options, origin=ORIGIN), label=label)
    return device


async def test_a_member_registers_a_passkey_and_proves_it_with_it(db: str) -> None:
    ada = await factories.member("ada@example.org")
    device = SoftAuthenticator()
    options = json.loads(await passkeys.registration_options(member_id=ada.member_id))
    assert options["rp"] == {"id": "localhost", "name": "Gatehouse"} and options["user"]["name"] == "ada@example.org"
    assert "ada" not in options["user"]["id"]  # an opaque handle, never the address
    row = await passkeys.finish_registration(
        member_id=ada.member_id, answer=device.register(json.dumps(options), origin=ORIGIN), label="  Work laptop "
    )
    assert row.label == "Work laptop" and row.last_used_at is None
    assert [p.label for p in await passkeys.listed(actor=ada)] == ["Work laptop"]
    options_to_get = await passkeys.authentication_options(member_id=ada.member_id)
    used = await passkeys.finish_authentication(
        member_id=ada.member_id, answer=device.sign_in(options_to_get, origin=ORIGIN)
    )
    assert used.id == row.id and used.last_used_at is not None
    assert (await Passkey.get(id=row.id)).sign_count == 1
    assert await AuditEvent.filter(action="add_passkey", outcome="ok", target="Work laptop").count() == 1
    assert not await PasskeyChallenge.exists()  # both challenges spent


async def test_the_options_name_the_members_passkeys_so_one_device_is_not_added_twice(db: str) -> None:
    ada = await factories.member("ada@example.org")
    device = await _registered(ada.member_id)
    again = json.loads(await passkeys.registration_options(member_id=ada.member_id))
    proving = json.loads(await passkeys.authentication_options(member_id=ada.member_id))
    expected = ceremony.encode(device.credential_id)
    assert [c["id"] for c in again["excludeCredentials"]] == [expected]
    assert [c["id"] for c in proving["allowCredentials"]] == [expected]
    assert proving["rpId"] == "localhost"


async def test_a_replayed_registration_answer_is_refused(db: str) -> None:
    ada = await factories.member("ada@example.org")
    device = SoftAuthenticator()
    answer = device.register(await passkeys.registration_options(member_id=ada.member_id), origin=ORIGIN)
    await passkeys.finish_registration(member_id=ada.member_id, answer=answer, label="Laptop")
    with pytest.raises(CeremonyFailed, match="expired or was already used"):
        await passkeys.finish_registration(member_id=ada.member_id, answer=answer, label="Again")
    assert await Passkey.filter(member_id=ada.member_id).count() == 1


async def test_two_answers_racing_for_one_challenge_win_once(db: str) -> None:
    ada = await factories.member("ada@example.org")
    device = await _registered(ada.member_id)
    options = await passkeys.authentication_options(member_id=ada.member_id)
    challenge = unb64url(json.loads(options)["challenge"])
    stored = await PasskeyChallenge.get(member_id=ada.member_id)
    assert stored.challenge_hash == hashlib.sha256(challenge).hexdigest()  # only its hash is kept
    answer = device.sign_in(options, origin=ORIGIN)
    results = await asyncio.gather(
        *(passkeys.finish_authentication(member_id=ada.member_id, answer=answer) for _ in range(2)),
        return_exceptions=True,
    )
    assert sorted(type(result).__name__ for result in results) == ["CeremonyFailed", "PasskeyRow"]
    assert not await PasskeyChallenge.exists()


async def test_a_replayed_proof_is_refused_and_changes_nothing(db: str) -> None:
    ada = await factories.member("ada@example.org")
    device = await _registered(ada.member_id)
    answer = device.sign_in(await passkeys.authentication_options(member_id=ada.member_id), origin=ORIGIN)
    await passkeys.finish_authentication(member_id=ada.member_id, answer=answer)
    with pytest.raises(CeremonyFailed, match="expired or was already used"):
        await passkeys.finish_authentication(member_id=ada.member_id, answer=answer)
    assert (await Passkey.get(member_id=ada.member_id)).sign_count == 1


async def test_an_answer_made_on_another_origin_is_refused_and_audited(db: str) -> None:
    ada = await factories.member("ada@example.org")
    options = await passkeys.registration_options(member_id=ada.member_id)
    answer = SoftAuthenticator().register(options, origin="https://gatehouse.example.com")
    with pytest.raises(CeremonyFailed, match="could not be verified"):
        await passkeys.finish_registration(member_id=ada.member_id, answer=answer, label="Phished")
    assert not await Passkey.exists()
    refusal = await AuditEvent.get(action="add_passkey", outcome="refused")
    assert "origin" in refusal.detail["reason"]
    device = await _registered(ada.member_id)
    phished = device.sign_in(await passkeys.authentication_options(member_id=ada.member_id), origin="http://evil.test")
    with pytest.raises(CeremonyFailed, match="could not be verified"):
        await passkeys.finish_authentication(member_id=ada.member_id, answer=phished)
    assert await AuditEvent.filter(action="use_passkey", outcome="refused").count() == 1


async def test_a_signature_for_another_relying_party_is_refused(db: str) -> None:
    ada = await factories.member("ada@example.org")
    device = await _registered(ada.member_id)
    options = await passkeys.authentication_options(member_id=ada.member_id)
    with pytest.raises(CeremonyFailed, match="could not be verified"):
        await passkeys.finish_authentication(
            member_id=ada.member_id, answer=device.sign_in(options, origin=ORIGIN, rp_id="evil.test")
        )


async def test_a_challenge_is_bound_to_its_member(db: str) -> None:
    ada = await factories.member("ada@example.org")
    bob = await factories.member("bob@example.org")
    answer = SoftAuthenticator().register(await passkeys.registration_options(member_id=ada.member_id), origin=ORIGIN)
    with pytest.raises(CeremonyFailed, match="expired or was already used"):
        await passkeys.finish_registration(member_id=bob.member_id, answer=answer, label="Not mine")
    assert not await Passkey.exists()
    await passkeys.finish_registration(member_id=ada.member_id, answer=answer, label="Mine")  # still Ada's to spend


async def test_a_passkey_proves_only_its_own_member(db: str) -> None:
    ada = await factories.member("ada@example.org")
    bob = await factories.member("bob@example.org")
    adas_device = await _registered(ada.member_id)
    await _registered(bob.member_id)
    bobs_options = await passkeys.authentication_options(member_id=bob.member_id)
    with pytest.raises(CeremonyFailed, match="could not be verified"):
        await passkeys.finish_authentication(
            member_id=bob.member_id, answer=adas_device.sign_in(bobs_options, origin=ORIGIN)
        )
    refusal = await AuditEvent.get(action="use_passkey", outcome="refused")
    assert refusal.actor_email == "bob@example.org" and refusal.detail == {"reason": "not a passkey of this member"}


async def test_a_counter_that_goes_backwards_is_refused_as_a_copied_passkey(db: str) -> None:
    ada = await factories.member("ada@example.org")
    device = await _registered(ada.member_id)
    for _ in range(3):
        options = await passkeys.authentication_options(member_id=ada.member_id)
        await passkeys.finish_authentication(member_id=ada.member_id, answer=device.sign_in(options, origin=ORIGIN))
    device.counter = 1  # a copy of the key, made when the counter stood at 1
    options = await passkeys.authentication_options(member_id=ada.member_id)
    with pytest.raises(CeremonyFailed, match="counter went backwards"):
        await passkeys.finish_authentication(member_id=ada.member_id, answer=device.sign_in(options, origin=ORIGIN))
    assert (await Passkey.get(member_id=ada.member_id)).sign_count == 3
    assert (await AuditEvent.get(action="use_passkey", outcome="refused")).detail == {"reason": "sign count 2 after 3"}


async def test_a_challenge_expires(db: str) -> None:
    ada = await factories.member("ada@example.org")
    options = await passkeys.registration_options(member_id=ada.member_id)
    clock.advance(ceremony.CHALLENGE_LIFETIME + timedelta(seconds=1))
    with pytest.raises(CeremonyFailed, match="expired"):
        await passkeys.finish_registration(
            member_id=ada.member_id, answer=SoftAuthenticator().register(options, origin=ORIGIN), label=""
        )


async def test_a_cancelled_ceremony_says_so_and_drops_its_challenge(db: str) -> None:
    ada = await factories.member("ada@example.org")
    await passkeys.registration_options(member_id=ada.member_id)
    with pytest.raises(CeremonyCancelled, match="cancelled or timed out"):
        await passkeys.finish_registration(member_id=ada.member_id, answer={"error": "NotAllowedError"}, label="")
    assert not await PasskeyChallenge.exists()
    with pytest.raises(CeremonyCancelled, match="already holds a passkey"):
        await passkeys.finish_registration(member_id=ada.member_id, answer={"error": "InvalidStateError"}, label="")
    with pytest.raises(CeremonyFailed, match="could not be verified"):
        await passkeys.finish_registration(member_id=ada.member_id, answer={"credential": "junk"}, label="")


async def test_open_ceremonies_per_member_are_few(db: str) -> None:
    ada = await factories.member("ada@example.org")
    for _ in range(10):
        await passkeys.registration_options(member_id=ada.member_id)
    assert await PasskeyChallenge.filter(member_id=ada.member_id).count() == ceremony.PENDING_PER_MEMBER


async def test_a_name_too_long_is_refused_at_its_field_before_anything_is_spent(db: str) -> None:
    ada = await factories.member("ada@example.org")
    options = await passkeys.registration_options(member_id=ada.member_id)
    answer = SoftAuthenticator().register(options, origin=ORIGIN)
    with pytest.raises(FieldErrors) as refused:
        await passkeys.finish_registration(member_id=ada.member_id, answer=answer, label="x" * 81)
    assert list(refused.value.fields) == ["label"]
    row = await passkeys.finish_registration(member_id=ada.member_id, answer=answer, label="")
    assert row.label == "Passkey 1"


async def test_a_suspended_member_and_a_member_without_passkeys_get_no_ceremony(db: str) -> None:
    ada = await factories.member("ada@example.org")
    with pytest.raises(InvalidInput, match="no passkey yet"):
        await passkeys.authentication_options(member_id=ada.member_id)
    await StaffMember.filter(id=ada.member_id).update(is_active=False)
    with pytest.raises(InvalidInput, match="cannot be used"):
        await passkeys.registration_options(member_id=ada.member_id)


async def test_members_remove_only_their_own_passkeys_and_it_is_audited(db: str) -> None:
    ada = await factories.member("ada@example.org")
    bob = await factories.member("bob@example.org")
    await _registered(ada.member_id, "Ada's key")
    await _registered(bob.member_id, "Bob's key")
    bobs = (await passkeys.listed(actor=bob))[0]
    with pytest.raises(NotFound):
        await passkeys.remove(actor=ada, passkey_id=bobs.id)
    assert await AuditEvent.filter(action="remove_passkey", outcome="refused", actor_email="ada@example.org").exists()
    adas = (await passkeys.listed(actor=ada))[0]
    assert await passkeys.remove(actor=ada, passkey_id=adas.id) == "Ada's key"
    assert await passkeys.listed(actor=ada) == [] and await passkeys.has_passkey(member_id=bob.member_id)
    assert await AuditEvent.filter(action="remove_passkey", outcome="ok", target="Ada's key").exists()
    assert await passkeys.forget_all(member_id=bob.member_id) == 1 and not await Passkey.exists()


async def test_the_relying_party_is_the_configured_base_url(db: str) -> None:
    settings.configure(
        settings.load({"GATEHOUSE_BASE_URL": "https://portal.example.org", "GATEHOUSE_SECRET": TEST_SECRET})
    )
    ada = await factories.member("ada@example.org")
    options = await passkeys.registration_options(member_id=ada.member_id)
    assert json.loads(options)["rp"]["id"] == "portal.example.org"
    with pytest.raises(CeremonyFailed):
        await passkeys.finish_registration(
            member_id=ada.member_id, answer=SoftAuthenticator().register(options, origin=ORIGIN), label=""
        )
    options = await passkeys.registration_options(member_id=ada.member_id)
    answer = SoftAuthenticator().register(options, origin="https://portal.example.org")
    assert (await passkeys.finish_registration(member_id=ada.member_id, answer=answer, label="")).label == "Passkey 1"


async def test_the_audit_log_says_passkey_actions_as_sentences(db: str) -> None:
    ada = await factories.member("ada@example.org", full_name="Ada Admin")
    await _registered(ada.member_id, "Work laptop")
    with pytest.raises(NotFound):
        await passkeys.remove(actor=ada, passkey_id=999)
    events = await AuditEvent.filter(action__in=["add_passkey", "remove_passkey"]).order_by("id")
    names = await sentences.names_for(events)
    assert [sentences.sentence(event, names) for event in events] == [
        "Ada Admin added the passkey “Work laptop” to their account.",
        "Ada Admin tried to remove a passkey, and was refused (not their passkey).",
    ]
