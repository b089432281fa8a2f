"""Small dialogs: ask for one name, or confirm an action."""

from collections.abc import Awaitable, Callable

from nicegui import ui

from components.form_errors import FormErrors


def disposable(name: str) -> ui.dialog:
    """A dialog that removes itself from the page once closed (no stale copies pile up).

    name is what assistive technology announces for the dialog (usually its title).
    """
    dialog = ui.dialog()
    dialog.props["aria-label"] = name
    dialog.on_value_change(lambda event: None if event.value or dialog.is_deleted else dialog.delete())
    return dialog


def ask_name(
    *,
    title: str,
    label: str,
    action: str,
    value: str = "",
    on_submit: Callable[[str, FormErrors], Awaitable[bool]],
    field_name: str = "name",
    max_length: int = 120,
) -> None:
    """A dialog with one text field; closes when on_submit returns True. on_submit gets the field's FormErrors
    (the field is field_name, as the service names it) to show what the service refused at the field."""
    with disposable(title) as dialog, ui.card().classes("w-96"):
        ui.label(title).classes("text-h6").props('role="heading" aria-level="2"')
        field = ui.input(label, value=value).props(f"outlined dense autofocus maxlength={max_length}").classes("w-full")

        errors = FormErrors({field_name: field})

        async def submit() -> None:
            if await on_submit(field.value or "", errors) and not dialog.is_deleted:
                dialog.close()

        field.on("keydown.enter", submit)
        with ui.row().classes("w-full justify-end"):
            ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
            ui.button(action, on_click=submit).props("no-caps color=primary")
    dialog.open()


def confirm(*, title: str, message: str, action: str, on_confirm: Callable[[], Awaitable[bool]]) -> None:
    """A yes/no dialog; the action runs only after the user confirms."""
    with disposable(title) as dialog, ui.card().classes("w-96"):
        ui.label(title).classes("text-h6").props('role="heading" aria-level="2"')
        ui.label(message)

        async def go() -> None:
            if await on_confirm() and not dialog.is_deleted:
                dialog.close()

        with ui.row().classes("w-full justify-end"):
            ui.button("Cancel", on_click=dialog.close).props("flat no-caps autofocus")
            ui.button(action, on_click=go).props("no-caps color=negative")
    dialog.open()


def tell(message: str, *, waiting: bool = False) -> None:
    """Say what an action did; one that waits for someone else (a second person's approval) changed nothing yet, so
    it stays until dismissed."""
    if waiting:
        ui.notify(message, type="info", timeout=0, close_button="Dismiss", multi_line=True)
    else:
        ui.notify(message, type="positive")
