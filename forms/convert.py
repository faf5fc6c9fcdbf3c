"""Turn what a person typed into a field's declared type, or say plainly what to correct.

Messages follow the GOV.UK Design System's error message patterns: they name the field, say
what is wrong and, where it helps, give an example of what is right.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from schwifty import IBAN
from schwifty.exceptions import InvalidBBANChecksum, InvalidChecksumDigits, SchwiftyException

from .messages import message, subject
from .text import MONTHS, format_date, format_number

if TYPE_CHECKING:  # the dataclasses only: forms/ must not load the workflow engine
    from app.engine.model import FieldSpec

CENT = Decimal("0.01")
# Lengths accepted when a diagram sets no maxlength, so that a crafted POST cannot push
# megabytes into task data.
DEFAULT_MAXLENGTH = {"string": 1000, "text": 10000, "email": 254}

TEXT_TYPES = frozenset({"string", "text", "email", "iban"})
NUMBER_TYPES = frozenset({"long", "decimal"})

_WHOLE = re.compile(r"-?[0-9]{1,15}")
_GROUPED_WHOLE = re.compile(r"-?[0-9]{1,3}(?:,[0-9]{3})+")
_AMOUNT = re.compile(r"-?(?:[0-9]{1,12}(?:\.[0-9]{1,20})?|\.[0-9]{1,20})")
_GROUPED_AMOUNT = re.compile(r"-?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]{1,20})?")
_DECIMAL_COMMA = re.compile(r"-?[0-9]{1,12},[0-9]{1,2}")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
# Someone whose browser has no date picker types the European way: 5/3/2027 or 5.3.2027.
_EU_DATE = re.compile(r"([0-9]{1,2})[./-]([0-9]{1,2})[./-]([0-9]{4})")
# An email address, internationalised too (RFC 6531): beside ASCII, any character that is not
# ASCII may stand where a letter may, in the local part and in the domain's labels; is_email
# then lets through only letters, marks and digits among them. The outbox sends such an address
# with SMTPUTF8.
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\x80-\U0010ffff-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\x80-\U0010ffff-]+)*"
    r"@(?:[A-Za-z0-9\x80-\U0010ffff](?:[A-Za-z0-9\x80-\U0010ffff-]{0,61}[A-Za-z0-9\x80-\U0010ffff])?\.)+"
    r"(?:[A-Za-z\x80-\U0010ffff]{2,63}|xn--[A-Za-z0-9-]{1,59})"
)
# A time as people type it: 14:30, 9.30, 2:30pm, 2pm (GOV.UK: accept what people write).
_TIME = re.compile(r"([0-9]{1,2})(?:[:.h]([0-9]{2}))?(am|pm)?", re.IGNORECASE)
# A date and time in one value, as form-js stores it: 2027-03-12T14:30 (seconds are dropped).
_ISO_DATETIME = re.compile(r"([0-9]{4}-[0-9]{1,2}-[0-9]{1,2})[T ]([0-9]{1,2}:[0-9]{2})(?::[0-9]{2}(?:\.[0-9]+)?)?")
_DEFAULT_REF = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")

EMAIL_MESSAGE = _l("Enter an email address in the correct format, like name@example.com")
IBAN_EXAMPLE = "DE89 3704 0044 0532 0130 00"
IBAN_MESSAGE = _l("Enter an IBAN in the correct format, like %(example)s")
IBAN_CHECKSUM_MESSAGE = _l("The IBAN is not right: check it against your bank details, a character may be wrong "
                           "or swapped")
# An IBAN written in a hint as an example ("e.g. BE71 0961 2345 6769").
_IBAN_IN_TEXT = re.compile(r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
DATE_PARTS = ("day", "month", "year")
_PART_NAMES = {"day": _l("day"), "month": _l("month"), "year": _l("year")}  # "… must include a month"
_MONTH_NAMES = {name.lower(): number for number, name in enumerate(MONTHS, start=1)}
TIME_HINT = _l("For example, 14:30")
TRUE_WORDS = frozenset({"true", "on", "yes", "1"})
FALSE_WORDS = frozenset({"false", "off", "no", "0"})


class Invalid(ValueError):
    """A value the person has to correct; the message tells them how."""

    @property
    def message(self) -> str:
        return str(self.args[0])


def parse(spec: FieldSpec, text: str) -> Any:
    """Convert non-empty, stripped text to the type ``spec`` declares, or raise Invalid."""
    parser = _PARSERS.get(spec.type, _parse_string)
    return parser(spec, text)


def _parse_string(spec: FieldSpec, text: str) -> str:
    return text


def _parse_text(spec: FieldSpec, text: str) -> str:
    # Browsers send CRLF; count a line break as one character, as the person sees it.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _parse_long(spec: FieldSpec, text: str) -> int:
    compact = re.sub(r"\s", "", text)
    if _GROUPED_WHOLE.fullmatch(compact):
        compact = compact.replace(",", "")
    if not _WHOLE.fullmatch(compact):
        raise Invalid(message(spec, "format", _("%(name)s must be a whole number", name=subject(spec.label))))
    return int(compact)


def _parse_decimal(spec: FieldSpec, text: str) -> Decimal:
    name = subject(spec.label)
    compact = re.sub(r"\s", "", text).removeprefix("€").removesuffix("€")
    if compact.upper().endswith("EUR"):
        compact = compact[:-3]
    if _GROUPED_AMOUNT.fullmatch(compact):
        compact = compact.replace(",", "")
    elif _DECIMAL_COMMA.fullmatch(compact):
        compact = compact.replace(",", ".")
    if not _AMOUNT.fullmatch(compact):
        euros = spec.properties.get("unit", "EUR").strip().upper() == "EUR"  # no unit ("") is a plain number
        generated = (_("%(name)s must be an amount in euros, like 125.50", name=name) if euros
                     else _("%(name)s must be a number, like 2.5", name=name))
        raise Invalid(message(spec, "format", generated))
    value = Decimal(compact)
    if value != value.quantize(CENT):
        raise Invalid(message(spec, "format", _("%(name)s must not have more than 2 decimal places", name=name)))
    return value.quantize(CENT, rounding=ROUND_HALF_UP) + Decimal("0.00")  # + 0 turns -0.00 into 0.00


def _parse_date(spec: FieldSpec, text: str) -> dt.date:
    compact = re.sub(r"\s", "", text)
    if match := _ISO_DATE.fullmatch(compact):
        year, month, day = (int(part) for part in match.groups())
    elif match := _EU_DATE.fullmatch(compact):
        day, month, year = (int(part) for part in match.groups())
    else:
        raise Invalid(not_a_date(spec))
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise Invalid(not_a_date(spec)) from None


def not_a_date(spec: FieldSpec) -> str:
    return message(spec, "format", _("%(name)s must be a real date", name=subject(spec.label)))


class DateInvalid(Invalid):
    """A date whose parts cannot make a date; ``parts`` are the boxes to mark (all if empty)."""

    def __init__(self, text: str, parts: tuple[str, ...] = ()):
        super().__init__(text)
        self.parts = parts


def parse_date_parts(spec: FieldSpec, day: str, month: str, year: str) -> dt.date | None:
    """Return the date typed into the day, month and year boxes (None when all are empty),
    or raise DateInvalid with the GOV.UK message ("… must include a month") and the boxes
    to mark. A month may be written as a number or a name ("3", "Mar", "March")."""
    given = {"day": day.strip(), "month": month.strip(), "year": year.strip()}
    missing = tuple(part for part in DATE_PARTS if not given[part])
    if len(missing) == len(DATE_PARTS):
        return None
    if missing:
        parts = [str(_PART_NAMES[part]) for part in missing]
        words = parts[0] if len(parts) == 1 else _("%(first)s and %(second)s", first=parts[0], second=parts[1])
        generated = _("%(name)s must include a %(parts)s", name=subject(spec.label), parts=words)
        raise DateInvalid(message(spec, "incomplete", generated, missing=words), missing)
    month_text = given["month"].lower().rstrip(".")
    month_number = _MONTH_NAMES.get(month_text) or next(
        (n for name, n in _MONTH_NAMES.items() if len(month_text) >= 3 and name.startswith(month_text)), None)
    if month_number is None:
        month_number = int(month_text) if month_text.isdigit() and len(month_text) <= 2 else 0
    if not (given["day"].isdigit() and len(given["day"]) <= 2):
        raise DateInvalid(not_a_date(spec), ("day",))
    if not (given["year"].isdigit() and len(given["year"]) == 4):
        generated = _("%(name)s must include a year with 4 numbers, like 2027", name=subject(spec.label))
        raise DateInvalid(message(spec, "format", generated), ("year",))
    try:
        return dt.date(int(given["year"]), month_number, int(given["day"]))
    except ValueError:
        raise DateInvalid(not_a_date(spec)) from None


def time_spec(spec: FieldSpec) -> FieldSpec:
    """The time part of a ``datetime`` field, as a ``time`` field of its own: labelled by its
    ``time_label`` property ("Time the visit starts"), so its messages name the time."""
    label = spec.properties.get("time_label") or _("Time")
    return replace(spec, label=label, type="time", properties={"hint": str(TIME_HINT)})


def _parse_time(spec: FieldSpec, text: str) -> str:
    """Return a time as 24-hour ``HH:MM`` ("09:30" for "9.30" or "9:30am"), or raise Invalid."""
    match = _TIME.fullmatch(re.sub(r"\s", "", text))
    hour, minute = (int(match.group(1)), int(match.group(2) or 0)) if match else (-1, -1)
    if match and match.group(3):  # 12-hour: 12am is midnight, 12pm midday
        hour = -1 if not 1 <= hour <= 12 else hour % 12 + (12 if match.group(3).lower() == "pm" else 0)
    elif match and match.group(2) is None:
        hour = -1  # "14" alone is not a time
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise Invalid(message(spec, "format", _("%(name)s must be a real time, like 14:30", name=subject(spec.label))))
    return f"{hour:02d}:{minute:02d}"


def _parse_datetime(spec: FieldSpec, text: str) -> str:
    """Return one ISO date and time ("2027-03-12T14:30") as form-js stores it, or raise Invalid."""
    match = _ISO_DATETIME.fullmatch(text.strip())
    if match is None:
        raise Invalid(not_a_date(spec))
    return join_datetime(_parse_date(spec, match.group(1)), _parse_time(time_spec(spec), match.group(2)))


def join_datetime(day: dt.date, time: str) -> str:
    """The stored value of a date and time: ``2027-03-12T14:30``, local time, as form-js writes it."""
    return f"{day.isoformat()}T{time}"


def split_datetime(value: Any) -> tuple[dt.date, str] | None:
    """The date and ``HH:MM`` time of a stored date and time, or None when it is not one."""
    if isinstance(value, dt.datetime):
        return value.date(), f"{value.hour:02d}:{value.minute:02d}"
    match = _ISO_DATETIME.fullmatch(str(value).strip())
    if match is None:
        return None
    year, month, day = (int(part) for part in match.group(1).split("-"))
    hour, minute = match.group(2).split(":")
    try:
        return dt.date(year, month, day), f"{int(hour):02d}:{minute}"
    except ValueError:
        return None


def is_email(text: str) -> bool:
    """Whether ``text`` is an email address the outbox can send to, internationalised or not.

    At most 254 characters, and 64 bytes (UTF-8) before the @; characters other than ASCII
    must be letters, marks or digits, so no invisible or look-alike space gets in.
    """
    return (len(text) <= DEFAULT_MAXLENGTH["email"] and _EMAIL.fullmatch(text) is not None
            and len(text.split("@")[0].encode("utf-8")) <= 64
            and all(char.isascii() or unicodedata.category(char)[0] in "LMN" for char in text))


def _parse_email(spec: FieldSpec, text: str) -> str:
    if not is_email(text):
        raise Invalid(message(spec, "format", EMAIL_MESSAGE))
    return text


def iban_example(spec: FieldSpec) -> str:
    """Return the example IBAN the field's hint gives (so the message repeats it), or ours."""
    for found in _IBAN_IN_TEXT.findall(spec.properties.get("hint", "")):
        try:
            IBAN(found.replace(" ", ""))
        except SchwiftyException:
            continue
        return str(found)
    return IBAN_EXAMPLE


def _parse_iban(spec: FieldSpec, text: str) -> str:
    compact = re.sub(r"[\s-]", "", text).upper()
    wrong_format = message(spec, "format", IBAN_MESSAGE % {"example": iban_example(spec)})
    if len(compact) > 34:
        raise Invalid(wrong_format)
    try:
        return IBAN(compact).compact
    except (InvalidChecksumDigits, InvalidBBANChecksum):
        raise Invalid(message(spec, "checksum", IBAN_CHECKSUM_MESSAGE)) from None
    except SchwiftyException:
        raise Invalid(wrong_format) from None


_PARSERS = {
    "string": _parse_string,
    "text": _parse_text,
    "long": _parse_long,
    "decimal": _parse_decimal,
    "date": _parse_date,
    "email": _parse_email,
    "iban": _parse_iban,
    "time": _parse_time,
    "datetime": _parse_datetime,
}


def check_constraints(spec: FieldSpec, value: Any, today: dt.date) -> None:
    """Raise Invalid when a converted value breaks a constraint or property of the field."""
    name = subject(spec.label)
    if spec.type in TEXT_TYPES:
        pattern = spec.constraints.get("pattern")
        if pattern and re.fullmatch(pattern, value) is None:  # form-js: the whole value must match
            raise Invalid(message(spec, "format", _("%(name)s must be in the right format", name=name)))
        minlength = _int(spec.constraints.get("minlength"))
        maxlength = _int(spec.constraints.get("maxlength")) or DEFAULT_MAXLENGTH.get(spec.type)
        if minlength is not None and len(value) < minlength:
            shown = format_number(minlength)
            generated = _("%(name)s must be %(count)s characters or more", name=name, count=shown)
            raise Invalid(message(spec, "minlength", generated, minlength=shown))
        if maxlength is not None and len(value) > maxlength:
            shown = format_number(maxlength)
            generated = _("%(name)s must be %(count)s characters or less", name=name, count=shown)
            raise Invalid(message(spec, "maxlength", generated, maxlength=shown))
    elif spec.type in NUMBER_TYPES:
        low, high = number_limit(spec, "min"), number_limit(spec, "max")
        if low is not None and value < low:
            shown = format_number(low)
            raise Invalid(message(spec, "min", _("%(name)s must be %(limit)s or more", name=name, limit=shown),
                                  min=shown))
        if high is not None and value > high:
            shown = format_number(high)
            raise Invalid(message(spec, "max", _("%(name)s must be %(limit)s or less", name=name, limit=shown),
                                  max=shown))
    elif spec.type == "date":
        earliest, latest = date_limit(spec, "min"), date_limit(spec, "max")
        if earliest is not None and value < earliest:
            shown = format_date(earliest)
            generated = _("%(name)s must be the same as or after %(limit)s", name=name, limit=shown)
            raise Invalid(message(spec, "min", generated, min=shown))
        if latest is not None and value > latest:
            shown = format_date(latest)
            generated = _("%(name)s must be the same as or before %(limit)s", name=name, limit=shown)
            raise Invalid(message(spec, "max", generated, max=shown))
        if is_true(spec.properties.get("future")) and value <= today:
            raise Invalid(message(spec, "future", _("%(name)s must be in the future", name=name)))
    elif spec.type == "datetime":  # form-js's disallowPassedDates: today or a later day
        parts = split_datetime(value)
        if parts is not None and is_true(spec.properties.get("future")) and parts[0] < today:
            raise Invalid(message(spec, "future", _("%(name)s must be today or in the future", name=name)))


def number_limit(spec: FieldSpec, name: str) -> Decimal | None:
    """Return the min or max constraint of a number field."""
    config = spec.constraints.get(name)
    return None if config in (None, "") else Decimal(config.strip())


def date_limit(spec: FieldSpec, name: str) -> dt.date | None:
    """Return the min or max constraint of a date field (an ISO date in the diagram)."""
    config = spec.constraints.get(name)
    return None if config in (None, "") else dt.date.fromisoformat(config.strip())


def _int(config: str | None) -> int | None:
    return None if config in (None, "") else int(config.strip())


def is_true(config: str | None) -> bool:
    """Return whether a property such as ``future`` or ``multiple`` is switched on."""
    return (config or "").strip().lower() == "true"


def parse_required_if(config: str) -> tuple[str, frozenset[str]]:
    """Split ``decision=reject,request_changes`` into the field and the values that need it."""
    field_id, sep, values = config.partition("=")
    wanted = frozenset(v.strip() for v in values.split(",") if v.strip())
    if not sep or not field_id.strip() or not wanted:
        raise ValueError(f"required_if must look like decision=reject,request_changes, not {config!r}")
    return field_id.strip(), wanted


def default_reference(spec: FieldSpec) -> str | None:
    """The variable a field's ``defaultValue`` shows (``${name}``); None for a literal or none."""
    match = _DEFAULT_REF.fullmatch((spec.default or "").strip())
    return match.group(1) if match else None


def resolve_default(spec: FieldSpec, instance_data: dict[str, Any] | None) -> Any:
    """Return the typed value a field shows before anything is submitted, or None.

    An explicit ``defaultValue`` wins. Without one, a readonly field shows the request's
    variable of its own id, as Camunda fills a generated form's field; a field the person
    answers is not filled that way (an earlier step's decision or reason, or this step's last
    round's answer, is never offered as theirs), nor is a computed one (worked out afresh).
    """
    if spec.default is None:
        shows_data = spec.readonly and not spec.properties.get("computed")
        return coerce(spec, (instance_data or {}).get(spec.id)) if shows_data else None
    if (name := default_reference(spec)) is not None:
        return coerce(spec, (instance_data or {}).get(name))
    return coerce(spec, spec.default)


def coerce(spec: FieldSpec, value: Any) -> Any:
    """Convert a stored or literal value to the field's type; None when it cannot be."""
    if value is None or value == "":
        return None
    try:
        return _coerce(spec.type, value, spec)
    except (Invalid, InvalidOperation, ValueError, TypeError):
        return None


def _coerce(kind: str, value: Any, spec: FieldSpec) -> Any:
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None
    if kind == "long":
        if isinstance(value, bool):
            return None
        if isinstance(value, int | Decimal | float):
            number = Decimal(str(value))
            return int(number) if number == number.to_integral_value() else None
        return _parse_long(spec, str(value).strip())
    if kind == "decimal":
        if isinstance(value, bool):
            return None
        if isinstance(value, int | Decimal | float):
            return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
        return _parse_decimal(spec, str(value).strip())
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        return _parse_date(spec, str(value).strip()[:10])
    if kind == "datetime":
        if (parts := split_datetime(value)) is None:
            return None
        day, time = parts
        _parse_time(time_spec(spec), time)  # 25:00 is no time
        return join_datetime(day, time)
    if kind == "time":
        return _parse_time(spec, str(value).strip())
    if kind == "file":
        return value
    if kind == "enum":
        return value
    if kind == "checklist":
        items = value if isinstance(value, list | tuple) else str(value).split(",")
        return [str(item).strip() for item in items if str(item).strip()]
    return str(value)


def text_value(spec: FieldSpec, value: Any) -> str:
    """Return a typed value as the text an input shows, in a form ``parse`` reads back."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)
