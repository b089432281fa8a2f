"""Verify the audit trail's hash chain: `python -m services.audit.verify` (the database of GATEHOUSE_DATABASE_URL).

Prints how many events fit the chain and its head hash (write it down elsewhere to catch the newest events being
removed), or the first event that does not fit and why; exits 1 then, 2 when the settings are unusable.
"""

import asyncio
import sys

from services.audit import chain
from services.platform import settings
from services.platform.database import connected


async def check(database_url: str) -> chain.Verdict:
    """Open the database (migrated), seal what is waiting, and verify the chain."""
    async with connected(database_url):
        await chain.seal()
        return await chain.verify()


def main() -> int:
    """Run the check and say what it found."""
    try:
        config = settings.load()
    except settings.SettingsError as problem:
        print(f"Cannot verify the audit trail: {problem}", file=sys.stderr)
        return 2
    verdict = asyncio.run(check(config.database_url))
    if not verdict.intact:
        print(f"BROKEN at audit event {verdict.broken_at}: {verdict.reason}.")
        print(f"The {verdict.checked:,} events before it fit the chain (hash {verdict.head}).")
        return 1
    print(f"Intact: {verdict.checked:,} audit events fit the chain. Head hash: {verdict.head}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
