"""Recovery codes: ten single-use codes shown once when a factor is enrolled; only their SHA-256 is stored (each
holds 60 random bits, so a hash is enough, and they do not depend on GATEHOUSE_SECRET)."""

import hashlib
import secrets

from tortoise.backends.base.client import BaseDBAsyncClient

from models import RecoveryCode
from services.platform.clock import now

COUNT = 10
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read from paper without mistakes
GROUPS, GROUP = 3, 4


def new_codes() -> list[str]:
    """COUNT fresh codes, as shown: XXXX-XXXX-XXXX."""
    return [
        "-".join("".join(secrets.choice(ALPHABET) for _ in range(GROUP)) for _ in range(GROUPS)) for _ in range(COUNT)
    ]


def looks_like_one(code: str) -> bool:
    """Could the text be a recovery code (as typed: any case, with or without dashes and spaces)?"""
    clean = _clean(code)
    return len(clean) == GROUPS * GROUP and all(ch in ALPHABET for ch in clean)


async def store(*, member_id: int, codes: list[str], connection: BaseDBAsyncClient) -> None:
    """Replace the member's recovery codes with these (their hashes)."""
    await RecoveryCode.filter(member_id=member_id).using_db(connection).delete()
    rows = [RecoveryCode(member_id=member_id, code_hash=_hash(code)) for code in codes]
    await RecoveryCode.bulk_create(rows, using_db=connection)


async def spend(*, member_id: int, code: str) -> bool:
    """Use one of the member's unused codes; False when it is not one (or was used already)."""
    if not looks_like_one(code):
        return False
    used = await RecoveryCode.filter(member_id=member_id, code_hash=_hash(code), used_at=None).update(used_at=now())
    return bool(used)


async def left(*, member_id: int) -> int:
    """How many unused codes the member has."""
    return await RecoveryCode.filter(member_id=member_id, used_at=None).count()


def _clean(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch not in " -\u00a0\t")


def _hash(code: str) -> str:
    return hashlib.sha256(_clean(code).encode("ascii", "replace")).hexdigest()
