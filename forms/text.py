"""Words for people: labels inside sentences, dates, numbers and money."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
# A label that already starts with one of these reads well without "the" in front of it.
_DETERMINERS = frozenset({"a", "an", "the", "your", "their", "its", "my", "our", "this", "any", "each"})


def label_name(label: str) -> str:
    """Return the label without a trailing question mark, colon or full stop, for a sentence."""
    return label.strip().rstrip("?:.").strip()


def lower_label(label: str) -> str:
    """Lower-case the label's first letter unless its first word is 'I' or an acronym (IBAN)."""
    name = label_name(label)
    first = name.split(" ", 1)[0]
    if not first or first == "I" or any(ch.isupper() for ch in first[1:]):
        return name
    return name[0].lower() + name[1:]


def the_label(label: str) -> str:
    """Return 'the ticket cost' for 'Ticket cost', so that 'Enter …' reads as a sentence."""
    name = lower_label(label)
    first = name.split(" ", 1)[0].lower()
    return name if first in _DETERMINERS else f"the {name}"


def format_date(value: dt.date) -> str:
    """Return '5 March 2027', the GOV.UK date style, whatever the server's locale."""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def format_number(value: float | int | Decimal) -> str:
    """Return 10,000 or 0.50: whole numbers without decimals, others with two places."""
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return f"{number:,.2f}"


def format_money(value: Decimal) -> str:
    """Return '1,234.50 EUR'."""
    return f"{value:,.2f} EUR"
