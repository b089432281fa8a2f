"""Uploads are refused while they stream: no session cookie, or a body over the CSV limit, never read whole."""

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import httpx
from fastapi import Request
from nicegui import core
from nicegui.testing import User

from services.access import auth
from services.web.upload_limit import MAX_UPLOAD_BYTES

PROBE = "/_nicegui/client/probe-client/upload/probe-upload"  # the shape of NiceGUI's ui.upload endpoint
FIFTY_MB = 50 * 1024 * 1024
CHUNK = 64 * 1024
MARGIN = 2 * CHUNK  # what the server may have pulled beyond the limit before it stopped


class Streamed:
    """A request body produced chunk by chunk, remembering how much of it the server pulled."""

    def __init__(self, size: int) -> None:
        self.size, self.pulled = size, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'
        self.pulled += len(head)
        yield head
        while self.pulled < self.size:
            chunk = b"a@example.org\n" * (CHUNK // 14)
            self.pulled += len(chunk)
            yield chunk


@contextmanager
def probe_route() -> Iterator[list[int]]:
    """A route that reads its multipart body as NiceGUI's upload route does; yields the sizes it received."""
    received: list[int] = []

    async def upload(request: Request) -> dict[str, str]:
        async with request.form() as form:
            for value in form.values():
                received.append(len(await value.read()) if hasattr(value, "read") else len(value))
        return {"upload": "success"}

    core.app.add_api_route(PROBE, upload, methods=["POST"])
    try:
        yield received
    finally:
        core.app.remove_route(PROBE)


def client(*, signed_in: bool) -> httpx.AsyncClient:
    cookies = {auth.SESSION_COOKIE: "any-value-the-route-checks-later"} if signed_in else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(core.app), base_url="http://test", cookies=cookies)


MULTIPART = {"content-type": "multipart/form-data; boundary=b"}


async def test_an_upload_without_a_session_cookie_is_refused_before_its_body_is_read(user: User) -> None:
    body = Streamed(FIFTY_MB)
    with probe_route() as received:
        async with client(signed_in=False) as http:
            response = await http.post(PROBE, content=body, headers=MULTIPART)
    assert response.status_code == 403
    assert body.pulled <= CHUNK and received == []


async def test_a_chunked_upload_over_the_limit_is_refused_as_soon_as_it_passes_the_limit(user: User) -> None:
    body = Streamed(FIFTY_MB)
    with probe_route() as received:
        async with client(signed_in=True) as http:
            response = await http.post(PROBE, content=body, headers=MULTIPART)
    assert response.status_code == 413 and "larger than 10 MB" in response.text
    assert MAX_UPLOAD_BYTES < body.pulled <= MAX_UPLOAD_BYTES + MARGIN and received == []


async def test_an_upload_declaring_a_length_over_the_limit_is_refused_before_its_body_is_read(user: User) -> None:
    body = Streamed(FIFTY_MB)
    with probe_route() as received:
        async with client(signed_in=True) as http:
            headers = MULTIPART | {"content-length": str(FIFTY_MB)}
            response = await http.post(PROBE, content=body, headers=headers)
    assert response.status_code == 413
    assert body.pulled <= CHUNK and received == []


async def test_a_file_of_exactly_ten_megabytes_still_uploads(user: User) -> None:
    ten_mb = b"a" * (10 * 1024 * 1024)
    with probe_route() as received:
        async with client(signed_in=True) as http:
            response = await http.post(PROBE, files={"file": ("list.csv", ten_mb, "text/csv")})
    assert response.status_code == 200 and received == [len(ten_mb)]


async def test_other_routes_are_not_touched_by_the_upload_limit(user: User) -> None:
    async with client(signed_in=False) as http:
        response = await http.get("/login")
    assert response.status_code == 200
