"""Settings: validated at start, with working defaults and clear refusals."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.platform import settings
from services.platform.settings import SettingsError


def test_the_embedded_default_needs_nothing_and_keeps_its_generated_secret(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path}/gatehouse.sqlite3"
    first = settings.load({"GATEHOUSE_DATABASE_URL": url})
    again = settings.load({"GATEHOUSE_DATABASE_URL": url})
    assert first.embedded_mail and first.base_url == "http://localhost:8080" and first.port == 8080
    assert first.secret == again.secret and len(first.secret) >= 32
    assert (tmp_path / ".gatehouse-secret").stat().st_mode & 0o077 == 0


def test_a_production_looking_setup_without_a_secret_refuses_to_start() -> None:
    with pytest.raises(SettingsError, match="GATEHOUSE_SECRET is required"):
        settings.load({"GATEHOUSE_DATABASE_URL": "postgres://u:p@db:5432/gh"})
    with pytest.raises(SettingsError, match="GATEHOUSE_SECRET is required"):
        settings.load({"GATEHOUSE_SMTP_HOST": "smtp.example.org"})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("GATEHOUSE_SMTP_TLS", "ssl", "must be one of"),
        ("GATEHOUSE_BASE_URL", "https://portal.example.org/app", "must be an origin"),
        ("GATEHOUSE_BASE_URL", "javascript:alert(1)", "must be an origin"),
        ("GATEHOUSE_PORT", "eighty", "whole number"),
        ("GATEHOUSE_SECRET", "short", "at least 32"),
        ("GATEHOUSE_HOST", "0.0.0.0/0", "interface address"),
        ("GATEHOUSE_HOST", "evil host", "interface address"),
    ],
)
def test_impossible_values_are_refused_with_a_clear_message(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings.load({"GATEHOUSE_DATABASE_URL": "sqlite://:memory:", name: value})


def test_a_relay_defaults_to_starttls_on_587_and_links_use_the_base_url_only() -> None:
    config = settings.load(
        {
            "GATEHOUSE_SMTP_HOST": "smtp.example.org",
            "GATEHOUSE_SECRET": "x" * 40,
            "GATEHOUSE_BASE_URL": "https://gatehouse.example.org/",
        }
    )
    assert (config.smtp_tls, config.smtp_port) == ("starttls", 587)
    assert config.link("/accept/abc") == "https://gatehouse.example.org/accept/abc"


def test_gatehouse_listens_on_loopback_unless_the_operator_names_an_interface() -> None:
    assert settings.load({"GATEHOUSE_DATABASE_URL": "sqlite://:memory:"}).host == "127.0.0.1"
    for named, host in (
        ("0.0.0.0", "0.0.0.0"),  # noqa: S104  (the operator names every interface on purpose)
        ("[::]", "::"),
        ("::1", "::1"),
        ("gatehouse.internal", "gatehouse.internal"),
    ):
        assert settings.load({"GATEHOUSE_DATABASE_URL": "sqlite://:memory:", "GATEHOUSE_HOST": named}).host == host


def test_every_setting_is_one_documented_gatehouse_variable() -> None:
    for name, field in settings.Settings.model_fields.items():
        assert field.validation_alias == f"GATEHOUSE_{name.upper()}" and field.description, name


def test_the_environment_is_read_at_load_with_empty_values_meaning_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (
        ("GATEHOUSE_SMTP_HOST", ""),
        ("GATEHOUSE_PORT", "9000"),
        ("GATEHOUSE_LOG_LEVEL", "debug"),
        ("GATEHOUSE_MAIL_WORKER", "off"),
        ("GATEHOUSE_HOUSEKEEPING", "off"),
        ("GATEHOUSE_SMTP_SINK", "on"),
    ):
        monkeypatch.setenv(name, value)
    config = settings.load()
    assert config.embedded_mail and config.base_url == "http://localhost:9000" and config.log_level == "DEBUG"
    assert (config.mail_worker, config.housekeeping, config.smtp_sink) == (False, False, True)
    assert settings.load({}).port == 8080  # given values alone: the environment is not read
    monkeypatch.setenv("GATEHOUSE_LOG_FORMAT", "xml")
    with pytest.raises(SettingsError, match=r"^GATEHOUSE_LOG_FORMAT must be plain or json, not 'xml'$"):
        settings.load()


def test_importing_main_reads_no_setting_and_writes_no_file_until_the_app_starts(tmp_path: Path) -> None:
    script = """
import json, os
import main
imported = sorted(os.listdir("."))
os.environ["GATEHOUSE_PORT"] = "eighty"
try:
    main.start()
except SystemExit as refused:
    message = str(refused)
del os.environ["GATEHOUSE_PORT"]
main.start()
print(json.dumps([imported, message, sorted(os.listdir("."))]))
"""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("GATEHOUSE_", "NICEGUI_"))}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    imported, message, started = json.loads(done.stdout.strip().splitlines()[-1])
    assert imported == []
    assert message == "Gatehouse cannot start: GATEHOUSE_PORT must be a whole number, not 'eighty'"
    assert started == [".gatehouse-secret"]  # the embedded default's secret, beside the default SQLite file
