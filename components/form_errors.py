"""A form's errors at their fields, all at once, and the focus on the first: they stay until the field changes."""

from collections.abc import Mapping

from nicegui import ui


class FormErrors:
    """Shows services' FieldErrors at the form's fields (by the services' field names).

    Each invalid field gets Quasar's error state, its message in the field's error slot, `aria-invalid` and
    `aria-describedby` naming that message; the focus moves to the first invalid field. An error about no one
    field (a wrong password, a spent link) stays in one alert below the form instead of a toast that fades.
    """

    def __init__(self, fields: Mapping[str, ui.input | ui.select]) -> None:
        self._fields = dict(fields)
        self._messages: dict[str, ui.label] = {}
        for name, field in fields.items():
            with field.add_slot("error"):
                self._messages[name] = ui.label().classes("text-negative")
            field.on_value_change(lambda _, name=name: self._clear_field(name))
        self.alert = ui.label().props('role="alert"').classes("text-negative text-body2")
        self.alert.set_visibility(False)

    def show(self, errors: dict[str, str], *, summary: str = "") -> None:
        """Show these errors (and only these), the summary in the form's alert; focus the first invalid field."""
        for name in self._fields:
            self._clear_field(name)
        for name, message in errors.items():
            if name not in self._fields:  # a field this form does not have: said in the alert
                summary = f"{summary} {message}".strip()
                continue
            field, label = self._fields[name], self._messages[name]
            label.text = message
            field.props["error"] = True
            field.props["aria-invalid"] = "true"
            field.props["aria-describedby"] = label.html_id
        self.alert.text = summary
        self.alert.set_visibility(bool(summary))
        first = next((self._fields[name] for name in self._fields if name in errors), None)
        if first is not None:
            first.run_method("focus")

    @property
    def showing(self) -> bool:
        """Is any error shown (at a field or in the alert)?"""
        return self.alert.visible or any(field.props.get("error") for field in self._fields.values())

    def clear(self) -> None:
        self.show({})

    def _clear_field(self, name: str) -> None:
        field = self._fields[name]
        if field.props.get("error"):
            field.props["error"] = False
            field.props.pop("aria-invalid", None)
            field.props.pop("aria-describedby", None)
            field.update()
