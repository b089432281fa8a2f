"""GET /healthz for load balancers and monitoring: JSON, 200 when healthy and 503 when not; nothing secret."""

from fastapi.responses import JSONResponse
from nicegui import app

from components import live_push
from services.platform import health


def create() -> None:
    """Register /healthz."""

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        healthy, details = await health.report()
        details["checks"]["events"]["live_patches"] = {"emitted": live_push.counts.emitted}  # sent by this process
        return JSONResponse(details, status_code=200 if healthy else 503, headers={"Cache-Control": "no-store"})
