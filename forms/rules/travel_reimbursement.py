"""Travel reimbursement: the date rules of a claim and its computed total.

The claim is entered on the start form and corrected on ``revise_claim``; both forms get the
same checks. The total is shown read-only (``computed=travel_claim_total``) so the claimant
never types it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from . import computation, rule

CLAIM_FORMS = ("travel_reimbursement.start", "travel_reimbursement.revise_claim")
COST_FIELDS = ("ticket_cost", "accommodation_cost", "other_costs")
CENT = Decimal("0.01")


def _date(data: dict[str, Any], name: str) -> date | None:
    value = data.get(name)
    return value if isinstance(value, date) else None


def check_travel_dates(data: dict[str, Any]) -> dict[str, str]:
    """Return on or after departure; the meeting between departure and return."""
    errors: dict[str, str] = {}
    departure, back = _date(data, "departure_date"), _date(data, "return_date")
    # A meeting chosen from the list (meeting_id) brings its own date, checked when the claim
    # is tied to it (service task meeting_attended); a date typed as well is not the one used.
    listed = data.get("meeting_id") not in (None, "", "other")
    meeting = None if listed else _date(data, "meeting_date")
    if departure and back and back < departure:
        errors["return_date"] = "Date you came back must be the same as or after the date you left"
    elif departure and back and meeting and not departure <= meeting <= back:
        errors["meeting_date"] = "Date of the meeting must be between the date you left and the date you came back"
    nights = data.get("accommodation_nights")
    if departure and back and back >= departure and isinstance(nights, int):
        away = (back - departure).days
        if nights > away:
            errors["accommodation_nights"] = (f"Number of nights must be {away} or less: you were away {away} "
                                              f"{'night' if away == 1 else 'nights'}")
    return errors


def check_accommodation(data: dict[str, Any]) -> dict[str, str]:
    """Accommodation costs need the number of nights they paid for."""
    cost, nights = data.get("accommodation_cost"), data.get("accommodation_nights")
    if isinstance(cost, Decimal) and cost > 0 and nights == 0:
        return {"accommodation_nights": "Enter the number of nights you paid accommodation for"}
    return {}


for _form_key in CLAIM_FORMS:
    rule(_form_key)(check_travel_dates)
    rule(_form_key)(check_accommodation)


@computation("travel_claim_total", inputs=COST_FIELDS)
def travel_claim_total(data: dict[str, Any]) -> Decimal:
    """Tickets + accommodation + other costs, in EUR to the cent; empty counts as 0."""
    total = sum((Decimal(str(data.get(name) or 0)) for name in COST_FIELDS), Decimal(0))
    return total.quantize(CENT)
