"""Tokenizer, syntax tree and Pratt parser for the XLSForm/XPath expression subset.

Grammar (XPath 1.0 § 3 without location paths, plus XLSForm's ``${name}``)::

    expr     := or
    or       := and ('or' and)*
    and      := equality ('and' equality)*
    equality := relation (('=' | '!=') relation)*
    relation := additive (('<' | '<=' | '>' | '>=') additive)*
    additive := mult (('+' | '-') mult)*
    mult     := unary (('*' | 'div' | 'mod') unary)*
    unary    := '-' unary | primary
    primary  := NUMBER | STRING | '${' NAME '}' | '.' | '/' NAME ('/' NAME)*
              | NAME '(' (expr (',' expr)*)? ')' | '(' expr ')'

Every binary operator is left-associative. As in XPath 1.0 § 3.7, ``and``/``or``/``div``/``mod`` and ``*``
are operators only after an operand; elsewhere they would be names (which this subset does not support).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from digifit.forms._xpath_errors import ExpressionError

# ------------------------------------------------------------------------------------------------ tokens


class Token(NamedTuple):
    kind: str  # number, string, ref, context, path, name, op, end
    value: str
    pos: int


_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_CHARS = _NAME_START | frozenset("0123456789.-")
_DIGITS = frozenset("0123456789")
_WHITESPACE = frozenset(" \t\n\r")
_OPERATOR_NAMES = frozenset({"and", "or", "div", "mod"})
_TWO_CHAR_OPS = ("!=", "<=", ">=")
_ONE_CHAR_OPS = frozenset("+-*=<>(),")


def _operand_ended(previous: Token | None) -> bool:
    """Whether the previous token ends an operand (then ``*``, ``and``, ``div``... are operators)."""
    if previous is None:
        return False
    if previous.kind in ("number", "string", "ref", "context", "path"):
        return True
    return previous.kind == "op" and previous.value == ")"


def _read_name(source: str, i: int) -> int:
    """Return the end of the NCName (or ``prefix:NCName``) starting at ``i``."""
    j = i + 1
    while j < len(source) and source[j] in _NAME_CHARS:
        j += 1
    if j + 1 < len(source) and source[j] == ":" and source[j + 1] in _NAME_START:
        j += 2
        while j < len(source) and source[j] in _NAME_CHARS:
            j += 1
    return j


def tokenize(source: str) -> list[Token]:
    """Split an expression into tokens; raise :class:`ExpressionError` at the first character fitting none."""
    tokens: list[Token] = []
    i, n = 0, len(source)

    def fail(message: str, pos: int) -> ExpressionError:
        return ExpressionError(message, source=source, position=pos)

    while i < n:
        c = source[i]
        previous = tokens[-1] if tokens else None
        if c in _WHITESPACE:
            i += 1
        elif c in _DIGITS or (c == "." and i + 1 < n and source[i + 1] in _DIGITS):
            j = i
            while j < n and source[j] in _DIGITS:
                j += 1
            if j < n and source[j] == ".":
                j += 1
                while j < n and source[j] in _DIGITS:
                    j += 1
            tokens.append(Token("number", source[i:j], i))
            i = j
        elif c in "'\"":
            end = source.find(c, i + 1)
            if end < 0:
                raise fail(f"string starting with {c} is never closed", i)
            tokens.append(Token("string", source[i + 1 : end], i))
            i = end + 1
        elif c == "$":
            if not source.startswith("${", i):
                raise fail("'$' must start a field reference such as ${age}", i)
            end = source.find("}", i + 2)
            if end < 0:
                raise fail("field reference '${' is never closed with '}'", i)
            name = source[i + 2 : end].strip()
            if not name or name[0] not in _NAME_START or _read_name(name, 0) != len(name) or ":" in name:
                raise fail(f"{source[i : end + 1]!r} is not a field name (letters, digits, '_', '-', '.')", i)
            tokens.append(Token("ref", name, i))
            i = end + 1
        elif c == ".":
            if source.startswith("..", i):
                raise fail("relative paths ('..') are not supported; refer to fields as ${name}", i)
            tokens.append(Token("context", ".", i))
            i += 1
        elif c == "/":
            if _operand_ended(previous):
                raise fail("'/' is not division in XPath; use 'div'", i)
            j, steps = i, []
            while j < n and source[j] == "/":
                if j + 1 >= n or source[j + 1] not in _NAME_START:
                    raise fail("expected a name after '/' in an absolute path such as /data/age", j)
                end = _read_name(source, j + 1)
                steps.append(source[j + 1 : end])
                j = end
            tokens.append(Token("path", "/".join(steps), i))
            i = j
        elif c in _NAME_START:
            end = _read_name(source, i)
            word = source[i:end]
            head = word.split("-", 1)[0]
            if head != word and head in _OPERATOR_NAMES and _operand_ended(previous):
                word, end = head, i + len(head)  # "3 div-2": an operator then a minus, not a name
            if word in _OPERATOR_NAMES and _operand_ended(previous):
                tokens.append(Token("op", word, i))
            else:
                tokens.append(Token("name", word, i))
            i = end
        elif source.startswith(_TWO_CHAR_OPS, i):
            tokens.append(Token("op", source[i : i + 2], i))
            i += 2
        elif c in _ONE_CHAR_OPS:
            if c == "*" and not _operand_ended(previous):
                raise fail("'*' must follow an operand (name tests are not supported)", i)
            tokens.append(Token("op", c, i))
            i += 1
        elif c == "!":
            raise fail("'!' is only valid in '!='; use not(...) for negation", i)
        elif c == "[":
            raise fail("predicates '[...]' are not supported", i)
        elif c == "|":
            raise fail("node-set union '|' is not supported", i)
        else:
            raise fail(f"unexpected character {c!r}", i)
    tokens.append(Token("end", "", n))
    return tokens


# ---------------------------------------------------------------------------------------------- the tree


@dataclass(frozen=True, slots=True)
class Literal:
    value: str | float
    pos: int


@dataclass(frozen=True, slots=True)
class Ref:
    """``${name}`` (or an absolute path ``/data/.../name``, which refers to its last step)."""

    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class Context:
    """``.``: the value of the field the expression belongs to."""

    pos: int


@dataclass(frozen=True, slots=True)
class Negate:
    operand: Node
    pos: int


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Node, ...]
    pos: int


Node = Literal | Ref | Context | Negate | Binary | Call

#: Left binding power of each binary operator (XPath 1.0 precedence, lowest first).
BINDING_POWER: Mapping[str, int] = {
    "or": 10,
    "and": 20,
    "=": 30,
    "!=": 30,
    "<": 40,
    "<=": 40,
    ">": 40,
    ">=": 40,
    "+": 50,
    "-": 50,
    "*": 60,
    "div": 60,
    "mod": 60,
}
_UNARY_POWER = 70
#: Functions that read the current field when called without arguments (XPath 1.0 § 4.2).
_CONTEXT_DEFAULT_FUNCTIONS = frozenset({"string", "number", "string-length", "normalize-space"})


def references(node: Node) -> frozenset[str]:
    """The field names a tree refers to."""
    if isinstance(node, Ref):
        return frozenset({node.name})
    if isinstance(node, Negate):
        return references(node.operand)
    if isinstance(node, Binary):
        return references(node.left) | references(node.right)
    if isinstance(node, Call):
        return frozenset().union(*(references(a) for a in node.args))
    return frozenset()


def uses_context(node: Node) -> bool:
    """Whether a tree reads ``.`` (or a function that reads the current field)."""
    if isinstance(node, Context):
        return True
    if isinstance(node, Negate):
        return uses_context(node.operand)
    if isinstance(node, Binary):
        return uses_context(node.left) or uses_context(node.right)
    if isinstance(node, Call):
        if node.name == "once" or (not node.args and node.name in _CONTEXT_DEFAULT_FUNCTIONS):
            return True
        return any(uses_context(a) for a in node.args)
    return False


# -------------------------------------------------------------------------------------------- the parser

#: Checks one call at parse time: given the call, return an error message or None.
CallChecker = Callable[[Call], "str | None"]


class Parser:
    """A Pratt parser over :func:`tokenize`'s tokens; ``check_call`` validates function names and arity."""

    def __init__(self, source: str, check_call: CallChecker) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.index = 0
        self.check_call = check_call

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def error(self, message: str, pos: int) -> ExpressionError:
        return ExpressionError(message, source=self.source, position=pos)

    def parse(self) -> Node:
        if self.current.kind == "end":
            raise self.error("the expression is empty", 0)
        node = self.expression(0)
        token = self.current
        if token.kind != "end":
            if token.kind == "op" and token.value == ")":
                raise self.error("unmatched ')'", token.pos)
            raise self.error(f"unexpected {_describe(token)} after a complete expression", token.pos)
        return node

    def expression(self, min_power: int) -> Node:
        left = self.prefix()
        while True:
            token = self.current
            power = BINDING_POWER.get(token.value, -1) if token.kind == "op" else -1
            if power <= min_power:
                return left
            self.advance()
            right = self.expression(power)  # same power stops the loop: left associativity
            left = Binary(token.value, left, right, token.pos)

    def prefix(self) -> Node:
        token = self.advance()
        kind, value, pos = token
        if kind == "number":
            return Literal(float(value), pos)
        if kind == "string":
            return Literal(value, pos)
        if kind in ("ref", "path"):
            return Ref(value.rsplit("/", 1)[-1], pos)
        if kind == "context":
            return Context(pos)
        if kind == "op" and value == "-":
            return Negate(self.expression(_UNARY_POWER), pos)
        if kind == "op" and value == "(":
            inner = self.expression(0)
            self.expect(")", f"expected ')' to close the '(' opened at column {pos + 1}")
            return inner
        if kind == "name":
            if self.current.kind == "op" and self.current.value == "(":
                return self.call(token)
            raise self.error(
                f"unexpected name {value!r}: refer to fields as ${{{value}}}, call functions as {value}(...)",
                pos,
            )
        if kind == "end":
            raise self.error("the expression ends where an operand was expected", pos)
        raise self.error(f"expected an operand, found {_describe(token)}", pos)

    def call(self, name_token: Token) -> Call:
        self.advance()  # '('
        args: list[Node] = []
        if not (self.current.kind == "op" and self.current.value == ")"):
            while True:
                args.append(self.expression(0))
                if self.current.kind == "op" and self.current.value == ",":
                    self.advance()
                    continue
                break
        self.expect(")", f"expected ',' or ')' in the arguments of {name_token.value}()")
        call = Call(name_token.value, tuple(args), name_token.pos)
        problem = self.check_call(call)
        if problem:
            raise self.error(problem, name_token.pos)
        return call

    def expect(self, value: str, message: str) -> Token:
        token = self.current
        if token.kind == "op" and token.value == value:
            return self.advance()
        found = "the end of the expression" if token.kind == "end" else _describe(token)
        raise self.error(f"{message}, found {found}", token.pos)


def _describe(token: Token) -> str:
    if token.kind == "end":
        return "the end of the expression"
    if token.kind == "ref":
        return f"field reference ${{{token.value}}}"
    if token.kind == "string":
        return f"string {token.value!r}"
    if token.kind in ("number", "name"):
        return f"{token.kind} {token.value!r}"
    return repr(token.value)
