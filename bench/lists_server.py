"""The app as main.py runs it, plus the /_bench routes the list benchmarks drive: `python -m bench.lists_server`.

Started by bench.lists_common.app_server with the GATEHOUSE_* settings in its environment. The routes exist in
this process only: a minimal baseline page, the pending view without the portal frame, sessions, sends through
the real invitations.send, a push to every minimal page (NiceGUI's way, or raw: one prebuilt message written onto
each page's socket, the floor of any push), and the process's memory and CPU. The app is served by
main.run, with main.py's own ui.run options. Three switches are experiments, not the app: /_bench/stats?freeze=1
(gc.freeze() the objects alive now) and BENCH_UI_RUN (ui.run options over the app's, as JSON: {"tailwind": true}
measures the app as it was served before item 6, with NiceGUI's in-browser Tailwind compiler) and BENCH_WS
(another of uvicorn's websocket protocols than the wsproto NiceGUI picks, e.g. websockets-sansio).
"""

import gc
import json
import os
import time
import tracemalloc
import weakref
from typing import Any


def serve() -> None:
    """The app as main.py runs it, plus the routes the benchmarks drive (only in this process)."""
    from fastapi import Request
    from nicegui import app, ui

    import main  # the app's own wiring: settings, lifespan, pages, and how ui.run serves it
    from bench import socket_writer
    from bench.lists_common import open_session
    from components.session import PageSession
    from models import Invitation, InvitationState, Role, RoleAssignment
    from pages.care_pending import PendingView
    from services.access import service as access
    from services.invitations import service as invitations
    from services.platform import events

    pauses = _time_collections()
    labels: weakref.WeakSet[ui.label] = weakref.WeakSet()
    published: dict[int, list[float]] = {}
    state: dict[str, Any] = {"tick": 0, "sent": 0}

    @ui.page("/_bench/minimal")
    def minimal() -> None:  # the baseline page: a label to push to, and a static table of 50 rows
        labels.add(ui.label("0").props("data-bench=minimal"))
        rows = [{"id": n, "email": f"person{n}@example.org", "role": "Clinician", "sent": 1} for n in range(50)]
        ui.table(rows=rows, row_key="id")

    @ui.page("/_bench/pending_only")
    async def pending_only(request: Request, org: int) -> None:  # the view alone, without the portal's frame
        view = PendingView(PageSession(request), org)
        await view.refresh()

    @app.post("/_bench/session")
    async def session(member: int) -> dict[str, str]:
        return {"token": await open_session(member)}

    @app.post("/_bench/count")
    async def count(org: int) -> dict[str, int]:
        return {"total": await Invitation.filter(organisation_id=org, state=InvitationState.PENDING).count()}

    @app.post("/_bench/send")
    async def send(org: int) -> dict[str, float]:
        if org not in published:
            published[org] = []
            events.subscribe(organisation_id=org, handler=lambda _kind: published[org].append(time.monotonic()))
        owner = await RoleAssignment.get(organisation_id=org, role__key="organisation_owner")
        actor = await access.load_actor(member_id=owner.member_id, email="", full_name="Bench")
        state["sent"] += 1
        address = f"live{state['sent']}.{os.getpid()}@bench.example"
        role = await Role.get(key="clinician")
        before = len(published[org])
        await invitations.send(
            actor=actor, addresses=[address], role_id=role.id, lifetime_hours=72, organisation_id=org
        )
        returned = time.monotonic()
        heard = published[org][before:] if len(published[org]) > before else [returned]
        return {"published": min(heard[0], returned)}  # in-process: at publish; PostgreSQL NOTIFY: once sent

    @app.post("/_bench/tick")
    async def tick() -> dict[str, float]:
        state["tick"] += 1
        at = time.monotonic()
        for label in list(labels):
            if not label.client.is_deleted:
                label.text = str(state["tick"])
        return {"published": at, "tick": state["tick"]}

    @app.post("/_bench/raw")
    async def raw() -> dict[str, float]:  # the floor: a prebuilt message written onto every minimal page's socket
        state["tick"] += 1
        at = time.monotonic()
        messages: dict[int, str] = {}  # pages built alike give their labels the same id: one message each
        for label in list(labels):
            if label.client.is_deleted:
                continue
            if label.id not in messages:
                messages[label.id] = socket_writer.encoded("update", {str(label.id): {"text": str(state["tick"])}})
            message = messages[label.id]
            sockets = socket_writer.idle_sockets(label.client)
            if sockets:
                socket_writer.write(sockets, message)
            else:
                label.text = str(state["tick"])  # something else is on its way to this page: NiceGUI's way
        return {"published": at, "tick": state["tick"]}

    @app.get("/_bench/stats")
    async def stats(collect: bool = False, freeze: bool = False) -> dict[str, Any]:
        from nicegui import Client

        if collect:
            gc.collect()
        if freeze:  # EXPERIMENT: what every object alive now costs the collector's full passes (item 4)
            gc.freeze()
        with open("/proc/self/status") as status:
            rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        traced, top = 0, []
        if os.environ.get("BENCH_TRACEMALLOC") and not tracemalloc.is_tracing():
            tracemalloc.start()  # from the first call on: the pages, not the imports
        if tracemalloc.is_tracing():  # the allocation sites that grew since the last call, largest first
            traced, snapshot = tracemalloc.get_traced_memory()[0], tracemalloc.take_snapshot()
            if "snapshot" in state:
                top = [str(stat) for stat in snapshot.compare_to(state["snapshot"], "lineno")[:40]]
            state["snapshot"] = snapshot
        return {
            "rss_kb": rss, "traced_bytes": traced, "clients": len(Client.instances), "pid": os.getpid(),
            "cpu_s": time.process_time(), "top": top, "gc_pauses_ms": pauses.copy(),
        }  # fmt: skip

    if os.environ.get("BENCH_WS"):  # experiment: another of uvicorn's websocket protocols than NiceGUI's wsproto
        _use_websocket_protocol(os.environ["BENCH_WS"])
    socket_writer.install(app)  # for the floor (/_bench/raw) only: the app's pages never get writes this way
    main.run(**json.loads(os.environ.get("BENCH_UI_RUN", "{}")))  # extra options: experiments only


def _use_websocket_protocol(name: str) -> None:
    from nicegui import server, ui_run

    class Config(server.CustomServerConfig):
        def __init__(self, *args: Any, **options: Any) -> None:
            super().__init__(*args, **(options | {"ws": name}))

    ui_run.CustomServerConfig = Config  # type: ignore[misc]


def _time_collections() -> list[float]:
    """The garbage collector's pauses of the oldest generation, in ms (a change waits for them too)."""
    pauses: list[float] = []
    started: list[float] = []

    def timed(phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            started[:] = [time.perf_counter()]
        elif started:
            pauses.append(round((time.perf_counter() - started[0]) * 1000, 1))

    gc.callbacks.append(timed)
    return pauses


if __name__ == "__main__":
    serve()
