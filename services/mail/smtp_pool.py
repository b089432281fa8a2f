"""SMTP connections for the mail worker: a few reused connections, and what a failed send means."""

import asyncio
import logging
import socket
from contextlib import suppress

import aiosmtplib

from services.mail import sink as mail_sink
from services.platform.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0  # seconds per SMTP operation (aiosmtplib's timeout is per command, not per message)


class SmtpPool:
    """A fixed number of slots, each holding at most one open connection to the relay (or the embedded sink)."""

    def __init__(self, settings: Settings, *, size: int, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.settings = settings
        self.timeout = timeout
        self._slots: list[aiosmtplib.SMTP | None] = [None] * max(1, size)
        self._local_hostname: str | None = None

    @property
    def size(self) -> int:
        return len(self._slots)

    def reusable(self, slot: int) -> aiosmtplib.SMTP | None:
        """The slot's open connection, if it still looks connected."""
        smtp = self._slots[slot]
        return smtp if smtp is not None and smtp.is_connected else None

    async def connect(self, slot: int) -> aiosmtplib.SMTP:
        """Open a fresh connection in the slot (closing whatever it held); raises whatever stopped it."""
        self.drop(slot)
        config = self.settings
        host, port = config.smtp_host, config.smtp_port
        sink = mail_sink.current()
        if host is None and sink is not None:
            host, port = sink.host, sink.port
        if self._local_hostname is None:
            self._local_hostname = await asyncio.to_thread(socket.getfqdn) if config.smtp_host else "localhost"
        smtp = aiosmtplib.SMTP(
            hostname=host or "127.0.0.1",
            port=port,
            username=config.smtp_username,
            password=config.smtp_password,
            use_tls=config.smtp_tls == "tls",
            start_tls=config.smtp_tls == "starttls",
            timeout=self.timeout,
            local_hostname=self._local_hostname,
        )
        try:
            await smtp.connect()
        except BaseException:
            smtp.close()
            raise
        self._slots[slot] = smtp
        return smtp

    def drop(self, slot: int) -> None:
        """Forget the slot's connection without a polite QUIT (it is broken or in an unknown state)."""
        smtp, self._slots[slot] = self._slots[slot], None
        if smtp is not None:
            smtp.close()

    async def close_all(self) -> None:
        """QUIT and close every open connection."""
        for slot, smtp in enumerate(self._slots):
            self._slots[slot] = None
            if smtp is not None and smtp.is_connected:
                with suppress(aiosmtplib.SMTPException, OSError):
                    await smtp.quit(timeout=min(5.0, self.timeout))
            if smtp is not None:
                smtp.close()


def classify(error: Exception) -> tuple[str, bool]:
    """The outcome of a failed send (retry or failed), and whether its connection is unusable."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return ("failed" if not error.recipients or error.recipients[0].code >= 500 else "retry"), False
    if isinstance(error, aiosmtplib.SMTPSenderRefused):
        return "retry", False  # our configuration is wrong, not this message: fixing it should still deliver
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return ("failed" if error.code >= 500 else "retry"), error.code == 421
    if isinstance(error, aiosmtplib.SMTPNotSupported | ValueError):
        return "failed", False
    if not isinstance(error, aiosmtplib.SMTPException | OSError):
        log.error("unexpected error while sending mail", exc_info=error)
    return "retry", True


def describe(error: BaseException) -> str:
    """A one-line reason fit for the outbox row, the invitation's delivery state and the audit log."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused) and error.recipients:
        error = error.recipients[0]
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return " ".join(f"{error.code} {error.message}".split())
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return " ".join(text.split())


class Throttle:
    """Spaces sends to at most rate_per_second across all connections (None: as fast as the relay takes them)."""

    def __init__(self, rate_per_second: float | None) -> None:
        self.rate_per_second = rate_per_second
        self._next_send_at = 0.0

    async def wait(self) -> None:
        """Return when the next send may start."""
        if not self.rate_per_second:
            return
        loop = asyncio.get_running_loop()
        slot_at = max(loop.time(), self._next_send_at)
        self._next_send_at = slot_at + 1 / self.rate_per_second
        if slot_at > loop.time():
            await asyncio.sleep(slot_at - loop.time())
