"""The REST API's plumbing: errors as RFC 9457 problem details, the bearer token's actor, and the OpenAPI
document and its docs page at /api/docs (only the /api/v1 routes: NiceGUI's own are left out of any schema)."""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute

from services.access.service import Actor
from services.errors import DomainError, FieldErrors, NotAuthenticated, NotFound, PermissionDenied, RateLimited
from services.integrations import api_calls
from services.integrations.rate_limits import TooManyCalls

MEDIA = "application/problem+json"
TYPES = "https://gatehouse.example/problems/"  # a problem type names its kind; the docs page describes them
STATUS: list[tuple[type[DomainError], int, str]] = [
    (NotAuthenticated, 401, "Not authenticated"),
    (PermissionDenied, 403, "Permission denied"),
    (NotFound, 404, "Not found"),
    (FieldErrors, 422, "Invalid input"),
    (RateLimited, 429, "Too many requests"),
    (DomainError, 400, "Bad request"),
]
PROBLEM_SCHEMA = {
    "content": {
        MEDIA: {
            "schema": {
                "type": "object",
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                    "errors": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            }
        }
    }
}
PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"description": title, **PROBLEM_SCHEMA} for _, status, title in STATUS[:-1]
}


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    """One RFC 9457 problem details response."""
    body = {"type": TYPES + title.lower().replace(" ", "-"), "title": title, "status": status, "detail": detail}
    headers = extra.pop("headers", None)
    return JSONResponse({**body, **extra}, status_code=status, media_type=MEDIA, headers=headers)


def problem_of(error: DomainError) -> JSONResponse:
    """The problem details of a service's refusal."""
    status, title = next((s, t) for kind, s, t in STATUS if isinstance(error, kind))
    if isinstance(error, FieldErrors):
        return problem(status, title, str(error), errors=error.fields)
    if isinstance(error, NotAuthenticated):
        return problem(status, title, str(error), headers={"WWW-Authenticate": 'Bearer realm="gatehouse"'})
    if isinstance(error, TooManyCalls):
        return problem(status, title, str(error), headers={"Retry-After": str(error.retry_after)})
    if isinstance(error, RateLimited):
        return problem(status, title, str(error), headers={"Retry-After": "60"})
    return problem(status, title, str(error))


class ProblemRoute(APIRoute):
    """Every refusal of an /api/v1 route, and every request FastAPI cannot read, as problem details."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except DomainError as error:
                return problem_of(error)
            except RequestValidationError as error:
                fields = {_where(e["loc"]): str(e["msg"]) for e in error.errors()}
                return problem(422, "Invalid input", "The request does not match the API: see errors.", errors=fields)

        return handle


async def token_actor(request: Request) -> Actor:
    """The dependency of every route: the actor of the call's bearer token (401 or 429 otherwise)."""
    return await api_calls.authenticate(authorization=request.headers.get("authorization"), path=request.url.path)


def install_docs(app: FastAPI, router: APIRouter, *, title: str, version: str, description: str) -> None:
    """Serve /api/openapi.json (the router's routes only) and the Swagger UI at /api/docs."""
    schema: dict[str, Any] = {}

    @app.get("/api/openapi.json", include_in_schema=False)
    async def openapi() -> JSONResponse:
        if not schema:
            schema.update(get_openapi(title=title, version=version, description=description, routes=router.routes))
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer", "description": "An API token: ghk_…"}
            }
            schema["security"] = [{"bearer": []}]
        return JSONResponse(schema)

    @app.get("/api/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/api/openapi.json", title=f"{title}: documentation")


def _where(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "path")]
    return ".".join(parts) or "body"
