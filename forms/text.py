"""Words for people: labels inside sentences, dates, numbers and money."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from babel import Locale, dates, numbers
from flask_babel import get_locale, ngettext

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


# Dates, numbers and money in the page's (or the email recipient's) language, with Babel's
# locale data. English keeps the GOV.UK forms it always had ("5 March 2027", "26 Nov 2026,
# 14:05", "1,234.50 EUR"); the other languages take their own long date, medium date and
# currency forms from CLDR: French "5 mars 2027", "1 234,50 €"; German "5. März 2027",
# "1.234,50 €". Times read 14:05 in all three.
ENGLISH = {"date": "d MMMM y", "day_month": "d MMMM", "moment": "d MMM y, HH:mm", "money": "#,##0.00 ¤¤"}


def _locale() -> Locale:
    """The language of the page or email being written (English outside a request or a worker's message)."""
    return get_locale() or Locale("en")


def _pattern(kind: str, locale: Locale) -> str | None:
    """English's own pattern for ``kind``; None where the language's CLDR form is used."""
    return ENGLISH[kind] if locale.language == "en" else None


def format_date(value: dt.date, *, this_year: int | None = None) -> str:
    """Return '5 March 2027', the GOV.UK date style; '5 March' when the year is ``this_year``."""
    locale = _locale()
    if this_year is not None and value.year == this_year:
        pattern = _pattern("day_month", locale)
        return dates.format_date(value, pattern, locale=locale) if pattern else dates.format_skeleton(
            "MMMMd", value, locale=locale)
    return dates.format_date(value, _pattern("date", locale) or "long", locale=locale)


def format_moment(moment: dt.datetime, zone: dt.tzinfo | None = None) -> str:
    """Return '26 Nov 2026, 14:05': the moment in ``zone`` (else in its own time zone)."""
    locale = _locale()
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    pattern = _pattern("moment", locale) or f"{dates.get_date_format('medium', locale=locale).pattern}, HH:mm"
    return dates.format_datetime(aware, pattern, tzinfo=zone or aware.tzinfo, locale=locale)


def format_time(moment: dt.datetime) -> str:
    """Return '14:05', the moment's time of day in its own time zone."""
    return dates.format_time(moment, "HH:mm", tzinfo=moment.tzinfo, locale=_locale())


def zone_name(zone: str) -> str:
    """A time zone (``Europe/Brussels``) as CLDR names it in the page's language: 'Belgium Time',
    'heure : Belgique', 'Belgien (Ortszeit)'; a zone of no place by its name: 'Coordinated Universal Time'."""
    locale = _locale()
    tzinfo = dates.get_timezone(zone)
    if "/" not in zone:  # UTC: CLDR has no place to name, only the zone
        return dates.get_timezone_name(dt.datetime(2000, 1, 1, tzinfo=tzinfo), "long", locale=locale)
    return dates.get_timezone_location(tzinfo, locale=locale)


def format_number(value: float | int | Decimal) -> str:
    """Return 10,000 or 0.50: whole numbers without decimals, others with two places."""
    number = Decimal(str(value))
    pattern = "#,##0" if number == number.to_integral_value() else "#,##0.00"
    return numbers.format_decimal(number, pattern, locale=_locale(), decimal_quantization=True)


def format_figure(value: float | int | Decimal, places: int = 3) -> str:
    """A report's figure with the decimals it has, up to ``places``: '2,000' and '2.5' in English,
    '2 000' and '2,5' in French, '2.000' and '2,5' in German (tables, charts, axes)."""
    return numbers.format_decimal(value, "#,##0." + "#" * places if places else "#,##0", locale=_locale())


def format_share(percent: float | int | Decimal) -> str:
    """A percentage: 12.5 reads '12.5%' in English, '12,5 %' in French, '12,5 %' in German."""
    return numbers.format_percent(Decimal(str(percent)) / 100, locale=_locale(), decimal_quantization=False)


def format_money(value: Decimal) -> str:
    """Return '1,234.50 EUR' ('1 234,50 €' in French)."""
    locale = _locale()
    return numbers.format_currency(value, "EUR", _pattern("money", locale), locale=locale)


def period_text(count: int, unit: str) -> str:
    """A length of time in the page's language: '7 years', '12 mois' (``unit``: minute, day, week,
    month or year)."""
    words = {"minute": ngettext("%(num)d minute", "%(num)d minutes", count),
             "day": ngettext("%(num)d day", "%(num)d days", count),
             "week": ngettext("%(num)d week", "%(num)d weeks", count),
             "month": ngettext("%(num)d month", "%(num)d months", count),
             "year": ngettext("%(num)d year", "%(num)d years", count)}
    return words[unit]
