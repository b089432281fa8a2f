"""A password field whose show/hide toggle is a named button that the keyboard reaches."""

from nicegui import ui


def password_input(label: str) -> ui.input:
    """ui.input for a password with a *Show password* toggle button (aria-pressed says whether it is shown).

    NiceGUI's password_toggle_button is a bare icon: no name, no tab stop, no keyboard.
    """
    field = ui.input(label, password=True)
    with field.add_slot("append"):
        toggle = ui.button(icon="visibility").props('flat round dense aria-pressed="false"')
    toggle.props["aria-label"] = f"Show {label.lower()}"

    def flip() -> None:
        shown = field.props.get("type") == "password"
        field.props["type"] = "text" if shown else "password"
        toggle.props["icon"] = "visibility_off" if shown else "visibility"
        toggle.props["aria-pressed"] = "true" if shown else "false"
        toggle.update()

    toggle.on_click(flip)
    return field
