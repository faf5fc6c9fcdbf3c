"""What translated JUEL calls at run time: JUEL's coercions, which Python's operators lack.

``juel.py`` turns ``${amount == '100'}`` into ``juel_eq(amount, '100')``; these functions give
the operators the meaning the Expression Language specification (EL 2.2, section 1.8-1.10)
gives them, so a diagram behaves as it did in Camunda:

- ``==`` between a number and a text compares numbers (``'100' == 100`` holds); between a
  boolean and a text, booleans; a text and anything else, texts; ``null`` equals only ``null``;
- ``< > <= >=`` compare numbers as numbers and texts alphabetically; ``null`` compares false;
- ``&& || ! ?:`` read ``null`` and ``''`` as false and the text ``'true'`` as true; anything
  else that is not a boolean is an error, as in Camunda;
- arithmetic reads ``null`` and ``''`` as 0 and a numeric text as its number;
- ``a.b`` and ``a['b']`` read a key of a dict (a missing key is ``null``) or an item of a list;
  they never read a Python attribute, so nothing can reach ``__class__`` and the like;
- ``x.equals(y)`` is Java's: same kind and same value, no coercion; on ``null`` an error.

The functions raise ``JuelEvalError`` with a plain message; SpiffWorkflow reports it as the
step's error.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any


class JuelEvalError(ValueError):
    """A JUEL expression met a value it cannot work with (as Camunda would refuse it too)."""


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, Mapping):
        return "a record"
    if isinstance(value, list | tuple):
        return "a list"
    return "a " + type(value).__name__


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def juel_number(value: Any) -> Any:
    """A value as a number, as JUEL's arithmetic coerces it: null and '' are 0."""
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        return Decimal(repr(value))  # as JUEL's BigDecimal arithmetic: mixes with Decimal money
    if _is_number(value):
        return value
    if value is None or value == "":
        return 0
    if isinstance(value, str):
        text = value.strip()
        try:
            number = int(text) if text.lstrip("+-").isdigit() else Decimal(text)
        except (ValueError, InvalidOperation):
            number = None
        if isinstance(number, int) or (isinstance(number, Decimal) and number.is_finite()):
            return number
        raise JuelEvalError(f"the text {value[:40]!r} is not a number")
    raise JuelEvalError(f"{_kind(value)} cannot be used as a number")


def juel_bool(value: Any) -> bool:
    """A value as true or false, as JUEL coerces it: null and '' are false, 'true' is true."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, str):
        return value.lower() == "true"
    raise JuelEvalError(f"{_kind(value)} ({str(value)[:40]}) is not true or false: compare it, e.g. x > 0")


def juel_eq(left: Any, right: Any) -> bool:
    """JUEL's ``==``."""
    if left is right:
        return True
    if left is None or right is None:
        return False
    if _is_number(left) or _is_number(right):
        return bool(juel_number(left) == juel_number(right))
    if isinstance(left, bool) or isinstance(right, bool):
        return juel_bool(left) == juel_bool(right)
    if isinstance(left, str) or isinstance(right, str):
        return _text(left) == _text(right)
    return bool(left == right)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_COMPARE = {
    "<": lambda a, b: a < b, ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b,
}


def juel_cmp(operator: str, left: Any, right: Any) -> bool:
    """JUEL's ``< > <= >=``."""
    compare = _COMPARE[operator]
    if left is None or right is None:
        return False
    if _is_number(left) or _is_number(right):
        return bool(compare(juel_number(left), juel_number(right)))
    if isinstance(left, str) or isinstance(right, str):
        return bool(compare(_text(left), _text(right)))
    try:
        return bool(compare(left, right))
    except TypeError:
        raise JuelEvalError(f"{_kind(left)} and {_kind(right)} cannot be compared with {operator}") from None


def juel_empty(value: Any) -> bool:
    """JUEL's ``empty``: null, '' or an empty list or record; 0 is not empty."""
    if value is None:
        return True
    if isinstance(value, str | list | tuple | Mapping | set):
        return len(value) == 0
    return False


def juel_get(base: Any, key: Any) -> Any:
    """JUEL's ``base.key`` and ``base[key]`` on JSON-like data: dict keys and list items only."""
    if base is None:
        return None
    if isinstance(key, str) and key.startswith("_"):
        raise JuelEvalError(f"the name {key!r} may not start with _")
    if isinstance(base, Mapping):
        return base.get(key)
    if isinstance(base, list | tuple):
        try:
            index = int(juel_number(key))
        except JuelEvalError:
            raise JuelEvalError(f"a list has items 0, 1, 2…, not {str(key)[:40]!r}") from None
        return base[index] if 0 <= index < len(base) else None
    raise JuelEvalError(f"{_kind(base)} has no field {str(key)[:40]!r}: only records (such as form or JSON "
                        "data) and lists can be read with . or []")


def juel_equals(value: Any, other: Any) -> bool:
    """Java's ``value.equals(other)``: the same kind and value, no coercion."""
    if value is None:
        raise JuelEvalError("equals(...) was called on null: the value is not set")
    if _is_number(value) and _is_number(other):
        return bool(value == other)
    if _kind(value) != _kind(other):
        return False
    return bool(value == other)


def juel_text(value: Any) -> str:
    """A value written into a text (``Dear ${name}``): null is nothing, booleans as JUEL writes them."""
    if value is None:
        return ""
    return _text(value)


JUEL_HELPERS: dict[str, Any] = {
    "juel_text": juel_text,
    "juel_number": juel_number, "juel_bool": juel_bool, "juel_eq": juel_eq, "juel_cmp": juel_cmp,
    "juel_empty": juel_empty, "juel_get": juel_get, "juel_equals": juel_equals,
}
