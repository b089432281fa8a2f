"""The SCIM 2.0 endpoints at /scim/v2 (RFC 7644), for identity providers holding an API token.

HTTP only: the bearer token becomes the token's actor (services/integrations/tokens.py), services/scim does the
rest, and every failure leaves as a SCIM error message (urn:ietf:params:scim:api:messages:2.0:Error)."""

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from nicegui import app
from pydantic import ValidationError
from scim2_models import (
    Context,
    Error,
    InvalidSyntaxException,
    NotFoundException,
    NotImplementedException,
    PatchOp,
    ResponseParameters,
    SCIMException,
)

from services.access.service import Actor
from services.errors import DomainError, InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from services.integrations import tokens
from services.scim import groups, people, resources
from services.scim.schema import PROVIDER, Group

PREFIX = "/scim/v2"
MEDIA = "application/scim+json"
STATUS = {NotAuthenticated: 401, PermissionDenied: 403, NotFound: 404}
router = APIRouter(prefix=PREFIX, include_in_schema=False)
Work = Callable[[Actor, str], Awaitable[Response]]


def create() -> None:
    """Register the /scim/v2 routes on the app."""
    app.include_router(router)


def scim(body: Any, status: int = 200, location: str | None = None, request: Request | None = None) -> Response:
    """A SCIM response of a scim2-models object (or a dict), with only the attributes the request asks for."""
    data = (
        body if isinstance(body, dict) else body.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE, **_asked(request))
    )
    headers = {"Location": location} if location else None
    return JSONResponse(data, status_code=status, media_type=MEDIA, headers=headers)


def error(status: int, detail: str, scim_type: str | None = None) -> Response:
    """A SCIM error message."""
    return scim(Error(status=status, detail=detail, scim_type=scim_type).model_dump(), status)


async def handled(request: Request, work: Work) -> Response:
    """Authenticate the bearer token, run the work, and turn every refusal into a SCIM error."""
    header = request.headers.get("authorization", "")
    scheme, _, raw = header.partition(" ")
    try:
        if scheme.casefold() != "bearer":
            raise NotAuthenticated("Send an API token: Authorization: Bearer ghk_…")
        actor = await tokens.actor_for(raw=raw.strip())
        return await work(actor, str(request.base_url).rstrip("/") + PREFIX)
    except SCIMException as refusal:
        return scim(refusal.to_error().model_dump(), refusal.status)
    except ValidationError as refusal:
        return error(400, _first_problem(refusal), "invalidValue")
    except DomainError as refusal:
        status = next((code for kind, code in STATUS.items() if isinstance(refusal, kind)), 400)
        return error(status, str(refusal), "invalidValue" if isinstance(refusal, InvalidInput) else None)


async def payload(request: Request) -> dict[str, Any]:
    """The request's JSON object (invalidSyntax when it is none)."""
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise InvalidSyntaxException(detail="The body is not JSON.") from None
    if not isinstance(body, dict):
        raise InvalidSyntaxException(detail="The body is not a JSON object.")
    return body


@router.get("/ServiceProviderConfig")
async def service_provider_config(request: Request) -> Response:
    return await handled(request, lambda _actor, _base: _ready(scim(PROVIDER.config)))


@router.get("/Schemas")
async def schemas(request: Request) -> Response:
    return await handled(request, lambda _a, _b: _ready(scim(resources.listed(list(PROVIDER.schemas), None, 1, None))))


@router.get("/Schemas/{schema_id}")
async def schema(request: Request, schema_id: str) -> Response:
    found = [s for s in PROVIDER.schemas if s.id == schema_id]
    return await handled(request, lambda _a, _b: _ready(scim(found[0]) if found else _missing("schema")))


@router.get("/ResourceTypes")
async def resource_types(request: Request) -> Response:
    listed = resources.listed(list(PROVIDER.resource_types), None, 1, None)
    return await handled(request, lambda _a, _b: _ready(scim(listed)))


@router.get("/ResourceTypes/{name}")
async def resource_type(request: Request, name: str) -> Response:
    found = [t for t in PROVIDER.resource_types if t.id == name]
    return await handled(request, lambda _a, _b: _ready(scim(found[0]) if found else _missing("resource type")))


@router.get("/Users")
async def users(request: Request, filter: str | None = None, startIndex: int = 1, count: int | None = None) -> Response:
    async def work(actor: Actor, base: str) -> Response:
        email = resources.user_name_filtered(filter)
        everyone = await people.people(actor=actor, email=email)
        found = resources.listed([resources.as_user(p, base) for p in everyone], filter, startIndex, count)
        return scim(found, request=request)

    return await handled(request, work)


@router.post("/Users")
async def create_user(request: Request) -> Response:
    async def work(actor: Actor, base: str) -> Response:
        user = await resources.create_user(actor=actor, payload=await payload(request), base=base)
        return scim(user, 201, location=f"{base}/Users/{user.id}", request=request)

    return await handled(request, work)


@router.get("/Users/{scim_id}")
async def user(request: Request, scim_id: str) -> Response:
    async def work(actor: Actor, base: str) -> Response:
        return scim(resources.as_user(await people.person(actor=actor, scim_id=scim_id), base), request=request)

    return await handled(request, work)


@router.api_route("/Users/{scim_id}", methods=["PUT", "PATCH"])
async def change_user(request: Request, scim_id: str) -> Response:
    change = resources.replace_user if request.method == "PUT" else resources.patch_user

    async def work(actor: Actor, base: str) -> Response:
        body = await payload(request)
        return scim(await change(actor=actor, scim_id=scim_id, payload=body, base=base), request=request)

    return await handled(request, work)


@router.delete("/Users/{scim_id}")
async def delete_user(request: Request, scim_id: str) -> Response:
    async def work(actor: Actor, _base: str) -> Response:
        await resources.delete_user(actor=actor, scim_id=scim_id)
        return Response(status_code=204)

    return await handled(request, work)


@router.get("/Groups")
async def groups_listed(
    request: Request, filter: str | None = None, startIndex: int = 1, count: int | None = None
) -> Response:
    async def work(actor: Actor, base: str) -> Response:
        found = await groups.listed(actor=actor, base=base)
        return scim(resources.listed(found, filter, startIndex, count), request=request)

    return await handled(request, work)


@router.post("/Groups")
async def create_group(request: Request) -> Response:
    async def work(actor: Actor, base: str) -> Response:
        group = await groups.create(actor=actor, payload=await payload(request), base=base)
        return scim(group, 201, location=f"{base}/Groups/{group.id}", request=request)

    return await handled(request, work)


@router.get("/Groups/{group_id}")
async def group(request: Request, group_id: str) -> Response:
    async def work(actor: Actor, base: str) -> Response:
        return scim(await groups.one(actor=actor, role=await _role(actor, group_id), base=base), request=request)

    return await handled(request, work)


@router.put("/Groups/{group_id}")
@router.patch("/Groups/{group_id}")
async def change_group(request: Request, group_id: str) -> Response:
    async def work(actor: Actor, base: str) -> Response:
        role, body = await _role(actor, group_id), await payload(request)
        if request.method == "PUT":
            wanted = Group.model_validate(body, scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST, scim_provider=PROVIDER)
        else:
            wanted = await groups.one(actor=actor, role=role, base=base)
            PatchOp[Group].model_validate(body, scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_provider=PROVIDER).patch(
                wanted, scim_policy=PROVIDER.policy
            )
        return scim(await groups.change(actor=actor, role=role, wanted=wanted, base=base), request=request)

    return await handled(request, work)


@router.delete("/Groups/{group_id}")
async def delete_group(request: Request, group_id: str) -> Response:
    async def work(actor: Actor, _base: str) -> Response:
        await groups.delete(actor=actor, role=await _role(actor, group_id))
        return Response(status_code=204)

    return await handled(request, work)


@router.post("/.search")
async def search_everything(request: Request) -> Response:
    async def work(_actor: Actor, _base: str) -> Response:
        raise NotImplementedException(detail="Search one resource type at a time: GET /Users or /Groups with a filter.")

    return await handled(request, work)


@router.api_route("/{anything:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def nothing_there(request: Request, anything: str) -> Response:
    if anything.split("/")[0] in ("ServiceProviderConfig", "Schemas", "ResourceTypes", "Users", "Groups"):
        return error(405, f"{request.method} is not allowed here.")
    return error(404, "There is no such SCIM endpoint.")


async def _role(actor: Actor, group_id: str) -> Any:
    for role in await people.scope_roles(actor=actor):
        if str(role.id) == group_id:
            return role
    raise NotFoundException(detail="There is no such group (role) here.")


async def _ready(response: Response) -> Response:
    return response


def _missing(what: str) -> Response:
    return error(404, f"There is no such {what}.")


def _asked(request: Request | None) -> dict[str, Any]:
    """The attributes and excludedAttributes query parameters (RFC 7644 §3.9), for model_dump."""
    params = request.query_params if request else {}
    asked = {name: params.get(name, "") for name in ("attributes", "excludedAttributes")}
    if not any(asked.values()):
        return {}
    parts = {name: [p.strip() for p in value.split(",") if p.strip()] for name, value in asked.items() if value}
    return {"response_parameters": ResponseParameters.model_validate(parts)}


def _first_problem(refusal: ValidationError) -> str:
    problem = refusal.errors()[0]
    where = ".".join(str(p) for p in problem.get("loc", ()))
    return f"{where}: {problem.get('msg', 'invalid')}" if where else str(problem.get("msg", "invalid"))
