"""Edit roles: the organisation's custom roles, built from care permissions."""

from fastapi import Request
from nicegui import ui

from components import dialogs
from components.form_errors import FormErrors
from components.frame import LANGUAGE, frame
from components.session import PageSession
from services.access import rights, roles
from services.access.service import RoleInfo

PRIVILEGED = "Privileged: its access is reviewed on the shorter schedule of Access settings"


def create() -> None:
    """Register /care/roles."""

    @ui.page("/care/roles", language=LANGUAGE)
    async def roles_page(request: Request, org: int = 0, add: int = 0) -> None:
        session = PageSession(request)
        actor = await session.actor()
        if actor is None:
            return
        with frame("Edit roles", actor, session_token=session.token):
            if not rights.may_edit_roles(actor=actor, organisation_id=org):
                ui.label("You need the *edit roles and permissions* permission in this organisation.").props(
                    'role="alert"'
                )
                return
            ui.link("← Back to the Care Portal", f"/care?org={org}")
            await _RoleEditor(session, org).build(open_add_form=bool(add))


class _RoleEditor:
    def __init__(self, session: PageSession, organisation_id: int) -> None:
        self.session = session
        self.organisation_id = organisation_id

    async def build(self, *, open_add_form: bool) -> None:
        ui.button("Add a new role", icon="add", on_click=lambda: self._edit(None)).props("no-caps")
        self.list = ui.column().classes("w-full gap-2 q-mt-md")
        await self.reload()
        if open_add_form:
            self._edit(None)

    async def reload(self) -> None:
        custom = [r for r in await roles.available_in(organisation_id=self.organisation_id) if r.organisation_id]
        self.list.clear()
        with self.list:
            if not custom:
                ui.label(
                    "No custom roles yet. The default roles are always available; use Add a new role to build one."
                )
            for role in custom:
                with ui.card().classes("w-full").props("flat bordered"), ui.row().classes("w-full items-center"):
                    with ui.column().classes("grow gap-0"):
                        ui.label(f"{role.name} (privileged)" if role.privileged else role.name).classes(
                            "text-subtitle1"
                        )
                        ui.label(roles.permission_summary(role.permissions))
                    ui.button("Edit", on_click=lambda r=role: self._edit(r)).props("flat no-caps")
                    ui.button("Delete", on_click=lambda r=role: self._delete(r)).props("flat no-caps color=negative")

    def _edit(self, role: RoleInfo | None) -> None:
        with (
            dialogs.disposable("Edit role" if role else "Add a new role") as dialog,
            ui.card().classes("w-full max-w-md"),
        ):
            ui.label("Edit role" if role else "Add a new role").classes("text-h6").props(
                'role="heading" aria-level="2"'
            )
            name = ui.input("Role name", value=role.name if role else "").props("outlined dense maxlength=80")
            boxes = {}
            for permission, label, always in roles.permission_choices():
                held = always or bool(role and permission in role.permissions)
                box = ui.checkbox(label, value=held)
                if always:
                    box.disable()
                    box.tooltip("Always included")
                boxes[permission] = box
            privileged = ui.checkbox(PRIVILEGED, value=bool(role and role.privileged)).mark("privileged")

            async def save() -> None:
                chosen = [p.value for p, box in boxes.items() if box.value]
                marked = bool(privileged.value)
                done = await self.session.run(
                    lambda a: (
                        roles.update_custom(
                            actor=a, role_id=role.id, name=name.value or "", permissions=chosen, privileged=marked
                        )
                        if role
                        else roles.create_custom(
                            actor=a,
                            organisation_id=self.organisation_id,
                            name=name.value or "",
                            permissions=chosen,
                            privileged=marked,
                        )
                    ),
                    success="Role saved.",
                    form=errors,
                )
                if done:
                    dialog.close()
                    await self.reload()

            errors = FormErrors({"name": name})
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
                ui.button("Save", on_click=save).props("no-caps color=primary")
        dialog.open()

    def _delete(self, role: RoleInfo) -> None:
        async def delete() -> bool:
            await self.session.run(lambda a: roles.delete_custom(actor=a, role_id=role.id), success="Role deleted.")
            await self.reload()
            return True

        dialogs.confirm(
            title=f"Delete the role {role.name}?",
            message="Members holding it lose it, and pending invitations with it are deleted.",
            action="Delete role",
            on_confirm=delete,
        )
