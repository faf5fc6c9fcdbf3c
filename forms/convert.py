"""Turn what a person typed into a field's declared type, or say plainly what to correct.

Messages follow the GOV.UK Design System's error message patterns: they name the field, say
what is wrong and, where it helps, give an example of what is right.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from .text import format_date, format_number, label_name

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
# An e-mail address, internationalised too (RFC 6531): beside ASCII, any character that is not
# ASCII may stand where a letter may, in the local part and in the domain's labels; is_email
# then lets through only letters, marks and digits among them. The outbox sends such an address
# with SMTPUTF8.
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\x80-\U0010ffff-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\x80-\U0010ffff-]+)*"
    r"@(?:[A-Za-z0-9\x80-\U0010ffff](?:[A-Za-z0-9\x80-\U0010ffff-]{0,61}[A-Za-z0-9\x80-\U0010ffff])?\.)+"
    r"(?:[A-Za-z\x80-\U0010ffff]{2,63}|xn--[A-Za-z0-9-]{1,59})"
)
_DEFAULT_REF = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")

EMAIL_MESSAGE = "Enter an email address in the correct format, like name@example.com"
IBAN_MESSAGE = "Enter an IBAN in the correct format, like DE89 3704 0044 0532 0130 00"
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
        raise Invalid(f"{label_name(spec.label)} must be a whole number")
    return int(compact)


def _parse_decimal(spec: FieldSpec, text: str) -> Decimal:
    name = label_name(spec.label)
    compact = re.sub(r"\s", "", text).removeprefix("€").removesuffix("€")
    if compact.upper().endswith("EUR"):
        compact = compact[:-3]
    if _GROUPED_AMOUNT.fullmatch(compact):
        compact = compact.replace(",", "")
    elif _DECIMAL_COMMA.fullmatch(compact):
        compact = compact.replace(",", ".")
    if not _AMOUNT.fullmatch(compact):
        raise Invalid(f"{name} must be an amount in euros, like 125.50")
    value = Decimal(compact)
    if value != value.quantize(CENT):
        raise Invalid(f"{name} must not have more than 2 decimal places")
    return value.quantize(CENT, rounding=ROUND_HALF_UP) + Decimal("0.00")  # + 0 turns -0.00 into 0.00


def _parse_date(spec: FieldSpec, text: str) -> dt.date:
    compact = re.sub(r"\s", "", text)
    if match := _ISO_DATE.fullmatch(compact):
        year, month, day = (int(part) for part in match.groups())
    elif match := _EU_DATE.fullmatch(compact):
        day, month, year = (int(part) for part in match.groups())
    else:
        raise Invalid(f"{label_name(spec.label)} must be a real date")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise Invalid(f"{label_name(spec.label)} must be a real date") from None


def is_email(text: str) -> bool:
    """Whether ``text`` is an e-mail address the outbox can send to, internationalised or not.

    At most 254 characters, and 64 bytes (UTF-8) before the @; characters other than ASCII
    must be letters, marks or digits, so no invisible or look-alike space gets in.
    """
    return (len(text) <= DEFAULT_MAXLENGTH["email"] and _EMAIL.fullmatch(text) is not None
            and len(text.split("@")[0].encode("utf-8")) <= 64
            and all(char.isascii() or unicodedata.category(char)[0] in "LMN" for char in text))


def _parse_email(spec: FieldSpec, text: str) -> str:
    if not is_email(text):
        raise Invalid(EMAIL_MESSAGE)
    return text


def _parse_iban(spec: FieldSpec, text: str) -> str:
    compact = re.sub(r"[\s-]", "", text).upper()
    if len(compact) > 34:
        raise Invalid(IBAN_MESSAGE)
    try:
        return IBAN(compact).compact
    except SchwiftyException:
        raise Invalid(IBAN_MESSAGE) from None


_PARSERS = {
    "string": _parse_string,
    "text": _parse_text,
    "long": _parse_long,
    "decimal": _parse_decimal,
    "date": _parse_date,
    "email": _parse_email,
    "iban": _parse_iban,
}


def check_constraints(spec: FieldSpec, value: Any, today: dt.date) -> None:
    """Raise Invalid when a converted value breaks a constraint or property of the field."""
    name = label_name(spec.label)
    if spec.type in TEXT_TYPES:
        minlength = _int(spec.constraints.get("minlength"))
        maxlength = _int(spec.constraints.get("maxlength")) or DEFAULT_MAXLENGTH.get(spec.type)
        if minlength is not None and len(value) < minlength:
            raise Invalid(f"{name} must be {format_number(minlength)} characters or more")
        if maxlength is not None and len(value) > maxlength:
            raise Invalid(f"{name} must be {format_number(maxlength)} characters or less")
    elif spec.type in NUMBER_TYPES:
        low, high = number_limit(spec, "min"), number_limit(spec, "max")
        if low is not None and value < low:
            raise Invalid(f"{name} must be {format_number(low)} or more")
        if high is not None and value > high:
            raise Invalid(f"{name} must be {format_number(high)} or less")
    elif spec.type == "date":
        earliest, latest = date_limit(spec, "min"), date_limit(spec, "max")
        if earliest is not None and value < earliest:
            raise Invalid(f"{name} must be the same as or after {format_date(earliest)}")
        if latest is not None and value > latest:
            raise Invalid(f"{name} must be the same as or before {format_date(latest)}")
        if is_true(spec.properties.get("future")) and value <= today:
            raise Invalid(f"{name} must be in the future")


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


def resolve_default(spec: FieldSpec, instance_data: dict[str, Any] | None) -> Any:
    """Return the typed value a field shows before anything is submitted, or None."""
    if spec.default is None:
        return None
    if match := _DEFAULT_REF.fullmatch(spec.default.strip()):
        return coerce(spec, (instance_data or {}).get(match.group(1)))
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
    if kind == "file":
        return value
    if kind == "enum":
        return value
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
    return str(value)
