"""Verify the audit trail's hash chain: `python -m services.audit.verify` (the database of GATEHOUSE_DATABASE_URL).

Prints how many events fit the chain and its head hash (write it down elsewhere to catch the newest events being
removed), or the first event that does not fit and why; exits 1 then, 2 when the settings are unusable. It only reads:
it never migrates the database nor seals events (the app's housekeeping does, within a minute of their writing), so
events whose seal was cleared after an edit stay unsealed and are counted, with the time of the oldest.
"""

import asyncio
import sys

from services.audit import chain
from services.platform import settings
from services.platform.database import connected


async def check(database_url: str) -> chain.Verdict:
    """Open the database as it is (never migrated, nothing written) and verify the chain."""
    async with connected(database_url, migrated=False):
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
    if verdict.unsealed and verdict.oldest_unsealed is not None:
        print(
            f"Not sealed yet: {verdict.unsealed:,} audit events, the oldest written "
            f"{verdict.oldest_unsealed.isoformat(timespec='seconds')}. The app seals events within a minute of their "
            "writing; an older unsealed event was not sealed in time, or had its seal cleared (this command never "
            "seals)."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
