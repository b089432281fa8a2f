"""The Invite staff pop-out's Access ends and Sponsor fields: the end is entered and read in the viewer's time zone."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from nicegui import ui

from components.form_errors import FormErrors
from components.formatting import count, exact, zone_label
from components.viewer_zone import ViewerZone
from services.errors import FieldErrors

NOT_A_MOMENT = "Enter a date and time, like 2027-03-31 17:00."
ENDS_SHOWN = 50  # an imported file's own ends, each next to its address, up to this many


@dataclass(frozen=True)
class AccessTerms:
    """The end and sponsor chosen in the pop-out; ends_for: an imported line's own end, by address."""

    ends_at: datetime | None = None
    sponsor: str = ""
    ends_for: dict[str, datetime] = field(default_factory=dict)


class AccessTermsFields:
    """Access ends (date and time; optional unless the chosen role requires an end) and Sponsor (an address; by
    default the inviter's)."""

    def __init__(self, sponsor: str) -> None:
        self.viewer = ViewerZone(on_known=self._zone_known)
        with ui.row().classes("w-full no-wrap gap-2 items-start"):
            self.ends = ui.input("Access ends (optional)").props('outlined dense stack-label type="datetime-local"')
            self.ends.classes("col").mark("access-ends")
            self.sponsor = ui.input("Sponsor", value=sponsor).props('outlined dense type="email"').classes("col")
            self.sponsor.props('hint="Accountable for this access: someone who may manage this role here"')
            self.sponsor.mark("sponsor")
        self.errors = FormErrors({"ends_at": self.ends, "sponsor": self.sponsor})
        self.from_file = ui.column().classes("w-full gap-0 text-caption text-grey-8")
        self.from_file.set_visibility(False)
        self.imported_ends: dict[str, datetime] = {}
        self.longest: int | None = None
        self._zone_known()

    def _zone_known(self) -> None:
        zone = f"In your time zone ({zone_label(self.viewer.zone)})"
        if self.longest is None:
            self.ends.props(f'label="Access ends (optional)" hint="{zone}; empty: access does not end"')
        else:
            self.ends.props(f'label="Access ends" hint="{zone}; at most {count(self.longest, "day")} from today"')

    def require_end(self, longest: int | None) -> None:
        """The chosen role's rule here: an end within longest days is required (None: the end is optional)."""
        self.longest = longest
        self._zone_known()

    def read(self) -> AccessTerms:
        """The terms as entered, ends in the viewer's zone; FieldErrors at Access ends when it is no date and time."""
        text = (self.ends.value or "").strip()
        try:
            ends_at = self._in_zone(datetime.fromisoformat(text)) if text else None
        except ValueError:
            raise FieldErrors({"ends_at": NOT_A_MOMENT}) from None
        ends_for = {address: self._in_zone(end) for address, end in self.imported_ends.items()}
        return AccessTerms(ends_at, (self.sponsor.value or "").strip(), ends_for)

    def show(self, refusal: FieldErrors) -> None:
        self.errors.show(refusal.fields)

    def imported(self, ends: Mapping[str, datetime]) -> None:
        """An imported file's own ends (its second column), kept for its addresses."""
        self.imported_ends.update(ends)
        kept = len(self.imported_ends)
        self.from_file.clear()
        with self.from_file:
            ui.label(
                f"{count(kept, 'address')} {'keeps' if kept == 1 else 'keep'} the end of access given in the file:"
            )
            for address, end in list(self.imported_ends.items())[:ENDS_SHOWN]:
                ui.label(f"{address}: access ends {exact(self._in_zone(end), self.viewer.zone)}").classes("break-all")
            if kept > ENDS_SHOWN:
                ui.label(f"… and {kept - ENDS_SHOWN:,} more.")
        self.from_file.set_visibility(bool(self.imported_ends))

    def _in_zone(self, moment: datetime) -> datetime:
        return moment.replace(tzinfo=self.viewer.zone) if moment.tzinfo is None else moment
