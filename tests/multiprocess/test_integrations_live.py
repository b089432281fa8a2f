"""Issue 20's integrations driven over real HTTP against a running app: SCIM, the REST API and webhooks.

The set-up rows (owners, organisations, API tokens, a webhook endpoint) are written straight into the database;
everything else goes through the app's own HTTP surface, a real browser and a real receiver process.
"""

import base64
import email
import email.policy
import hashlib
import json
import re
import secrets
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher, profiles
from playwright.sync_api import Browser, expect

from tests.browser import helpers
from tests.multiprocess.conftest import PYTHON, AppProcess, SmtpSink, free_port, sql, wait_for
from tests.multiprocess.test_live_across_processes import browser  # noqa: F401  the module's Chromium fixture

pytestmark = [pytest.mark.multiprocess]

PASSWORD = "a long enough password"
NORTH, SOUTH = "North Trust", "South Trust"
PERMISSIONS = ["invite_staff", "view_staff_list", "view_patient_data"]
SCIM_JSON = {"Content-Type": "application/scim+json"}
ACCEPT_LINK = re.compile(r"https?://[^\s\"'<>]+/accept/[A-Za-z0-9_.~-]+")


def link_for(sink: SmtpSink, address: str) -> str:
    """The invitation link of the latest message the address received ("" before one arrives)."""
    with sink.lock:
        contents = list(sink.contents.get(address, []))
    for content in reversed(contents):
        message = email.message_from_bytes(content, policy=email.policy.default)
        for part in message.walk():
            if part.get_content_maintype() == "text" and (found := ACCEPT_LINK.search(str(part.get_content()))):
                return found.group(0)
    return ""


@dataclass
class Place:
    organisation_id: int
    owner_assignment_id: int
    token: str
    expired_token: str


def create_owner_and_tokens(url: str, organisation: str, owner: str) -> Place:
    """An organisation, its Organisation Owner, a live token and an expired one made by that owner."""
    password_hash = PasswordHasher.from_parameters(profiles.CHEAPEST).hash(PASSWORD)
    organisation_id = sql(
        url, "INSERT INTO organisation (name, created_at) VALUES ($1, now()) RETURNING id", organisation
    )[0][0]
    member_id = sql(
        url,
        "INSERT INTO staff_member (email, full_name, password_hash, created_at, is_active) "
        "VALUES ($1, 'Olive Owner', $2, now(), true) RETURNING id",
        owner,
        password_hash,
    )[0][0]
    assignment_id = sql(
        url,
        "INSERT INTO role_assignment (member_id, role_id, level, organisation_id, scope_key, created_at) "
        "SELECT $1::int, id, 'organisation', $2::int, 'org:' || $2::int, now() FROM role "
        "WHERE key = 'organisation_owner' RETURNING id",
        member_id,
        organisation_id,
    )[0][0]
    live, expired = (_token(url, organisation_id, member_id, days) for days in (30, -1))
    return Place(int(organisation_id), int(assignment_id), live, expired)


def _token(url: str, organisation_id: int, member_id: int, days: int) -> str:
    raw = "ghk_" + secrets.token_urlsafe(32)
    sql(
        url,
        "INSERT INTO api_token (organisation_id, name, token_hash, prefix, permissions, created_by_id, created_at, "
        "expires_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6, now() - interval '2 days', "
        "now() + make_interval(days => $7::int))",
        organisation_id,
        f"Token {days}",
        _hash(raw),
        raw[:12],
        json.dumps(PERMISSIONS),
        member_id,
        days,
    )
    return raw


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _creator(url: str, place: Place) -> int:
    return int(sql(url, "SELECT member_id FROM role_assignment WHERE id = $1", place.owner_assignment_id)[0][0])


@pytest.fixture(scope="module")
def running(start_app: Callable[..., AppProcess], postgres_url: str) -> tuple[AppProcess, Place, Place]:
    app = start_app("A", GATEHOUSE_WEBHOOK_LOOPBACK="on")
    app.wait_healthy()
    north = create_owner_and_tokens(postgres_url, NORTH, "olive.owner@north.example.org")
    south = create_owner_and_tokens(postgres_url, SOUTH, "olive.owner@south.example.org")
    return app, north, south


def client(app: AppProcess, token: str) -> httpx.Client:
    return httpx.Client(base_url=app.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


@pytest.mark.browser
def test_a_scim_user_is_invited_accepts_and_deprovisioning_ends_the_open_session(
    running: tuple[AppProcess, Place, Place],
    smtp_sink: SmtpSink,
    browser: Browser,  # noqa: F811
) -> None:
    app, north, _ = running
    address = "scim.clinician@north.example.org"
    with client(app, north.token) as scim:
        created = scim.post(
            "/scim/v2/Users",
            headers=SCIM_JSON,
            json={
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": address,
                "active": True,
                "emails": [{"value": address, "primary": True}],
                "roles": [{"value": "Clinician"}],
            },
        )
        assert created.status_code == 201, created.text
        user_id = created.json()["id"]
        wait_for(lambda: bool(link_for(smtp_sink, address)), timeout=10, message=lambda: "no invitation email")

        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        helpers.create_account(page, link_for(smtp_sink, address), "Sam Clinician", address)  # and the app it needs
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        helpers.pass_second_factor(page, address)
        expect(page).not_to_have_url(re.compile(r"/login"), timeout=10_000)
        signed_in_at = page.url

        ended = scim.patch(
            f"/scim/v2/Users/{user_id}",
            headers=SCIM_JSON,
            json={
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
            },
        )
        assert ended.status_code in (200, 204), ended.text
        expect(page).to_have_url(re.compile(r"/login"), timeout=10_000)  # the open page left by itself
        page.goto(signed_in_at)  # and its cookie opens nothing any more
        expect(page).to_have_url(re.compile(r"/login"))
        assert scim.get(f"/scim/v2/Users/{user_id}").json()["active"] is False  # a User until the provider deletes it


def pending(api: httpx.Client) -> list[tuple[int, str]]:
    answer = api.get("/api/v1/invitations", params={"page_size": 100})
    assert answer.status_code == 200, answer.text
    return sorted((item["id"], item["email"]) for item in answer.json()["items"])


def test_the_rest_api_invites_lists_and_refuses_bad_input_changing_nothing(
    running: tuple[AppProcess, Place, Place], smtp_sink: SmtpSink, postgres_url: str
) -> None:
    app, north, south = running
    addresses = [f"rest.{n}@north.example.org" for n in range(3)]
    with client(app, north.token) as api:
        roles = {role["name"]: role for role in api.get("/api/v1/roles").json()}
        assert roles["Clinician"]["grantable"], roles["Clinician"]
        sent = api.post("/api/v1/invitations", json={"addresses": addresses, "role_id": roles["Clinician"]["id"]})
        assert sent.status_code == 200, sent.text
        assert sorted(sent.json()["invited"]) == addresses, sent.json()
        wait_for(
            lambda: all(smtp_sink.count(a)[1] == 1 for a in addresses),
            timeout=10,
            message=lambda: f"the invitation emails did not all arrive: {smtp_sink.received}",
        )
        before = pending(api)
        assert {email for _, email in before} >= set(addresses)

        bad_json = api.post(
            "/api/v1/invitations", content=b'{"addresses": ', headers={"Content-Type": "application/json"}
        )
        assert bad_json.status_code == 422, bad_json.text
        assert bad_json.headers["content-type"].startswith("application/problem+json")
        assert api.get("/api/v1/invitations", params={"sort": "no-such-sort"}).status_code == 422
        owner_role = sql(postgres_url, "SELECT id FROM role WHERE key = 'organisation_owner'")[0][0]
        too_high = api.post(
            "/api/v1/invitations", json={"addresses": ["boss@north.example.org"], "role_id": owner_role}
        )
        assert too_high.status_code == 403, too_high.text
        assert pending(api) == before

    revoked = _token(postgres_url, north.organisation_id, _creator(postgres_url, north), 30)
    sql(postgres_url, "UPDATE api_token SET revoked_at = now() WHERE token_hash = $1", _hash(revoked))
    for token in (north.expired_token, revoked):
        with client(app, token) as refused:
            answer = refused.post("/api/v1/invitations", json={"addresses": ["x@north.example.org"], "role_id": 1})
            assert answer.status_code == 401, answer.text
            assert "WWW-Authenticate" in answer.headers
    with client(app, south.token) as stranger:
        removal = stranger.delete(f"/api/v1/staff/{north.owner_assignment_id}")
        assert removal.status_code in (403, 404), removal.text
    with client(app, north.token) as api:
        assert pending(api) == before
    assert (
        sql(postgres_url, "SELECT ended_at FROM role_assignment WHERE id = $1", north.owner_assignment_id)[0][0] is None
    )
    assert all(smtp_sink.count(a)[1] == 1 for a in addresses)  # the refused calls sent nothing more


RECEIVER = """
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from standardwebhooks import Webhook

secret, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        try:
            line = {"verified": Webhook(secret).verify(body, {k.lower(): v for k, v in self.headers.items()})}
        except Exception as error:
            line = {"refused": str(error)}
        self.send_response(204 if "verified" in line else 400)
        self.end_headers()
        with open(out, "a") as file:
            file.write(json.dumps(line) + "\\n")

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", port), Receiver).serve_forever()
"""


def test_a_receiver_process_verifies_the_signed_invitation_sent_event(
    running: tuple[AppProcess, Place, Place], postgres_url: str, tmp_path: Path
) -> None:
    app, _, south = running
    secret, port, out = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(), free_port(), tmp_path / "heard"
    receiver = subprocess.Popen([str(PYTHON), "-c", RECEIVER, secret, str(port), str(out)])
    try:
        wait_for(lambda: _listening(port), timeout=10, message=lambda: "the receiver did not start")
        sql(
            postgres_url,
            "INSERT INTO webhook_endpoint (organisation_id, url, description, event_types, secret, created_at) "
            "VALUES ($1, $2, 'receiver', $3::jsonb, $4, now())",
            south.organisation_id,
            f"http://127.0.0.1:{port}/hook",
            json.dumps(["invitation.sent"]),
            secret,
        )
        address = "hooked.clinician@south.example.org"
        with client(app, south.token) as api:
            clinician = next(role for role in api.get("/api/v1/roles").json() if role["name"] == "Clinician")
            sent = api.post("/api/v1/invitations", json={"addresses": [address], "role_id": clinician["id"]})
            assert sent.status_code == 200 and sent.json()["invited"] == [address], sent.text

        def heard() -> list[dict[str, Any]]:
            return [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []

        wait_for(
            lambda: bool(heard()), timeout=15, message=lambda: f"no delivery reached the receiver:\n{app.output()}"
        )
        [line] = heard()  # one delivery, verified by the receiver with the endpoint's secret
        assert "verified" in line, line
        assert (line["verified"]["type"], line["verified"]["data"]["email"]) == ("invitation.sent", address)
        forged = {
            "webhook-id": "msg_forged",
            "webhook-timestamp": str(int(time.time())),
            "webhook-signature": "v1,AAAA",
        }
        assert httpx.post(f"http://127.0.0.1:{port}/hook", content=b"{}", headers=forged).status_code == 400
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
