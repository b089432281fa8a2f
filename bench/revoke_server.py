"""The app as main.py runs it, plus the /_bench/revoke routes of bench.time_to_revoke: `python -m bench.revoke_server`.

The routes exist in this process only and call the same services the pages call, with the same checks:
- GET  /_bench/revoke/staff?org=ID: what every action on the Care Portal's staff list does (the session cookie read
  afresh by auth.actor_for, then staff.staff_page with that actor's grants): 200 allowed, 401 no session, 403 refused;
- POST /_bench/revoke/login: auth.login (what the log-in form calls), then the second-factor step as the member does
  it at their first log-in (their clinician role needs a factor, so they set up an authenticator app: a new secret,
  confirmed with its current code, factor_login.enrol and finish_enrolment); the client then spends the ticket at the
  real /auth/complete, which sets the real session cookie;
- POST /_bench/revoke/set_end, /remove, /suspend: grant_ends.set_end, staff.remove_from_team and
  suspension.suspend as the given actor (what the staff list's row menu calls).
"""

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from services.access.factor_login import LoginStep


def serve() -> None:
    """The app as main.py runs it, plus the routes the benchmark drives (only in this process)."""
    from fastapi import Request
    from fastapi.responses import JSONResponse

    import main
    from models import StaffMember
    from services.access import auth
    from services.access import service as access
    from services.access.service import Actor
    from services.errors import NotAuthenticated, PermissionDenied
    from services.organisations import grant_ends, staff, suspension

    async def actor(member_id: int) -> Actor:
        member = await StaffMember.get(id=member_id)
        return await access.load_actor(member_id=member.id, email=member.email, full_name=member.full_name)

    @main.app.get("/_bench/revoke/staff")
    async def staff_list(request: Request, org: int) -> JSONResponse:
        try:
            who = await auth.actor_for(session_token=request.cookies.get(auth.SESSION_COOKIE))
            rows, total = await staff.staff_page(actor=who, organisation_id=org, page_size=5)
        except NotAuthenticated:
            return JSONResponse({"allowed": False}, status_code=401)
        except PermissionDenied:
            return JSONResponse({"allowed": False}, status_code=403)
        return JSONResponse({"allowed": True, "rows": len(rows), "total": total})

    @main.app.post("/_bench/revoke/login")
    async def login(email: str, password: str) -> dict[str, str]:
        step = await auth.login(email=email, password=password, redirect_to="/care", client="bench")
        return {"ticket": await past_the_factor(step, email)}

    @main.app.post("/_bench/revoke/set_end")
    async def set_end(by: int, assignment: int, at: float) -> dict[str, Any]:
        ends_at = datetime.fromtimestamp(at, UTC)
        return {"email": await grant_ends.set_end(actor=await actor(by), assignment_id=assignment, ends_at=ends_at)}

    @main.app.post("/_bench/revoke/remove")
    async def remove(by: int, assignment: int) -> dict[str, Any]:
        email = await staff.remove_from_team(actor=await actor(by), assignment_id=assignment)
        return {"email": email, "done": time.time()}

    @main.app.post("/_bench/revoke/suspend")
    async def suspend(by: int, member: int) -> dict[str, Any]:
        email = await suspension.suspend(actor=await actor(by), member_id=member)
        return {"email": email, "done": time.time()}

    @main.app.get("/_bench/revoke/cpu")
    async def cpu() -> dict[str, float]:
        return {"cpu_s": time.process_time()}

    main.run()


async def past_the_factor(step: "LoginStep", email: str) -> str:
    """The log-in ticket after the second-factor step: each bench member logs in once, so a member asked for a factor
    sets up their authenticator app there, as a person's phone would (a new secret and the code it shows now)."""
    import pyotp

    from services.access import factor_login, totp
    from services.access.totp import TotpProof

    if step.ticket:
        return step.ticket
    if not step.enrol:
        raise RuntimeError(f"{email} already has a second factor: bench members log in once, on a fresh world")
    secret = totp.new_enrolment(email=email).secret
    await factor_login.enrol(challenge=step.challenge, proof=TotpProof(secret, pyotp.TOTP(secret).now()))
    return await factor_login.finish_enrolment(challenge=step.challenge)


if __name__ == "__main__":
    serve()
