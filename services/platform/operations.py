"""Operational settings beside services/settings: logs, mail leases, housekeeping (GATEHOUSE_* variables)."""

import os
from dataclasses import dataclass

from services.platform.settings import SettingsError

LOG_FORMATS = ("plain", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class Operations:
    log_format: str = "plain"
    log_level: str = "INFO"
    mail_lease_seconds: int = 60  # a claimed email whose worker vanished is sent by another after this
    retention_days: int = 90  # finished invitations (accepted, deleted, expired) are purged after this
    housekeeping_seconds: int = 60  # the longest pause between housekeeping runs
    gc_freeze_seconds: int = 60  # services/platform/collector.py; 0: Python's own schedule
    static_cache: bool = False  # services/web/static_cache.py; off: NiceGUI's gzip at a low level, nothing kept


def load(env: dict[str, str] | None = None) -> Operations:
    """Read and validate the operational settings; raise SettingsError with a clear message."""
    env = dict(os.environ if env is None else env)
    log_format = (env.get("GATEHOUSE_LOG_FORMAT") or "plain").lower()
    if log_format not in LOG_FORMATS:
        raise SettingsError(f"GATEHOUSE_LOG_FORMAT must be plain or json, not {log_format!r}")
    log_level = (env.get("GATEHOUSE_LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise SettingsError(f"GATEHOUSE_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {log_level!r}")
    return Operations(
        log_format=log_format,
        log_level=log_level,
        mail_lease_seconds=_number(env, "GATEHOUSE_MAIL_LEASE_SECONDS", 60, low=2, high=3600),
        retention_days=_number(env, "GATEHOUSE_RETENTION_DAYS", 90, low=1, high=36500),
        housekeeping_seconds=_number(env, "GATEHOUSE_HOUSEKEEPING_SECONDS", 60, low=1, high=3600),
        gc_freeze_seconds=_number(env, "GATEHOUSE_GC_FREEZE_SECONDS", 60, low=0, high=3600),
        static_cache=_switch(env, "GATEHOUSE_STATIC_CACHE"),
    )


def _switch(env: dict[str, str], name: str) -> bool:
    raw = (env.get(name) or "off").lower()
    if raw not in ("on", "off"):
        raise SettingsError(f"{name} must be on or off, not {raw!r}")
    return raw == "on"


def _number(env: dict[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}")
    return value


_current: Operations | None = None


def configure(operations: Operations) -> None:
    """Make these the operational settings in force (called once at start, and by tests)."""
    global _current
    _current = operations


def current() -> Operations:
    """The operational settings in force; loaded from the environment on first use."""
    global _current
    if _current is None:
        _current = load()
    return _current
