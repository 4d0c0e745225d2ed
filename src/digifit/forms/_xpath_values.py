"""Values of the XPath subset and the coercions between them (XPath 1.0 § 4, ODK XForms extensions).

A value is one of::

    str                       a string; an empty answer is ""
    float                     a number (int answers are turned into floats on lookup)
    bool                      a boolean
    datetime.date             a date (ODK extension); converts to the number of days since 1970-01-01
    datetime.datetime         a date-time; converts to fractional days since 1970-01-01T00:00Z
    list                      a node-set: the answers of a field inside a repeat, or a repeat's instances
    dict                      one repeat instance (a node whose string value is its answers concatenated)
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import numbers
import re
from collections.abc import Mapping, Sequence

from digifit.forms._xpath_errors import ExpressionError

Value = str | float | bool | dt.date | list | dict

EPOCH = dt.date(1970, 1, 1)
EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
NAN = math.nan
INF = math.inf

#: XPath 1.0 § 4.4 ``number()``: optional whitespace, optional minus, digits with an optional decimal point.
_NUMBER = re.compile(r"[ \t\n\r]*(-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))[ \t\n\r]*")
_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?"
)
#: Equality of numbers tolerates this absolute difference (as JavaRosa does), so 0.1 + 0.2 = 0.3.
EQUALITY_TOLERANCE = 1e-12


def normalize(value: object) -> Value:
    """Turn an answer from a caller's mapping into an evaluator value (``None`` is the empty answer)."""
    if value is None:
        return ""
    if isinstance(value, str | bool | float | dt.date | list | dict):
        return value
    if isinstance(value, numbers.Real | decimal.Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return list(value)
    return str(value)


# --------------------------------------------------------------------------------------------- coercions


def to_string(value: object) -> str:
    """Convert a value to a string as XPath ``string()`` does.

    Numbers print without a trailing ``.0`` and without exponent notation (``NaN``, ``Infinity``,
    ``-Infinity`` for the special values); booleans print ``true``/``false``; dates print as ISO 8601
    (``2024-03-01``, date-times ``2024-03-01T10:20:30.000+01:00``); a node-set prints its first node.

    Examples
    --------
    >>> to_string(3.0), to_string(0.5), to_string(True), to_string(None)
    ('3', '0.5', 'true', '')
    """
    value = normalize(value)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="milliseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return to_string(value[0]) if value else ""
    if isinstance(value, dict):
        return "".join(to_string(v) for v in value.values())
    return str(value)  # pragma: no cover - normalize() leaves nothing else


def to_number(value: object) -> float:
    """Convert a value to a number as XPath ``number()`` does (``NaN`` when it is not a number).

    Strings must look like an XPath number (``-12.5``, surrounding whitespace allowed; no exponent, no
    ``+``, no thousands separator, no decimal comma). ``true``/``false`` are 1 and 0. A date is its number
    of days since 1970-01-01, a date-time its fractional days since 1970-01-01T00:00Z.

    Examples
    --------
    >>> to_number(" 12 "), to_number(True), to_number("1e3")
    (12.0, 1.0, nan)
    """
    value = normalize(value)
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        match = _NUMBER.fullmatch(value)
        return float(match.group(1)) if match else NAN
    if isinstance(value, dt.datetime):
        return (_as_utc(value) - EPOCH_UTC).total_seconds() / 86400.0
    if isinstance(value, dt.date):
        return float((value - EPOCH).days)
    if isinstance(value, list):
        return to_number(value[0]) if value else NAN
    return to_number(to_string(value))


def to_boolean(value: object) -> bool:
    """Convert a value to a boolean as XPath ``boolean()`` does.

    A number is true unless it is 0 or NaN; a string is true unless it is empty (so ``'false'`` is
    *true*); a node-set is true unless it is empty; a date is always true.

    Examples
    --------
    >>> to_boolean(""), to_boolean("false"), to_boolean(0.0), to_boolean(float("nan")), to_boolean([1])
    (False, True, False, False, True)
    """
    value = normalize(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return not (value == 0 or math.isnan(value))
    if isinstance(value, str | list):
        return len(value) > 0
    return True  # dates and repeat instances


def format_number(x: float) -> str:
    """Print a number as XPath 1.0 does: integers without ``.0``, never exponent notation.

    >>> format_number(3.0), format_number(0.1 + 0.2), format_number(2.0**64), format_number(1e-7)
    ('3', '0.30000000000000004', '18446744073709552000', '0.0000001')
    """
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) < 2**53:
        return str(int(x))
    # The shortest digits that identify the double (XPath 1.0 § 4.2), never in exponent notation: 2**64 prints
    # 18446744073709552000, as JavaScript does, not its exact binary value 18446744073709551616.
    text = repr(x)
    if "e" in text or "E" in text:
        text = format(decimal.Decimal(text), "f")
    return text.removesuffix(".0")


def is_empty(value: object) -> bool:
    """Whether a value counts as "no answer" for ``coalesce()`` and ``once()``: ``""``, NaN or no nodes."""
    value = normalize(value)
    if isinstance(value, str | list):
        return len(value) == 0
    return isinstance(value, float) and math.isnan(value)


def as_int(x: float) -> int:
    """Truncate a number to an int the way Java's ``doubleValue().intValue()`` does (NaN is 0)."""
    if math.isnan(x):
        return 0
    if math.isinf(x):
        return 2**31 - 1 if x > 0 else -(2**31)
    return int(x)


def xpath_round(x: float) -> float:
    """XPath 1.0 ``round()``: the closest integer, ties toward positive infinity (-2.5 → -2)."""
    if math.isnan(x) or math.isinf(x):
        return x
    return float(math.floor(x + 0.5)) if abs(x) < 2**52 else x


def flatten(values: Sequence[object]) -> list[Value]:
    """Expand node-set arguments into their nodes (for the variadic functions)."""
    out: list[Value] = []
    for value in values:
        value = normalize(value)
        if isinstance(value, list):
            out.extend(normalize(v) for v in value)
        else:
            out.append(value)
    return out


# ------------------------------------------------------------------------------------------------- dates


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def parse_date(text: str, *, keep_time: bool) -> dt.date | None:
    """Parse an ISO 8601 date or date-time string; ``None`` when it is not one.

    With ``keep_time`` a date-time is returned (midnight UTC for a bare date); otherwise the date part as
    written.
    """
    text = text.strip()
    match = _DATETIME.fullmatch(text)
    if match:
        year, month, day, hour, minute = (int(match.group(i)) for i in range(1, 6))
        second = int(match.group(6) or 0)
        micro = int((match.group(7) or "0")[:6].ljust(6, "0"))
        zone = match.group(8)
        try:
            if not keep_time:
                return dt.date(year, month, day)
            tz: dt.tzinfo = dt.UTC
            if zone and zone != "Z":
                sign = -1 if zone[0] == "-" else 1
                digits = zone[1:].replace(":", "")
                offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
                tz = dt.timezone(sign * offset)
            return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
        except ValueError:
            return None
    match = _DATE.fullmatch(text)
    if match:
        try:
            day = dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            return None
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) if keep_time else day
    return None


def to_date(value: object, *, keep_time: bool, function: str) -> Value:
    """Convert to a date (``date()``) or a date-time (``date-time()``) as JavaRosa does.

    Strings are parsed as ISO 8601; numbers are days since 1970-01-01 (``date()`` truncates them). The
    empty string and NaN pass through unchanged (an unanswered date stays unanswered). Anything else that
    is not a date raises :class:`ExpressionError`.
    """
    value = normalize(value)
    if isinstance(value, list):
        value = normalize(value[0]) if value else ""
    if isinstance(value, dt.datetime):
        return value if keep_time else value.date()
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC) if keep_time else value
    if isinstance(value, float):
        if math.isnan(value):
            return value
        try:
            if keep_time:
                return EPOCH_UTC + dt.timedelta(days=value)
            return EPOCH + dt.timedelta(days=int(value))
        except (OverflowError, ValueError):
            raise ExpressionError(f"{function}(): {format_number(value)} days is out of range for a date") from None
    if isinstance(value, str):
        if value == "":
            return value
        parsed = parse_date(value, keep_time=keep_time)
        if parsed is None:
            raise ExpressionError(f"{function}(): {value!r} is not a date (expected YYYY-MM-DD)")
        return parsed
    raise ExpressionError(f"{function}(): cannot convert {to_string(value)!r} to a date")


# ------------------------------------------------------------------------------------ operators on values


def _is_date(value: Value) -> bool:
    return isinstance(value, dt.date)


def _date_operand(value: Value) -> Value | None:
    """The operand a date is compared with: strings are parsed as dates, ``None`` if they are not dates."""
    if isinstance(value, str):
        return parse_date(value, keep_time=True)
    if isinstance(value, dict):
        return parse_date(to_string(value), keep_time=True)
    return value


def _scalar_equal(a: Value, b: Value) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return to_boolean(a) == to_boolean(b)
    if _is_date(a) or _is_date(b):
        a2, b2 = _date_operand(a), _date_operand(b)
        if a2 is None or b2 is None:
            return False
        a, b = to_number(a2), to_number(b2)
    if isinstance(a, float) or isinstance(b, float):
        x, y = to_number(a), to_number(b)
        return x == y or abs(x - y) < EQUALITY_TOLERANCE
    return to_string(a) == to_string(b)


def _scalar_relation(op: str, a: Value, b: Value) -> bool:
    if _is_date(a) or _is_date(b):
        a2, b2 = _date_operand(a), _date_operand(b)
        if a2 is None or b2 is None:
            return False
        a, b = a2, b2
    x, y = to_number(a), to_number(b)
    if op == "<":
        return x < y
    if op == "<=":
        return x <= y
    if op == ">":
        return x > y
    return x >= y


def compare(op: str, a: object, b: object) -> bool:
    """Apply a comparison operator (``= != < <= > >=``) with XPath 1.0 § 3.4 semantics.

    A node-set compares true if *some* node does; a node-set against a boolean compares its
    ``boolean()``. Otherwise: with a boolean on either side ``=``/``!=`` compare booleans; with a number
    on either side they compare numbers; else strings. ``< <= > >=`` always compare numbers. A date on
    either side compares as a date; a string on the other side is parsed as an ISO date and when it is not
    one the comparison is false (and ``!=`` true).
    """
    a, b = normalize(a), normalize(b)
    a_set, b_set = isinstance(a, list), isinstance(b, list)
    if a_set or b_set:
        if isinstance(a, bool) or isinstance(b, bool):
            return compare(op, to_boolean(a), to_boolean(b))
        left = [normalize(x) for x in a] if a_set else [a]
        right = [normalize(y) for y in b] if b_set else [b]
        if a_set and b_set:  # node-set against node-set compares string values (or numbers for < >)
            left = [to_string(x) for x in left]
            right = [to_string(y) for y in right]
        return any(compare(op, x, y) for x in left for y in right)
    if op == "=":
        return _scalar_equal(a, b)
    if op == "!=":
        return not _scalar_equal(a, b)
    return _scalar_relation(op, a, b)


def arithmetic(op: str, a: object, b: object) -> float:
    """Apply ``+ - * div mod`` to the numbers of two values (XPath 1.0 § 3.5, IEEE 754).

    ``div`` by zero is ``Infinity``/``-Infinity`` (``NaN`` for ``0 div 0``); ``mod`` is the remainder of
    truncating division, so its sign follows the dividend, and ``x mod 0`` is ``NaN``.
    """
    x, y = to_number(a), to_number(b)
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if op == "div":
        if y == 0:
            if x == 0 or math.isnan(x):
                return NAN
            return math.copysign(INF, x) * math.copysign(1.0, y)
        return x / y
    if op == "mod":
        if math.isinf(y) and not math.isinf(x):
            return x
        try:
            return math.fmod(x, y)
        except ValueError:  # x infinite or y zero
            return NAN
    raise AssertionError(op)  # pragma: no cover - the parser only builds these operators
