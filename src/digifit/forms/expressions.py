"""Safe evaluation of XLSForm expressions (relevant, constraint, calculation, choice_filter).

The evaluator implements the XPath 1.0 subset XLSForms use, with ODK's extensions, as a tokenizer and
Pratt parser to an immutable syntax tree and an interpreter over it. It never calls Python's ``eval`` or
``exec``: an expression can only read the answers it is given and call the functions listed in
``docs/forms-expressions.md``.

::

    >>> expr = compile_expression("${age} >= 18 and selected(${channels}, 'shop')")
    >>> sorted(expr.references)
    ['age', 'channels']
    >>> expr.evaluate({"age": 42, "channels": "web shop"})
    True
    >>> evaluate("round(${x} div 3, 2)", {"x": 10})
    3.33

Answers are looked up by field name in the mapping passed to ``evaluate``: ``None`` or a missing name is
the empty answer ``""`` (as ODK treats non-relevant fields), ints become floats, a ``datetime.date`` is a
date, a select_multiple answer is a space-separated string, a group may be a nested dict, and a repeat is
a list of dicts (one per instance). A name that is not a key is looked for inside groups, then inside repeat
instances, where it refers to all its answers (a node-set): ``sum(${amount})`` adds a field across a repeat.

Errors::

    ExpressionError(ValueError, DigifitError)   syntax error, unknown function, wrong argument count
                                                (when compiled), or a value a function cannot use
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from digifit.forms._xpath_errors import ExpressionError
from digifit.forms._xpath_functions import FUNCTIONS, check_call
from digifit.forms._xpath_syntax import (
    Binary,
    Call,
    Context,
    Literal,
    Negate,
    Node,
    Parser,
    Ref,
    references,
    uses_context,
)
from digifit.forms._xpath_values import (
    Value,
    arithmetic,
    compare,
    normalize,
    to_boolean,
    to_number,
    to_string,
)

__all__ = [
    "Expression",
    "ExpressionError",
    "compile_expression",
    "evaluate",
    "function_names",
    "to_boolean",
    "to_number",
    "to_string",
    "type_name",
]

_COMPARISONS = frozenset({"=", "!=", "<", "<=", ">", ">="})


@dataclass(frozen=True)
class Expression:
    """A compiled expression: parse once, evaluate against many submissions.

    Attributes
    ----------
    source : str
        The expression text as written in the XLSForm.
    references : frozenset of str
        The field names it reads through ``${...}`` (or an absolute path's last step).
    uses_context : bool
        Whether it reads the current field (``.``, ``once()``, or ``string()``-style calls without arguments).
    """

    source: str
    references: frozenset[str]
    uses_context: bool
    tree: Node = field(repr=False, compare=False)

    def evaluate(
        self,
        values: Mapping[str, object],
        *,
        context: str | None = None,
        today: dt.date | None = None,
    ) -> str | float | bool | dt.date | list:
        """Evaluate the expression against one submission's answers.

        Parameters
        ----------
        values : mapping of str to object
            Answers by field name (see the module docstring for how Python values are read).
        context : str, optional
            The field the expression belongs to: what ``.`` refers to (a constraint's own answer).
        today : datetime.date, optional
            The date ``today()`` returns; the local date when omitted (pass it for reproducible results).

        Returns
        -------
        str, float, bool, datetime.date or list
            The value in XPath's types; use :func:`to_boolean` for ``relevant`` and ``constraint``.

        Raises
        ------
        ExpressionError
            When ``.`` is used without ``context`` or a function cannot use a value (``date('soon')``).
        """
        env = _Environment(values, context, today or dt.date.today(), self.source)
        try:
            return _evaluate(self.tree, env)
        except RecursionError:
            raise ExpressionError("the expression is nested too deeply", source=self.source) from None

    def __str__(self) -> str:
        return self.source


def compile_expression(source: str) -> Expression:
    """Parse an XLSForm expression into an :class:`Expression`.

    Raises
    ------
    ExpressionError
        On a syntax error, an unknown function or a wrong number of arguments; the error names the
        problem, its column and shows a caret under it.
    """
    if not isinstance(source, str):
        raise ExpressionError(f"an expression must be a string, got {type(source).__name__}")
    return _compile(source)


@functools.lru_cache(maxsize=2048)
def _compile(source: str) -> Expression:
    try:
        tree = Parser(source, check_call).parse()
    except RecursionError:
        raise ExpressionError("the expression is nested too deeply", source=source) from None
    return Expression(source, references(tree), uses_context(tree), tree)


def evaluate(
    source: str,
    values: Mapping[str, object],
    *,
    context: str | None = None,
    today: dt.date | None = None,
) -> str | float | bool | dt.date | list:
    """Compile and evaluate an expression in one call (compiled expressions are cached).

    >>> evaluate("if(${n} > 3, 'many', 'few')", {"n": "5"})
    'many'
    """
    return compile_expression(source).evaluate(values, context=context, today=today)


def type_name(value: object) -> str:
    """The XPath type of a value: ``number``, ``string``, ``boolean``, ``date`` or ``nodeset``."""
    value = normalize(value)
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, float):
        return "number"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, list | dict):
        return "nodeset"
    return "string"


def function_names() -> frozenset[str]:
    """The names of every function expressions may call."""
    return frozenset(name for name in FUNCTIONS if name != "position")


# ---------------------------------------------------------------------------------------- interpreter


class _Environment:
    """The answers and settings one evaluation reads."""

    __slots__ = ("context", "source", "today", "values")

    def __init__(self, values: Mapping[str, object], context: str | None, today: dt.date, source: str):
        self.values = values
        self.context = context
        self.today = today
        self.source = source

    def lookup(self, name: str) -> Value:
        return self.lookup_in(self.values, name)

    def lookup_in(self, scope: Mapping[str, object], name: str) -> Value:
        found, value, _ = _find(scope, name)
        return value if found else ""

    def current(self) -> Value:
        return "" if self.context is None else self.lookup(self.context)

    def require_context(self, pos: int) -> Value:
        if self.context is None:
            raise ExpressionError(
                "'.' refers to the current field, but no context field was given",
                source=self.source,
                position=pos,
            )
        return self.lookup(self.context)


def _answer(value: object) -> Value:
    """An answer from the caller's mapping as a value: ``None`` and NaN are unanswered, numpy scalars unboxed."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if hasattr(value, "dtype") and hasattr(value, "item"):  # numpy scalars (np.bool_ is no bool)
        return _answer(value.item())
    return normalize(value)


def _find(scope: Mapping[str, object], name: str) -> tuple[bool, Value, bool]:
    """Look ``name`` up in ``scope``, then in its groups (dicts), then across its repeats (lists of dicts).

    Returns (found, value, is_nodeset_of_repeats). Field names are unique in an XLSForm, so the first
    place a name occurs is the field.
    """
    if name in scope:
        return True, _answer(scope[name]), False
    for value in scope.values():
        if isinstance(value, Mapping):
            found, answer, collected = _find(value, name)
            if found:
                return True, answer, collected
    nodes: list[Value] = []
    hit = False
    for value in scope.values():
        if not isinstance(value, list | tuple):
            continue
        for instance in value:
            if not isinstance(instance, Mapping):
                continue
            found, answer, collected = _find(instance, name)
            if not found:
                continue
            hit = True
            if collected or (isinstance(answer, list) and all(isinstance(i, Mapping) for i in answer)):
                nodes.extend(answer)  # nested repeat: its instances or answers join the node-set
            else:
                nodes.append(answer)
    return hit, nodes, hit


def _evaluate(node: Node, env: _Environment) -> Value:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Ref):
        return env.lookup(node.name)
    if isinstance(node, Binary):
        op = node.op
        if op == "and":
            return to_boolean(_evaluate(node.left, env)) and to_boolean(_evaluate(node.right, env))
        if op == "or":
            return to_boolean(_evaluate(node.left, env)) or to_boolean(_evaluate(node.right, env))
        left, right = _evaluate(node.left, env), _evaluate(node.right, env)
        if op in _COMPARISONS:
            return compare(op, left, right)
        return arithmetic(op, left, right)
    if isinstance(node, Call):
        return _call(node, env)
    if isinstance(node, Negate):
        return -to_number(_evaluate(node.operand, env))
    if isinstance(node, Context):
        return env.require_context(node.pos)
    raise AssertionError(node)  # pragma: no cover - the parser builds nothing else


def _call(node: Call, env: _Environment) -> Value:
    function = FUNCTIONS[node.name]
    needs_context = not node.args and node.name in ("string", "number", "string-length", "normalize-space")
    try:
        if needs_context:
            env.require_context(node.pos)
        if function.lazy:
            return function.impl(env, node.args, lambda child: _evaluate(child, env))
        return function.impl(env, [_evaluate(arg, env) for arg in node.args])
    except ExpressionError as error:
        if error.source is not None:
            raise
        raise ExpressionError(error.message, source=env.source, position=node.pos) from None
