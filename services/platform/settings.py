"""One settings model: every GATEHOUSE_* variable the app reads (field `port` is GATEHOUSE_PORT), checked at start."""

import ipaddress
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from pydantic import AliasGenerator, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite://gatehouse.sqlite3"
TLS_MODES = ("none", "starttls", "tls")
DEFAULT_HOST = "127.0.0.1"
LOG_FORMATS = ("plain", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_HOSTNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
# The whole numbers besides the ports, with the range each may take.
_RANGES = {
    "mail_lease_seconds": (2, 3600),
    "retention_days": (1, 36500),
    "housekeeping_seconds": (1, 3600),
    "gc_freeze_seconds": (0, 3600),
}


class SettingsError(ValueError):
    """The configuration cannot work; the message says what to change."""


class Settings(BaseSettings):
    """The settings in force: read once at start, then passed around as a frozen value."""

    # Fields are validated in this order, so a default may depend on the fields above it, and of several
    # refusals the first in this order is reported (TLS mode, port, base URL, secret, ...), as it always was.
    model_config = SettingsConfigDict(
        alias_generator=AliasGenerator(validation_alias=lambda name: f"GATEHOUSE_{name.upper()}"),
        frozen=True,
        case_sensitive=True,
        env_ignore_empty=True,
        extra="ignore",
        use_attribute_docstrings=True,  # each field's docstring is its description
    )

    database_url: str = DEFAULT_DATABASE_URL
    """Tortoise URL: sqlite://path/file.sqlite3 or postgres://user:pass@host:5432/db."""
    smtp_host: str | None = None
    """The SMTP relay; unset: the embedded sink and the mailbox page."""
    smtp_tls: str = Field(default="", validate_default=True)
    """none, starttls or tls; starttls when a relay is set, none for the embedded sink."""
    port: int = 8080
    """The HTTP port."""
    base_url: str = Field(default="", validate_default=True)
    """The only origin in emailed links and whose pages may open a socket; http://localhost:<port> by default."""
    secret: str = Field(default="", validate_default=True, repr=False)
    """The key links and sessions derive from; required unless on the embedded default (then .gatehouse-secret)."""
    smtp_port: int = Field(default=None, validate_default=True)
    """The relay's port: 465 with tls, else 587 with a relay, 0 (any free port) for the embedded sink."""
    smtp_username: str | None = None
    """The relay login."""
    smtp_password: str | None = Field(default=None, repr=False)
    """The relay password."""
    mail_from: str = "gatehouse@localhost"
    """The sender address."""
    admin_email: str = "admin@localhost"
    """The first Super Admin's address, invited on an empty database."""
    host: str = DEFAULT_HOST
    """The interface to listen on: loopback unless the operator names another."""
    mail_rate: float | None = None
    """Messages per second to the relay; unset or 0: as fast as it accepts them."""
    log_format: str = "plain"
    """plain lines, or json (one object per line)."""
    log_level: str = "INFO"
    """DEBUG, INFO, WARNING or ERROR."""
    mail_lease_seconds: int = 60
    """A claimed email whose worker vanished is sent by another after this."""
    retention_days: int = 90
    """Finished invitations (accepted, deleted, expired) and sent or failed emails are purged after this."""
    housekeeping_seconds: int = 60
    """The longest pause between housekeeping passes."""
    gc_freeze_seconds: int = 60
    """How often services/platform/collector.py freezes long-lived objects; 0: Python's own schedule."""
    mail_worker: bool = True
    """off: this process sends no mail (another must)."""
    housekeeping: bool = True
    """off: this process runs no housekeeping (another must)."""
    webhook_worker: bool = True
    """off: this process delivers no webhooks (another must)."""
    webhook_loopback: bool = False
    """on: webhook endpoints may be plain http on this machine (127.0.0.1, localhost): tests and development only."""
    sso_loopback: bool = False
    """on: single sign-on issuers may be plain http on this machine (localhost, 127.0.0.1): tests and development."""
    smtp_sink: bool = True
    """off: no embedded mail sink even without a relay (tests, which need no SMTP port)."""
    static_cache: bool = False
    """on: NiceGUI's scripts and styles gzipped once and kept (services/web/static_cache.py); off: NiceGUI's gzip."""
    ws_compression: bool = False
    """on: page sockets accept the browser's permessage-deflate (about 260 KB more per open page); off: plain frames."""
    reads_environment: ClassVar[bool] = True

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The process environment only (never a .env file or secrets folder); _Given: only the values passed in."""
        return (init_settings, env_settings) if cls.reads_environment else (init_settings,)

    @property
    def embedded_mail(self) -> bool:
        """True when mail goes to the built-in sink and the mailbox page."""
        return self.smtp_host is None

    def link(self, path: str) -> str:
        """An absolute URL on the configured origin, whatever Host a request carried."""
        return self.base_url + path

    @field_validator("smtp_tls")
    @classmethod
    def _tls(cls, value: str, info: ValidationInfo) -> str:
        mode = (value or ("starttls" if info.data.get("smtp_host") else "none")).lower()
        if mode not in TLS_MODES:
            raise ValueError(f"GATEHOUSE_SMTP_TLS must be one of {', '.join(TLS_MODES)}, not {mode!r}")
        return mode

    @field_validator("port", "smtp_port", mode="before")
    @classmethod
    def _port(cls, value: Any, info: ValidationInfo) -> int:
        if value is None:  # unset: the relay port follows the TLS mode
            tls = info.data.get("smtp_tls")
            return 465 if tls == "tls" else 587 if info.data.get("smtp_host") else 0
        number = _whole(value, info)
        if not 0 <= number <= 65535:
            raise ValueError(f"{_name(info)} must be a port number between 0 and 65535")
        return number

    @field_validator("base_url")
    @classmethod
    def _origin(cls, value: str, info: ValidationInfo) -> str:
        base_url = (value or f"http://localhost:{info.data.get('port', 8080)}").rstrip("/")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
            raise ValueError(
                f"GATEHOUSE_BASE_URL must be an origin such as https://portal.example.org, not {base_url!r}"
            )
        return base_url

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str, info: ValidationInfo) -> str:
        if value:
            if len(value) < 32:
                raise ValueError("GATEHOUSE_SECRET must be at least 32 characters long")
            return value
        database_url = info.data.get("database_url", DEFAULT_DATABASE_URL)
        if info.data.get("smtp_host") is not None or not database_url.startswith("sqlite://"):
            raise ValueError(
                "GATEHOUSE_SECRET is required when a real database or SMTP relay is configured: "
                "set it to a long random value, for example the output of "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        return _local_secret(database_url)

    @field_validator("host", mode="before")
    @classmethod
    def _host(cls, value: str) -> str:
        raw = value.strip()
        candidate = raw.removeprefix("[").removesuffix("]")
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            if _HOSTNAME.fullmatch(candidate):
                return candidate
        raise ValueError(f"GATEHOUSE_HOST must be an interface address such as 127.0.0.1 or 0.0.0.0, not {raw!r}")

    @field_validator("mail_rate", mode="before")
    @classmethod
    def _rate(cls, value: Any) -> float | None:
        if value is None:
            return None
        try:
            rate = float(value)
        except ValueError:
            raise ValueError(f"GATEHOUSE_MAIL_RATE must be a number of messages per second, not {value!r}") from None
        if not 0 <= rate < float("inf"):
            raise ValueError("GATEHOUSE_MAIL_RATE must be a number of messages per second (0 or unset: no limit)")
        return rate or None

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _log(cls, value: str, info: ValidationInfo) -> str:
        if info.field_name == "log_format":
            if (chosen := value.lower()) not in LOG_FORMATS:
                raise ValueError(f"GATEHOUSE_LOG_FORMAT must be plain or json, not {chosen!r}")
        elif (chosen := value.upper()) not in LOG_LEVELS:
            raise ValueError(f"GATEHOUSE_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {chosen!r}")
        return chosen

    @field_validator(*_RANGES, mode="before")
    @classmethod
    def _number(cls, value: Any, info: ValidationInfo) -> int:
        number = _whole(value, info)
        low, high = _RANGES[str(info.field_name)]
        if not low <= number <= high:
            raise ValueError(f"{_name(info)} must be between {low} and {high}")
        return number

    @field_validator("static_cache", "ws_compression", "webhook_loopback", "sso_loopback", mode="before")
    @classmethod
    def _on_or_off(cls, value: Any, info: ValidationInfo) -> bool:
        if isinstance(value, bool) or (chosen := str(value).lower()) in ("on", "off"):
            return value if isinstance(value, bool) else chosen == "on"
        raise ValueError(f"{_name(info)} must be on or off, not {value!r}")

    @field_validator("mail_worker", "housekeeping", "smtp_sink", "webhook_worker", mode="before")
    @classmethod
    def _switch(cls, value: Any) -> bool:
        return value is not False and value != "off"  # anything but "off" leaves the part on, as it always has


def _name(info: ValidationInfo) -> str:
    """The environment variable a field is read from."""
    return str(Settings.model_fields[str(info.field_name)].validation_alias)


def _whole(value: Any, info: ValidationInfo) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{_name(info)} must be a whole number, not {value!r}") from None


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


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings (the environment, or only `env`); raise SettingsError with a clear message."""
    try:
        if env is None:
            return Settings()
        given: dict[str, Any] = {name: value for name, value in env.items() if value and name.startswith("GATEHOUSE_")}
        return Settings.model_construct(**_Given(**given).model_dump())  # validated once, by _Given
    except ValidationError as problem:
        raise SettingsError(_first_message(problem)) from None


class _Given(Settings):
    """The same model validated from given values alone (tests, benchmarks): no environment variable is read."""

    reads_environment: ClassVar[bool] = False


def _first_message(problem: ValidationError) -> str:
    """The message our validators wrote for the first refused variable, without pydantic's framing."""
    error = problem.errors()[0]
    if cause := error.get("ctx", {}).get("error"):
        return str(cause)
    return f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"


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
