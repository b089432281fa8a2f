"""NiceGUI's versioned files are compressed once and then served from memory; nothing else is kept."""

import httpx
import pytest
from fastapi.middleware.gzip import GZipMiddleware
from nicegui import __version__ as nicegui_version
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from services.platform import settings
from services.web import static_cache

SCRIPT = f"/_nicegui/{nicegui_version}/static/app.js"
BODY = "console.log('gatehouse');\n" * 200  # over GZipMiddleware's 500-byte minimum


class Served:
    """A stand-in for NiceGUI's file routes that counts how often it is asked."""

    def __init__(self) -> None:
        self.calls = 0

    async def endpoint(self, request: Request) -> PlainTextResponse:
        self.calls += 1
        status = 404 if request.url.path.endswith("missing.js") else 200
        return PlainTextResponse(f"{BODY}{self.calls if 'dynamic' in request.url.path else ''}", status_code=status)


@pytest.fixture
def served() -> Served:
    return Served()


def client_for(served: Served) -> httpx.AsyncClient:
    app = Starlette(routes=[Route("/{path:path}", served.endpoint, methods=["GET", "POST"])])
    transport = httpx.ASGITransport(app=static_cache.gzip_with_cache(app))
    return httpx.AsyncClient(transport=transport, base_url="http://gatehouse.test")


async def test_a_versioned_file_is_compressed_once_and_then_answered_from_memory(served: Served) -> None:
    async with client_for(served) as http:
        first = await http.get(SCRIPT, headers={"Accept-Encoding": "gzip"})
        again = await http.get(SCRIPT, headers={"Accept-Encoding": "gzip"})
    assert served.calls == 1
    for response in (first, again):
        assert response.status_code == 200
        assert response.headers["content-encoding"] == "gzip"
        assert response.text == BODY
    assert again.headers["content-length"] == first.headers["content-length"]
    assert int(first.headers["content-length"]) < len(BODY.encode())  # what went over the wire was compressed


async def test_a_browser_without_gzip_gets_its_own_plain_copy(served: Served) -> None:
    async with client_for(served) as http:
        await http.get(SCRIPT, headers={"Accept-Encoding": "gzip"})
        plain = await http.get(SCRIPT, headers={"Accept-Encoding": "identity"})
        plain_again = await http.get(SCRIPT, headers={"Accept-Encoding": "identity"})
    assert served.calls == 2
    assert "content-encoding" not in plain_again.headers
    assert plain.text == plain_again.text == BODY


@pytest.mark.parametrize(
    "path",
    [
        f"/_nicegui/{nicegui_version}/dynamic_resources/app.js",  # generated: may change
        "/_nicegui/auto/static/token/app.js",  # a file the app serves under a token
        "/_nicegui/0.0.0/static/dynamic.js",  # another NiceGUI version's path
        "/care/dynamic",  # a page
    ],
)
async def test_nothing_but_nicegui_s_versioned_files_is_kept(served: Served, path: str) -> None:
    async with client_for(served) as http:
        first = await http.get(path)
        second = await http.get(path)
    assert served.calls == 2
    if "dynamic" in path:
        assert first.text != second.text


async def test_errors_revalidations_and_ranges_go_to_nicegui_every_time(served: Served) -> None:
    missing = f"/_nicegui/{nicegui_version}/static/missing.js"
    async with client_for(served) as http:
        assert (await http.get(missing)).status_code == 404
        assert (await http.get(missing)).status_code == 404
        await http.get(SCRIPT)
        await http.get(SCRIPT, headers={"If-None-Match": '"abc"'})
        await http.get(SCRIPT, headers={"Range": "bytes=0-9"})
        await http.post(SCRIPT)
    assert served.calls == 6


async def test_a_query_string_never_adds_a_copy(served: Served) -> None:
    cache = static_cache.StaticCache(Starlette(routes=[Route("/{path:path}", served.endpoint)]))
    transport = httpx.ASGITransport(app=cache)
    async with httpx.AsyncClient(transport=transport, base_url="http://gatehouse.test") as http:
        for n in range(3):
            assert (await http.get(f"{SCRIPT}?copy={n}")).text == BODY
    assert served.calls == 3
    assert cache.kept == {}


def test_the_switch_chooses_the_cache_or_nicegui_gzip_at_a_low_level() -> None:
    assert static_cache.gzip_factory(cache=settings.load({}).static_cache) is static_cache.gzip_quick  # unset: off
    assert static_cache.gzip_factory(cache=True) is static_cache.gzip_with_cache
    quick = static_cache.gzip_factory(cache=False)(Starlette())
    assert isinstance(quick, GZipMiddleware) and quick.compresslevel == static_cache.QUICK_LEVEL < 9
