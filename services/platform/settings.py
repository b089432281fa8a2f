"""One settings object, read from the GATEHOUSE_* environment variables and validated at start."""

import ipaddress
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "sqlite://gatehouse.sqlite3"
TLS_MODES = ("none", "starttls", "tls")
DEFAULT_HOST = "127.0.0.1"
_HOSTNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


class SettingsError(ValueError):
    """The configuration cannot work; the message says what to change."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    smtp_host: str | None
    smtp_port: int
    smtp_username: str | None
    smtp_password: str | None
    smtp_tls: str
    mail_from: str
    base_url: str
    secret: str
    admin_email: str
    port: int
    host: str = DEFAULT_HOST  # the interface to listen on: loopback unless the operator names another
    mail_rate: float | None = None  # messages per second to the relay; None: as fast as it accepts them

    @property
    def embedded_mail(self) -> bool:
        """True when mail goes to the built-in sink and the mailbox page."""
        return self.smtp_host is None

    def link(self, path: str) -> str:
        """An absolute URL on the configured origin, whatever Host a request carried."""
        return self.base_url + path


def load(env: dict[str, str] | None = None) -> Settings:
    """Read and validate the settings; raise SettingsError with a clear message."""
    env = dict(os.environ if env is None else env)
    database_url = env.get("GATEHOUSE_DATABASE_URL") or DEFAULT_DATABASE_URL
    smtp_host = env.get("GATEHOUSE_SMTP_HOST") or None
    smtp_tls = (env.get("GATEHOUSE_SMTP_TLS") or ("starttls" if smtp_host else "none")).lower()
    if smtp_tls not in TLS_MODES:
        raise SettingsError(f"GATEHOUSE_SMTP_TLS must be one of {', '.join(TLS_MODES)}, not {smtp_tls!r}")
    port = _int(env, "GATEHOUSE_PORT", 8080)
    base_url = (env.get("GATEHOUSE_BASE_URL") or f"http://localhost:{port}").rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
        raise SettingsError(
            f"GATEHOUSE_BASE_URL must be an origin such as https://portal.example.org, not {base_url!r}"
        )
    embedded = smtp_host is None and database_url.startswith("sqlite://")
    secret = env.get("GATEHOUSE_SECRET") or ""
    if not secret:
        if not embedded:
            raise SettingsError(
                "GATEHOUSE_SECRET is required when a real database or SMTP relay is configured: "
                "set it to a long random value, for example the output of "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        secret = _local_secret(database_url)
    elif len(secret) < 32:
        raise SettingsError("GATEHOUSE_SECRET must be at least 32 characters long")
    return Settings(
        database_url=database_url,
        smtp_host=smtp_host,
        smtp_port=_int(env, "GATEHOUSE_SMTP_PORT", 465 if smtp_tls == "tls" else 587 if smtp_host else 0),
        smtp_username=env.get("GATEHOUSE_SMTP_USERNAME") or None,
        smtp_password=env.get("GATEHOUSE_SMTP_PASSWORD") or None,
        smtp_tls=smtp_tls,
        mail_from=env.get("GATEHOUSE_MAIL_FROM") or "gatehouse@localhost",
        base_url=base_url,
        secret=secret,
        admin_email=env.get("GATEHOUSE_ADMIN_EMAIL") or "admin@localhost",
        port=port,
        host=_host(env),
        mail_rate=_rate(env, "GATEHOUSE_MAIL_RATE"),
    )


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if not 0 <= value <= 65535:
        raise SettingsError(f"{name} must be a port number between 0 and 65535")
    return value


def _host(env: dict[str, str]) -> str:
    raw = (env.get("GATEHOUSE_HOST") or DEFAULT_HOST).strip()
    candidate = raw.removeprefix("[").removesuffix("]")
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        if _HOSTNAME.fullmatch(candidate):
            return candidate
    raise SettingsError(f"GATEHOUSE_HOST must be an interface address such as 127.0.0.1 or 0.0.0.0, not {raw!r}")


def _rate(env: dict[str, str], name: str) -> float | None:
    raw = env.get(name)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of messages per second, not {raw!r}") from None
    if not 0 <= value < float("inf"):
        raise SettingsError(f"{name} must be a number of messages per second (0 or unset: no limit)")
    return value or None


def _local_secret(database_url: str) -> str:
    """Generate a secret once and keep it beside the SQLite database file."""
    path_part = database_url.removeprefix("sqlite://")
    if path_part in ("", ":memory:"):
        return secrets.token_urlsafe(48)
    secret_file = Path(path_part).expanduser().resolve().parent / ".gatehouse-secret"
    if secret_file.exists():
        return secret_file.read_text().strip()
    secret = secrets.token_urlsafe(48)
    secret_file.parent.mkdir(parents=True, exist_ok=True)
    secret_file.touch(mode=0o600)
    secret_file.write_text(secret)
    return secret


_current: Settings | None = None


def configure(settings: Settings) -> None:
    """Make these the settings the services use (called once at start, and by tests)."""
    global _current
    _current = settings


def current() -> Settings:
    """The settings in force; loaded from the environment on first use."""
    global _current
    if _current is None:
        _current = load()
    return _current
