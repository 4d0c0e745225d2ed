"""The function library: XPath 1.0 core functions plus the ODK XForms extensions digifit supports.

Each entry of :data:`FUNCTIONS` states its arity (checked when an expression is compiled) and an
implementation. Eager functions get their arguments' values; lazy ones (``if``, ``coalesce``,
``indexed-repeat``, ``once``) get the argument trees and evaluate only what they need.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Protocol

from digifit.forms._xpath_errors import ExpressionError
from digifit.forms._xpath_syntax import Call, Node, Ref
from digifit.forms._xpath_values import (
    INF,
    NAN,
    Value,
    as_int,
    flatten,
    is_empty,
    normalize,
    to_boolean,
    to_date,
    to_number,
    to_string,
    xpath_round,
)


class Environment(Protocol):
    """What a function may read while an expression is evaluated."""

    today: dt.date

    def lookup(self, name: str) -> Value: ...

    def lookup_in(self, scope: Mapping[str, object], name: str) -> Value: ...

    def current(self) -> Value: ...

    @property
    def values(self) -> Mapping[str, object]: ...


Evaluate = Callable[[Node], Value]
Eager = Callable[["Environment", list[Value]], Value]
Lazy = Callable[["Environment", tuple[Node, ...], Evaluate], Value]


@dataclass(frozen=True)
class Function:
    """One function: its arity (``max_args=None`` is variadic) and implementation."""

    name: str
    min_args: int
    max_args: int | None
    impl: Eager | Lazy
    lazy: bool = False
    check: Callable[[Call], str | None] | None = None

    def arity_problem(self, count: int) -> str | None:
        if self.min_args <= count and (self.max_args is None or count <= self.max_args):
            return None
        if self.max_args == self.min_args:
            expected = f"{self.min_args} argument{'s' if self.min_args != 1 else ''}"
        elif self.max_args is None:
            expected = f"at least {self.min_args} argument{'s' if self.min_args != 1 else ''}"
        elif self.max_args == self.min_args + 1:
            expected = f"{self.min_args} or {self.max_args} arguments"
        else:
            expected = f"{self.min_args} to {self.max_args} arguments"
        return f"{self.name}() takes {expected}, got {count}"


FUNCTIONS: dict[str, Function] = {}


def _register(name: str, min_args: int, max_args: int | None, *, lazy: bool = False, check=None):
    def decorate(impl):
        FUNCTIONS[name] = Function(name, min_args, max_args, impl, lazy, check)
        return impl

    return decorate


def _alias(alias: str, name: str) -> None:
    original = FUNCTIONS[name]
    FUNCTIONS[alias] = Function(
        alias, original.min_args, original.max_args, original.impl, original.lazy, original.check
    )


def check_call(call: Call) -> str | None:
    """Parse-time check of one call: known function, right number of arguments, argument shapes."""
    function = FUNCTIONS.get(call.name)
    if function is None:
        return f"unknown function {call.name}()"
    problem = function.arity_problem(len(call.args))
    if problem is None and function.check is not None:
        problem = function.check(call)
    return problem


# ----------------------------------------------------------------------------------- logic and branching


@_register("true", 0, 0)
def _true(env, args):
    return True


@_register("false", 0, 0)
def _false(env, args):
    return False


@_register("not", 1, 1)
def _not(env, args):
    return not to_boolean(args[0])


@_register("boolean", 1, 1)
def _boolean(env, args):
    return to_boolean(args[0])


@_register("boolean-from-string", 1, 1)
def _boolean_from_string(env, args):
    text = to_string(args[0])
    return text.lower() == "true" or text == "1"


@_register("if", 3, 3, lazy=True)
def _if(env, nodes, evaluate):
    return evaluate(nodes[1]) if to_boolean(evaluate(nodes[0])) else evaluate(nodes[2])


@_register("coalesce", 2, 2, lazy=True)
def _coalesce(env, nodes, evaluate):
    first = evaluate(nodes[0])
    return evaluate(nodes[1]) if is_empty(first) else first


@_register("once", 1, 1, lazy=True)
def _once(env, nodes, evaluate):
    current = env.current()
    return evaluate(nodes[0]) if is_empty(current) else current


# ------------------------------------------------------------------------------------------- conversion


@_register("string", 0, 1)
def _string(env, args):
    return to_string(args[0] if args else env.current())


@_register("number", 0, 1)
def _number(env, args):
    return to_number(args[0] if args else env.current())


@_register("int", 1, 1)
def _int(env, args):
    x = to_number(args[0])
    return x if math.isnan(x) or math.isinf(x) else float(math.trunc(x))


# --------------------------------------------------------------------------------------------- numbers

_DECIMAL = Context(prec=80)


@_register("round", 1, 2)
def _round(env, args):
    x = to_number(args[0])
    places = as_int(to_number(args[1])) if len(args) > 1 else 0
    if math.isnan(x) or math.isinf(x):
        return x
    if abs(places) > 30:
        return NAN
    if places >= 0 and abs(x) >= 2**53:
        return x
    # JavaRosa rounds the shortest decimal text of the double, half toward +infinity (-2.5 -> -2).
    mode = ROUND_HALF_DOWN if x < 0 else ROUND_HALF_UP
    try:
        scaled = Decimal(repr(x)).scaleb(places, _DECIMAL)
        rounded = scaled.quantize(Decimal(1), rounding=mode, context=_DECIMAL)
        return float(rounded.scaleb(-places, _DECIMAL))
    except InvalidOperation:  # pragma: no cover - prec=80 covers |places| <= 30 on any double
        return NAN


@_register("floor", 1, 1)
def _floor(env, args):
    x = to_number(args[0])
    return x if math.isnan(x) or math.isinf(x) else float(math.floor(x))


@_register("ceiling", 1, 1)
def _ceiling(env, args):
    x = to_number(args[0])
    return x if math.isnan(x) or math.isinf(x) else float(math.ceil(x))


@_register("abs", 1, 1)
def _abs(env, args):
    return abs(to_number(args[0]))


def _odd_integer(y: float) -> bool:
    return math.isfinite(y) and y.is_integer() and int(y) % 2 == 1


@_register("pow", 2, 2)
def _pow(env, args):
    x, y = to_number(args[0]), to_number(args[1])
    try:
        return math.pow(x, y)
    except OverflowError:
        return -INF if x < 0 and _odd_integer(y) else INF
    except ValueError:  # 0 to a negative power is infinite (Java's Math.pow); otherwise NaN
        if x == 0 and y < 0:
            return math.copysign(INF, x) if _odd_integer(y) else INF
        return NAN


def _math(name: str, fn: Callable[..., float], arity: int = 1) -> None:
    def impl(env, args):
        numbers = [to_number(a) for a in args]
        try:
            return fn(*numbers)
        except OverflowError:
            return INF
        except ValueError:
            if name in ("log", "log10") and numbers[0] == 0:
                return -INF
            return NAN

    FUNCTIONS[name] = Function(name, arity, arity, impl)


for _name, _fn in {
    "sqrt": math.sqrt,
    "exp": math.exp,
    "exp10": lambda x: math.pow(10.0, x),
    "log": math.log,
    "log10": math.log10,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
}.items():
    _math(_name, _fn)
_math("atan2", math.atan2, 2)


@_register("pi", 0, 0)
def _pi(env, args):
    return math.pi


def _numbers(args: Sequence[Value]) -> list[float]:
    return [x for x in (to_number(v) for v in flatten(args)) if not math.isnan(x)]


@_register("max", 1, None)
def _max(env, args):
    numbers = _numbers(args)
    return max(numbers) if numbers else NAN


@_register("min", 1, None)
def _min(env, args):
    numbers = _numbers(args)
    return min(numbers) if numbers else NAN


@_register("sum", 1, 1)
def _sum(env, args):
    return math.fsum(_numbers(args))


@_register("count", 1, 1)
def _count(env, args):
    value = normalize(args[0])
    if isinstance(value, list):
        return float(len(value))
    return 0.0 if value == "" else 1.0


@_register("count-non-empty", 1, 1)
def _count_non_empty(env, args):
    return float(sum(1 for v in flatten(args) if to_string(v) != ""))


# --------------------------------------------------------------------------------------------- strings


@_register("concat", 0, None)
def _concat(env, args):
    return "".join(to_string(v) for v in flatten(args))


@_register("join", 1, None)
def _join(env, args):
    return to_string(args[0]).join(to_string(v) for v in flatten(args[1:]))


@_register("string-length", 0, 1)
def _string_length(env, args):
    return float(len(to_string(args[0] if args else env.current())))


_XML_SPACE = re.compile(r"[ \t\n\r]+")


@_register("normalize-space", 0, 1)
def _normalize_space(env, args):
    return _XML_SPACE.sub(" ", to_string(args[0] if args else env.current())).strip(" ")


@_register("contains", 2, 2)
def _contains(env, args):
    return to_string(args[1]) in to_string(args[0])


@_register("starts-with", 2, 2)
def _starts_with(env, args):
    return to_string(args[0]).startswith(to_string(args[1]))


@_register("ends-with", 2, 2)
def _ends_with(env, args):
    return to_string(args[0]).endswith(to_string(args[1]))


@_register("substring-before", 2, 2)
def _substring_before(env, args):
    text, part = to_string(args[0]), to_string(args[1])
    pos = text.find(part)
    return text[:pos] if pos >= 0 else ""


@_register("substring-after", 2, 2)
def _substring_after(env, args):
    text, part = to_string(args[0]), to_string(args[1])
    pos = text.find(part)
    return text[pos + len(part) :] if pos >= 0 else ""


@_register("substr", 2, 3)
def _substr(env, args):
    """ODK ``substr(text, start, end?)``: 0-based start, exclusive end; negative values count from the end."""
    text = to_string(args[0])
    n = len(text)
    start = as_int(to_number(args[1]))
    end = as_int(to_number(args[2])) if len(args) > 2 else n
    if start < 0:
        start += n
    if end < 0:
        end += n
    start, end = min(max(0, start), n), min(max(0, end), n)
    return text[start:end] if start <= end else ""


@_register("substring", 2, 3)
def _substring(env, args):
    """XPath 1.0 ``substring(text, start, length?)``: 1-based, positions rounded."""
    text = to_string(args[0])
    first = xpath_round(to_number(args[1]))
    stop = first + xpath_round(to_number(args[2])) if len(args) > 2 else INF
    return "".join(ch for i, ch in enumerate(text, start=1) if first <= i < stop)


@_register("translate", 3, 3)
def _translate(env, args):
    text, source, target = (to_string(a) for a in args)
    table: dict[int, int | None] = {}
    for i, ch in enumerate(source):
        table.setdefault(ord(ch), ord(target[i]) if i < len(target) else None)
    return text.translate(table)


@functools.lru_cache(maxsize=256)
def _pattern(expression: str) -> re.Pattern[str]:
    return re.compile(expression)


@_register("regex", 2, 2)
def _regex(env, args):
    text, expression = to_string(args[0]), to_string(args[1])
    try:
        pattern = _pattern(expression)
    except re.error as exc:
        raise ExpressionError(f"regex(): {expression!r} is not a valid regular expression ({exc})") from None
    return pattern.search(text) is not None  # a match anywhere, as the ODK spec's /pattern/.test(value)


# ------------------------------------------------------------------------------------------ select_multiple


def _choices(value: Value) -> list[str]:
    """The choices of a select_multiple answer: a space-separated string (as ODK stores it) or a list."""
    if isinstance(value, list):
        return [choice for item in flatten([value]) for choice in to_string(item).split()]
    return to_string(value).split()


@_register("selected", 2, 2)
def _selected(env, args):
    """Whether the choice is one of the answer's space-separated parts (choice trimmed), as JavaRosa and Enketo.

    The parts are split at single spaces, so the empty answer has one empty part and ``selected('', '')`` is
    true in all three (JavaRosa: ``" " + "" + " "`` contains ``" " + "" + " "``; Enketo: ``''.split(' ')``).
    """
    value = normalize(args[0])
    answer = " ".join(_choices(value)) if isinstance(value, list) else to_string(value)
    return to_string(args[1]).strip() in answer.split(" ")


_alias("is-selected", "selected")


@_register("count-selected", 1, 1)
def _count_selected(env, args):
    return float(len(_choices(args[0])))


@_register("selected-at", 2, 2)
def _selected_at(env, args):
    choices = _choices(args[0])
    index = as_int(to_number(args[1]))
    return choices[index] if 0 <= index < len(choices) else ""


# ------------------------------------------------------------------------------------------------ dates


@_register("today", 0, 0)
def _today(env, args):
    return env.today


@_register("now", 0, 0)
def _now(env, args):
    return dt.datetime.now(dt.UTC).astimezone()


@_register("date", 1, 1)
def _date(env, args):
    return to_date(args[0], keep_time=False, function="date")


@_register("date-time", 1, 1)
def _date_time(env, args):
    return to_date(args[0], keep_time=True, function="date-time")


@_register("decimal-date-time", 1, 1)
def _decimal_date_time(env, args):
    value = normalize(args[0])
    if isinstance(value, float) or value == "":
        return value
    return to_number(to_date(value, keep_time=True, function="decimal-date-time"))


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _format_date(moment: dt.datetime, pattern: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        if i + 1 >= len(pattern):
            raise ExpressionError(f"format-date(): the pattern {pattern!r} ends with '%'")
        code = pattern[i + 1]
        i += 2
        fields = {
            "%": "%",
            "Y": f"{moment.year:04d}",
            "y": f"{moment.year:04d}"[2:],
            "m": f"{moment.month:02d}",
            "n": str(moment.month),
            "b": _MONTHS[moment.month - 1],
            "d": f"{moment.day:02d}",
            "e": str(moment.day),
            "H": f"{moment.hour:02d}",
            "h": str(moment.hour),
            "M": f"{moment.minute:02d}",
            "S": f"{moment.second:02d}",
            "3": f"{moment.microsecond // 1000:03d}",
            "a": _WEEKDAYS[moment.weekday()],
        }
        if code not in fields:
            raise ExpressionError(f"format-date(): unknown escape '%{code}' in the pattern {pattern!r}")
        out.append(fields[code])
    return "".join(out)


@_register("format-date", 2, 2)
def _format_date_fn(env, args):
    value = to_date(args[0], keep_time=True, function="format-date")
    if not isinstance(value, dt.date):  # "" or NaN: an unanswered date formats as ""
        return ""
    if not isinstance(value, dt.datetime):  # pragma: no cover - to_date(keep_time=True) gives datetimes
        value = dt.datetime(value.year, value.month, value.day)
    return _format_date(value, to_string(args[1]))


_alias("format-date-time", "format-date")


# ------------------------------------------------------------------------------------------------ repeats


def _check_indexed_repeat(call: Call) -> str | None:
    if len(call.args) % 2 == 0:
        return "indexed-repeat() takes a field, then pairs of repeat and index: 3, 5, 7 ... arguments"
    for i, arg in enumerate(call.args):
        if (i == 0 or i % 2 == 1) and not isinstance(arg, Ref):
            what = "field" if i == 0 else "repeat"
            return f"indexed-repeat(): argument {i + 1} must be a {what} reference such as ${{name}}"
    return None


@_register("indexed-repeat", 3, None, lazy=True, check=_check_indexed_repeat)
def _indexed_repeat(env, nodes, evaluate):
    scope: Mapping[str, object] = env.values
    for repeat_node, index_node in zip(nodes[1::2], nodes[2::2], strict=True):
        instances = env.lookup_in(scope, repeat_node.name)
        index = max(as_int(to_number(evaluate(index_node))), 1)  # JavaRosa treats index < 1 as 1
        if not isinstance(instances, list) or index > len(instances):
            return ""
        instance = instances[index - 1]
        if not isinstance(instance, Mapping):
            return ""
        scope = instance
    return env.lookup_in(scope, nodes[0].name)


def _unsupported_position(call: Call) -> str:
    return "position() is not supported: expressions are evaluated outside any one repeat instance"


@_register("position", 0, 1, check=_unsupported_position)
def _position(env, args):  # pragma: no cover - rejected when the expression is compiled
    raise AssertionError("position()")
