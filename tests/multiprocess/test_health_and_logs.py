"""The health report behind /healthz, the JSON log lines, and the operational settings."""

import json
import logging
import sys
from datetime import timedelta

import pytest
from tortoise import Tortoise

from models import OutboxMessage, OutboxState
from services.mail.worker import MailWorker
from services.platform import health, logs
from services.platform.clock import now
from services.platform.settings import SettingsError, load


async def test_a_healthy_process_reports_its_queue_without_anything_secret(db: str) -> None:
    for minutes in (0, 5):
        at = now() - timedelta(minutes=minutes)
        await OutboxMessage.create(
            kind="role_notice", recipient=f"r{minutes}@example.org", link="https://x.example/accept/SECRET-TOKEN",
            state=OutboxState.QUEUED, next_attempt_at=at, created_at=at,
        )  # fmt: skip

    healthy, details = await health.report()

    assert healthy and details["status"] == "ok"
    checks = details["checks"]
    assert checks["database"]["ok"]
    assert checks["mail_worker"]["state"] == "off" and checks["mail_worker"]["queue_depth"] == 2
    assert checks["mail_worker"]["oldest_queued_seconds"] >= 300
    assert checks["events"] == {"ok": True, "transport": "in-process"}
    text = json.dumps(details)
    assert "SECRET-TOKEN" not in text and "example.org" not in text and "sqlite" not in text


async def test_a_mail_worker_that_is_not_running_makes_the_process_unhealthy(db: str) -> None:
    worker = MailWorker(load({"GATEHOUSE_SMTP_HOST": "127.0.0.1", "GATEHOUSE_SECRET": "x" * 40}))
    health.register(worker=worker, housekeeper=None)
    try:
        healthy, details = await health.report()
    finally:
        health.register(worker=None, housekeeper=None)
    assert not healthy and details["status"] == "failing"
    assert details["checks"]["mail_worker"]["state"] == "stopped"


async def test_an_unreachable_database_makes_the_process_unhealthy() -> None:
    assert not Tortoise._inited
    healthy, details = await health.report()
    assert not healthy
    assert details["checks"]["database"] == {"ok": False}


def test_json_log_lines_carry_time_level_logger_message_extras_and_the_exception() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("gatehouse.test").makeRecord(
            "gatehouse.test", logging.ERROR, __file__, 1, "sent %s", (3,), sys.exc_info(), extra={"batch": 7}
        )
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["level"] == "ERROR" and line["logger"] == "gatehouse.test" and line["message"] == "sent 3"
    assert line["batch"] == 7 and "ValueError: boom" in line["exception"] and line["time"].endswith("+00:00")


def test_operational_settings_have_defaults_and_refuse_what_cannot_work() -> None:
    defaults = load({})
    assert (defaults.log_format, defaults.log_level, defaults.mail_lease_seconds) == ("plain", "INFO", 60)
    assert (defaults.retention_days, defaults.housekeeping_seconds, defaults.gc_freeze_seconds) == (90, 60, 60)
    chosen = load({"GATEHOUSE_LOG_FORMAT": "JSON", "GATEHOUSE_MAIL_LEASE_SECONDS": "5"})
    assert chosen.log_format == "json" and chosen.mail_lease_seconds == 5
    for name, value in (
        ("GATEHOUSE_LOG_FORMAT", "xml"),
        ("GATEHOUSE_LOG_LEVEL", "loud"),
        ("GATEHOUSE_MAIL_LEASE_SECONDS", "1"),
        ("GATEHOUSE_RETENTION_DAYS", "soon"),
    ):
        with pytest.raises(SettingsError, match=name):
            load({name: value})
