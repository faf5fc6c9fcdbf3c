"""The guards diagram code calls instead of operators, methods and builtins that could build
something huge: each works out the size of its result and charges the step's budget
(``limits.py``) before building it."""

from __future__ import annotations

import math
import re
import sys
from decimal import Decimal
from typing import Any

from .limits import _ITEM, _POINTER, MAX_DIGITS, MAX_INT_BITS, _budget

# -- sizes -----------------------------------------------------------------------------------

_SEQUENCES = (str, bytes, bytearray, list, tuple)


def _item_bytes(seq: Any) -> float:
    """Bytes per item of a sequence: a character of its kind, a byte, or a pointer."""
    if isinstance(seq, str):
        return max(1.0, (sys.getsizeof(seq) - sys.getsizeof("")) / len(seq)) if seq else 1.0
    if isinstance(seq, bytes | bytearray):
        return 1.0
    return _POINTER


def _int_result(bits: float, what: str) -> None:
    """Count an integer result of ``bits`` bits; refuse one over ``MAX_INT_BITS``."""
    budget = _budget()
    if bits > MAX_INT_BITS:
        budget.refuse(f"{what} would make a number of about {bits * 0.30103:,.0f} digits; diagram code may "
                      f"work with numbers of up to {MAX_INT_BITS * 0.30103:,.0f} digits")
    budget.charge(bits / 8 + 28, what)


def _repeat(seq: Any, times: Any, what: str) -> None:
    if isinstance(times, int) and times > 0:
        _budget().charge(len(seq) * times * _item_bytes(seq), what)


def _check_digits(value: Any, what: str) -> None:
    """Refuse a Decimal whose integer digits would be too many to write out or convert."""
    if isinstance(value, Decimal) and value.is_finite() and value.adjusted() >= MAX_DIGITS:
        _budget().refuse(f"{what} of a number with {value.adjusted() + 1:,} digits: diagram code may write out "
                         f"numbers of up to {MAX_DIGITS:,} digits")


def _text_size(value: Any, limit: float) -> float:
    """About how long ``str(value)`` is, counting no further than ``limit``."""
    total = 0.0
    stack = [value]
    seen: set[int] = set()
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str | bytes | bytearray):
            total += len(item) + 3
        elif isinstance(item, list | tuple | set | frozenset | dict):
            if id(item) in seen:
                continue
            seen.add(id(item))
            total += 2 + 2 * len(item)
            stack.extend(item.items() if isinstance(item, dict) else item)
        else:
            total += 24
    return total


def check_value(value: Any, what: str) -> None:
    """Refuse writing out a value whose text would be over the budget."""
    _check_digits(value, what)
    if isinstance(value, list | tuple | set | frozenset | dict) and value:
        budget = _budget()
        budget.charge(_text_size(value, budget.left), what)


# -- operators -------------------------------------------------------------------------------

def guarded_mul(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int):
        if left and right:
            _int_result(left.bit_length() + right.bit_length(), "a multiplication")
    elif isinstance(left, _SEQUENCES) and isinstance(right, int):
        _repeat(left, right, "repeating a text or list")
    elif isinstance(right, _SEQUENCES) and isinstance(left, int):
        _repeat(right, left, "repeating a text or list")
    return left * right


def guarded_pow(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int) and right > 1 and abs(left) > 1:
        _int_result(right * math.log2(abs(left)), "a power")
    return left**right


def guarded_lshift(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int) and left and right > 0:
        _int_result(left.bit_length() + right, "a shift")
    return left << right


def guarded_add(left: Any, right: Any) -> Any:
    if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        size = len(left) + len(right)
        _budget().charge(size * max(_item_bytes(left), _item_bytes(right)), "joining two texts or lists")
    return left + right


_SPEC_NUMBER = re.compile(r"\d+")


def _check_spec(spec: str, what: str) -> None:
    """Refuse a format spec (``>20``, ``.2f``, ``%10d``) whose width or precision is too wide."""
    budget = _budget()
    for number in _SPEC_NUMBER.findall(spec):
        if len(number) > 12 or int(number) > budget.left:
            budget.charge(int(number[:12]) if len(number) <= 12 else math.inf, what)


def _check_format_args(args: Any, what: str) -> None:
    """Arguments a format may take widths from (``*``, ``{:{w}}``), or write out in full."""
    budget = _budget()
    for value in args:
        if isinstance(value, int) and not isinstance(value, bool) and value > budget.left:
            budget.charge(value, what)
        check_value(value, what)


def guarded_mod(left: Any, right: Any) -> Any:
    if isinstance(left, str | bytes):
        _check_spec(left if isinstance(left, str) else left.decode("latin-1"), "a % format")
        values = right if isinstance(right, tuple) else right.values() if isinstance(right, dict) else (right,)
        _check_format_args(values, "a % format")
        _budget().charge(len(left), "a % format")
    return left % right


def guarded_format(value: Any, conversion: int, spec: str) -> str:
    """An f-string's ``{value!r:spec}``, checked first."""
    if spec:
        _check_spec(spec, "a format width")
    check_value(value, "writing out a value")
    if conversion == ord("r"):
        value = repr(value)
    elif conversion == ord("s"):
        value = str(value)
    elif conversion == ord("a"):
        value = ascii(value)
    return format(value, spec)


_INPLACE = {"*=": guarded_mul, "**=": guarded_pow, "+=": guarded_add, "%=": guarded_mod}


def check_inplace(op: str, left: Any, right: Any) -> None:
    """Check an augmented assignment as its plain operator would be (without running it)."""
    if op == "*=":
        if isinstance(left, _SEQUENCES) and isinstance(right, int):
            _repeat(left, right, "repeating a text or list")
        elif isinstance(left, int) and isinstance(right, _SEQUENCES):
            _repeat(right, left, "repeating a text or list")
        elif isinstance(left, int) and isinstance(right, int) and left and right:
            _int_result(left.bit_length() + right.bit_length(), "a multiplication")
    elif op == "**=":
        if isinstance(left, int) and isinstance(right, int) and right > 1 and abs(left) > 1:
            _int_result(right * math.log2(abs(left)), "a power")
    elif op == "+=":
        if isinstance(left, _SEQUENCES) and isinstance(right, (*_SEQUENCES, range)) and len(right) > 0:
            if isinstance(left, list):
                _budget().charge(len(right) * _POINTER, "extending a list")
            else:
                _budget().charge((len(left) + len(right)) * _item_bytes(left), "joining two texts or lists")
    elif op == "%=" and isinstance(left, str | bytes):
        _check_spec(left if isinstance(left, str) else left.decode("latin-1"), "a % format")
        _check_format_args(right if isinstance(right, tuple) else (right,), "a % format")


# -- methods that build something bigger than what they are called on ------------------------

def _width(method: str):
    def guard(obj, width, *args):
        if isinstance(width, int) and width > len(obj):
            _budget().charge(width * _item_bytes(obj), f".{method}()")
        return getattr(obj, method)(width, *args)
    return guard


def _expandtabs(obj, tabsize=8):
    if isinstance(tabsize, int) and tabsize > 1:
        tabs = obj.count("\t" if isinstance(obj, str) else b"\t")
        _budget().charge((len(obj) + tabs * tabsize) * _item_bytes(obj), ".expandtabs()")
    return obj.expandtabs(tabsize)


def _replace(obj, old, new, count=-1):
    if isinstance(old, str | bytes) and isinstance(new, str | bytes) and len(new) > len(old):
        found = obj.count(old) if old else len(obj) + 1
        if isinstance(count, int) and 0 <= count < found:
            found = count
        _budget().charge((len(obj) + found * (len(new) - len(old))) * _item_bytes(obj), ".replace()")
    return obj.replace(old, new, count)


def _join(obj, iterable):
    items = iterable if isinstance(iterable, list | tuple) else list(iterable)
    _budget().charge(len(items) * _POINTER, ".join()")
    size = sum(len(item) for item in items if isinstance(item, str | bytes)) + len(obj) * max(len(items) - 1, 0)
    _budget().charge(size * _item_bytes(obj), ".join()")
    return obj.join(items)


def _splitter(method: str):
    def guard(obj, *args, **kwargs):
        # At most one item per character and one more, each a new small object.
        _budget().charge((len(obj) + 1) * (_POINTER + _ITEM) if len(obj) > 4096 else 0, f".{method}()")
        return getattr(obj, method)(*args, **kwargs)
    return guard


def _encode(obj, *args, **kwargs):
    _budget().charge(len(obj) * 4, ".encode()")
    return obj.encode(*args, **kwargs)


def _hex(obj, *args):
    _budget().charge(len(obj) * 3, ".hex()")
    return obj.hex(*args)


def _extend(obj, iterable):
    if isinstance(iterable, list | tuple | str | bytes | dict | set | frozenset | range):
        _budget().charge(len(iterable) * _POINTER, ".extend()")
        return obj.extend(iterable)
    items = list(iterable)  # a generator: one tick per item already
    _budget().charge(len(items) * _POINTER, ".extend()")
    return obj.extend(items)


def _append(obj, item):
    _budget().charge(_POINTER, ".append()")
    return obj.append(item)


def _insert(obj, index, item):
    _budget().charge(_POINTER, ".insert()")
    return obj.insert(index, item)


_TEXT_METHODS = {
    "ljust": _width("ljust"), "rjust": _width("rjust"), "center": _width("center"), "zfill": _width("zfill"),
    "expandtabs": _expandtabs, "replace": _replace, "join": _join,
    "split": _splitter("split"), "rsplit": _splitter("rsplit"), "splitlines": _splitter("splitlines"),
}
METHOD_GUARDS: dict[type, dict[str, Any]] = {
    # (str.format and format_map are refused by RestrictedPython's getattr already)
    str: {**_TEXT_METHODS, "encode": _encode},
    bytes: {**_TEXT_METHODS, "hex": _hex},
    bytearray: {**_TEXT_METHODS, "hex": _hex, "extend": _extend, "append": _append, "insert": _insert},
    list: {"extend": _extend, "append": _append, "insert": _insert},
}


# -- builtins that build from their argument -------------------------------------------------

def _sized(value: Any, what: str) -> None:
    try:
        count = len(value)
    except TypeError:
        return  # an iterator: built one ticked item at a time
    _budget().charge(count * _POINTER, what)


class _GuardedType(type):
    """A stand-in for a builtin type: calling it is checked; ``isinstance`` and attributes are
    the builtin's, so ``isinstance(x, int)`` and ``int.from_bytes`` read as they always did."""

    _wrapped: type  # (names with "_" are out of the diagram code's reach)

    def __call__(cls, *args, **kwargs):
        cls._check(*args, **kwargs)
        return cls._wrapped(*args, **kwargs)

    def __instancecheck__(cls, obj):
        return isinstance(obj, cls._wrapped)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, cls._wrapped)

    def __getattr__(cls, name):
        return getattr(cls._wrapped, name)

    def __repr__(cls):
        return repr(cls._wrapped)


def wrapped_type(value: Any) -> Any:
    """The builtin type behind a stand-in, or ``value`` itself."""
    return value._wrapped if isinstance(value, _GuardedType) else value


def _guarded_type(builtin: type, check) -> type:
    return _GuardedType(builtin.__name__, (), {"_wrapped": builtin, "_check": staticmethod(check)})


def _check_int(value=0, *args, **kwargs):
    _check_digits(value, "int()")


def _check_list(iterable=(), *args, **kwargs):
    _sized(iterable, "list()")


def _check_str(value="", *args, **kwargs):
    check_value(value, "str()")


def guarded_sorted(iterable, *args, **kwargs):
    if not isinstance(iterable, list | tuple | str | bytes | dict | set | frozenset):
        iterable = list(iterable)
    _sized(iterable, "sorted()")
    return sorted(iterable, *args, **kwargs)


def guarded_sum(iterable, *args, **kwargs):
    """``sum``; adding up texts or lists (``sum(lists, [])``) is counted as it would grow."""
    items = iterable if isinstance(iterable, list | tuple) else list(iterable)
    start = args[0] if args else kwargs.get("start", 0)
    if isinstance(start, _SEQUENCES):
        size = len(start) + sum(len(item) for item in items if isinstance(item, _SEQUENCES))
        _budget().charge(size * _POINTER * max(1, len(items)) // 2, "sum() of texts or lists")
    return sum(items, *args, **kwargs)


def guarded_round(number, *args):
    _check_digits(number, "round()")
    return round(number, *args)


GUARDED_BUILTINS: dict[str, Any] = {
    "int": _guarded_type(int, _check_int),
    "list": _guarded_type(list, _check_list),
    "str": _guarded_type(str, _check_str),
    "sorted": guarded_sorted,
    "sum": guarded_sum,
    "round": guarded_round,
}
