"""Addresses as a hospital's staff have them: thousands of domains, a few large trusts and a long tail of practices,
some internationalised. For the list benchmarks (bench/lists_common.py) and the import (bench/bulk_import.py)."""

import random

FIRST = (
    "ann",
    "bob",
    "carla",
    "dev",
    "eve",
    "femi",
    "gita",
    "hugo",
    "ines",
    "jon",
    "kai",
    "lena",
    "mo",
    "nia",
    "oscar",
    "priya",
    "quinn",
    "rosa",
    "sven",
    "tomas",
    "una",
    "vik",
    "wen",
    "yusuf",
    "zoe",
    "jose",
    "chloe",
)
LAST = (
    "smith",
    "jones",
    "patel",
    "okafor",
    "garcia",
    "kowalski",
    "nguyen",
    "murphy",
    "schmidt",
    "ali",
    "brown",
    "khan",
    "wilson",
    "evans",
    "rossi",
    "muller",
    "dubois",
    "silva",
    "novak",
    "kim",
    "ahmed",
    "taylor",
    "lee",
)
PLACES = (
    "north",
    "south",
    "east",
    "west",
    "city",
    "royal",
    "county",
    "valley",
    "bay",
    "lake",
    "hill",
    "park",
    "river",
    "green",
    "saint",
    "bridge",
    "forest",
    "harbour",
    "moor",
    "dale",
)
KINDS = ("health", "hospital", "clinic", "care", "gp", "trust", "research", "univ", "labs", "medical")
TLDS = ("nhs.example", "example", "example.org", "example.net", "example.co.uk", "example.de", "example.fr")
IDN = ("münchen.example", "kärnten.example", "zürich.example")


def varied_addresses(count: int, *, domains: int = 4_000, seed_value: int = 17, punycode: bool = True) -> list[str]:
    """count distinct lower-case addresses over thousands of domains, a few of them internationalised: in punycode
    as stored (the lists), or as people type them (an import's CSV, punycode=False)."""
    rng = random.Random(seed_value)
    names = [
        f"{PLACES[n % len(PLACES)]}-{KINDS[n // len(PLACES) % len(KINDS)]}{n // 200 or ''}.{TLDS[n % len(TLDS)]}"
        for n in range(domains - len(IDN))
    ] + [f"klinik.{name.encode('idna').decode() if punycode else name}" for name in IDN]
    weights = [1 / (1 + n) ** 0.8 for n in range(len(names))]  # a few large trusts, a long tail of practices
    chosen = rng.choices(names, weights=weights, k=count)
    return [f"{rng.choice(FIRST)}.{rng.choice(LAST)}{n}@{domain}" for n, domain in enumerate(chosen)]
