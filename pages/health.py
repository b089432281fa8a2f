"""GET /healthz for load balancers and monitoring: JSON, 200 when healthy and 503 when not; nothing secret."""

from fastapi.responses import JSONResponse
from nicegui import app

from components import socket_writer
from services.platform import health


def create() -> None:
    """Register /healthz."""

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        healthy, details = await health.report()
        pushed = socket_writer.counts  # live patches this process wrote straight to page sockets, or emitted
        details["checks"]["events"]["live_patches"] = {"direct": pushed.direct, "emitted": pushed.emitted}
        return JSONResponse(details, status_code=200 if healthy else 503, headers={"Cache-Control": "no-store"})
