"""Design-based generalised linear models, as R's ``survey::svyglm``: linear and quasi-binomial (logistic).

The fit is R's ``glm.fit`` run inside the engine: iteratively reweighted least squares (IRLS) in which every
iteration is **one** aggregation returning the weighted normal equations ``Σ w̃·W·x·xᵀ`` and ``Σ w̃·W·x·z``
(the coefficients enter the expressions as literals), followed by a small numpy solve. The start values,
the convergence test ``|dev − dev_old| / (|dev| + 0.1) < epsilon`` and the weights rescaled to mean 1
(``rescale=TRUE``) are R's, so the iterates — and the iteration count — are R's.

The variance is R's sandwich (``survey:::svy.varcoef``): ``A⁻¹ · V(Σ scores) · A⁻¹`` with ``A`` the normal
matrix of the last IRLS iteration and the score of a row ``x · (y − μ) / (dμ/dη) · W``. The same aggregation that
checks convergence sums the scores per final-stage unit, so no extra pass is needed; the Taylor variance of
those unit totals is :mod:`digifit.stats.variance`'s (``svyrecvar``), extended to a covariance matrix by
polarisation (``Cov(a, b) = (V(a + b) − V(a − b)) / 4``, exact because the variance is a quadratic form). The
t tests use R's ``df.residual = degf(design) + 1 − p``.

Passes over the data: one to read the design, the levels of the categorical columns and the missing values;
then one per IRLS iteration plus one (quasi-binomial; R's ``iter`` + 1), or one (gaussian; exact in one step;
two when each row is its own PSU or the design is calibrated, where the scores need the coefficients).

Calibrated designs (post-stratified, raked, GREG) use the residuals of the scores on the calibration model, as
R's ``svyrecvar(postStrata = ...)`` (:class:`_Calibration`). Replicate designs refit every replicate as R's
``svyglm.svyrep.design`` (:func:`_replicate_betas`). See ``docs/glm.md``.

References: Binder (1983) *On the variances of asymptotically normal estimators from complex surveys*; Lumley
(2010) *Complex Surveys*, ch. 5; McCullagh & Nelder (1989) for IRLS.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import ibis
import ibis.expr.types as ir
import numpy as np

from digifit.errors import EstimationError
from digifit.stats.codes import count_distinct, positions
from digifit.stats.design import Design, Structure, check_columns
from digifit.stats.intervals import qt
from digifit.stats.replicates import factor_rank
from digifit.stats.variance import taylor_variance_rows, taylor_variance_units

__all__ = ["FAMILIES", "Coefficient", "GLMResult", "glm"]

FAMILIES = ("gaussian", "quasibinomial")

#: The keys of one coefficient of ``digifit glm --json`` (a stable contract), in order.
JSON_KEYS = ("term", "estimate", "se", "df", "t", "p", "ci_low", "ci_high")

# R's logit link clamps the linear predictor at ±30 (THRESH/MTHRESH in family.c)
_ETA_LIMIT = 30.0
# a column whose weighted residual sum of squares after the earlier columns is below this fraction of its own
# is a linear combination of them (R's QR uses 1e-11 on the norm; normal equations cannot resolve that)
_COLLINEAR_TOL = 1e-10
# a column whose rows all have fitted probabilities within ~1e-6 of 0 or 1 (its information Σ w̃ μ(1−μ) x² below this
# fraction of the largest possible, Σ w̃ x² / 4) is separated: its coefficient would be infinite
_SEPARATION_TOL = 1e-5


# ----------------------------------------------------------------------------------------------------------
# Result


@dataclass(frozen=True)
class Coefficient:
    """One row of the coefficient table.

    Attributes
    ----------
    term : str
        R's name of the model-matrix column: ``(Intercept)``, ``ell``, ``stypeH``, ``ell:meals``, ``sch.wideTRUE``.
    estimate, se : float
        Coefficient and its design-based (sandwich, Taylor) standard error.
    df : int
        Residual design degrees of freedom of the t test (R's ``degf(design) + 1 − p``).
    t, p : float
        ``estimate / se`` and its two-sided p-value on ``df`` (NaN when ``df ≤ 0``).
    ci_low, ci_high : float
        ``estimate ± t(1 − α/2, df) · se`` (R's ``confint.svyglm``, Wald).
    """

    term: str
    estimate: float
    se: float
    df: int
    t: float
    p: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict[str, Any]:
        """Return the row as the JSON contract's dictionary (NaN as None)."""
        return {key: _json_value(getattr(self, key)) for key in JSON_KEYS}


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class GLMResult:
    """A fitted design-based GLM.

    Attributes
    ----------
    coefficients : tuple of Coefficient
        In R's order (terms by order of interaction, then as written; factor levels sorted).
    vcov : numpy.ndarray
        The sandwich covariance matrix of the coefficients, in the same order (R's ``vcov(svyglm)``).
    df_residual : int
        ``degf(design) + 1 − p``, the df of every t test.
    family : str
        ``'gaussian'`` or ``'quasibinomial'``.
    formula : str
        The formula as given.
    n : int
        Rows used (no missing value in the model's columns).
    iterations : int
        IRLS iterations (weighted least-squares solves). Quasi-binomial: R's ``iter``. Gaussian: 1 (exact; R
        reports 2 because its second iteration only confirms that the deviance did not change).
    response_level : object
        For a categorical quasi-binomial response, the level modelled (the second sorted one); else None.
    """

    coefficients: tuple[Coefficient, ...]
    vcov: np.ndarray = field(repr=False, compare=False)
    df_residual: int
    family: str
    formula: str
    n: int
    iterations: int
    response_level: Any = None

    @property
    def terms(self) -> tuple[str, ...]:
        """The coefficient names, in order."""
        return tuple(c.term for c in self.coefficients)

    def __getitem__(self, term: str) -> Coefficient:
        for c in self.coefficients:
            if c.term == term:
                return c
        raise KeyError(f"no coefficient {term!r}; the terms are {', '.join(self.terms)}")

    def to_dicts(self) -> list[dict[str, Any]]:
        """Return the coefficient table as JSON-ready dictionaries (the ``--json`` rows)."""
        return [c.to_dict() for c in self.coefficients]

    def __repr__(self) -> str:
        return format_glm(self)


def format_glm(result: GLMResult) -> str:
    """Render the coefficient table for people (R's ``summary.svyglm`` layout)."""
    headers = ["term", "estimate", "se", "t", "p", "ci_low", "ci_high"]
    rows = [
        [c.term, _fmt(c.estimate), _fmt(c.se), _fmt(c.t), _fmt_p(c.p), _fmt(c.ci_low), _fmt(c.ci_high)]
        for c in result.coefficients
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def render(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    head = (
        f"{result.family} GLM: {result.formula}"
        + (f"  (modelling P({result.response_level}))" if result.response_level is not None else "")
        + f"\nn = {result.n}, residual design df = {result.df_residual}, IRLS iterations = {result.iterations}"
    )
    return "\n".join([head, "", render(headers), render(["-" * w for w in widths]), *(render(r) for r in rows)])


def _fmt(x: float) -> str:
    return "NA" if x is None or not math.isfinite(x) else f"{x:.6g}"


def _fmt_p(x: float) -> str:
    if x is None or not math.isfinite(x):
        return "NA"
    return "<2e-16" if x < 2e-16 else f"{x:.3g}"


# ----------------------------------------------------------------------------------------------------------
# Formula


_TOKEN = re.compile(r"\s*(?:(`[^`]+`)|([A-Za-z.][A-Za-z0-9._]*)|(\d+(?:\.\d*)?)|(.))")


@dataclass(frozen=True)
class Formula:
    """A parsed model formula: response, terms (tuples of variables, R's order) and the intercept."""

    response: str
    terms: tuple[tuple[str, ...], ...]
    intercept: bool
    variables: tuple[str, ...]  # in order of first appearance (response first)


def parse_formula(text: str) -> Formula:
    """Parse ``y ~ a + b + a:b`` (also ``a*b``, ``(a + b):c``, ``- term``, ``+ 0`` / ``- 1``) as R does.

    Terms are ordered as R's ``terms()``: by number of variables, then as first written; duplicates are
    dropped; the variables of an interaction are ordered by their first appearance in the formula.
    """
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            break
        if m.group(1):
            tokens.append(("name", m.group(1)[1:-1], m.start(1)))
        elif m.group(2):
            tokens.append(("name", m.group(2), m.start(2)))
        elif m.group(3):
            tokens.append(("number", m.group(3), m.start(3)))
        elif m.group(4) and not m.group(4).isspace():
            tokens.append(("op", m.group(4), m.start(4)))
        pos = m.end()
    tokens.append(("end", "", len(text)))

    def fail(msg: str, at: int) -> EstimationError:
        return EstimationError(f"formula {text!r}: {msg} at position {at + 1}; expected e.g. 'y ~ x1 + x2 + x1:x2'.")

    order: dict[str, int] = {}
    i = 0

    def peek() -> tuple[str, str, int]:
        return tokens[i]

    def take() -> tuple[str, str, int]:
        nonlocal i
        tok = tokens[i]
        i += 1
        return tok

    def note(name: str) -> None:
        order.setdefault(name, len(order))

    if not (peek()[0] == "name" and tokens[i + 1][:2] == ("op", "~")):
        kind, value, at = peek()
        raise fail("the response must be one column name followed by '~'", at)
    response = take()[1]
    note(response)
    take()

    # an expression evaluates to a list of terms; a term is a frozenset of variables; "1"/"0" are markers
    def atom():
        kind, value, at = take()
        if kind == "name":
            note(value)
            return [frozenset([value])]
        if kind == "number" and value in ("0", "1"):
            return [value]  # a marker, resolved with its sign by expr()
        if kind == "op" and value == "(":
            inner = expr()
            if peek()[:2] != ("op", ")"):
                raise fail("missing ')'", peek()[2])
            take()
            return inner
        if kind == "end":
            raise fail("unexpected end of formula", at)
        raise fail(f"unexpected {value!r} (only column names, +, -, :, *, 0, 1 and parentheses)", at)

    def inter():
        left = atom()
        while peek()[:2] == ("op", ":"):
            take()
            right = atom()
            if any(isinstance(t, str) for t in left + right):
                raise fail("':' cannot combine 0 or 1", peek()[2])
            left = _unique([a | b for b in right for a in left])
        return left

    def product():
        left = inter()
        while peek()[:2] == ("op", "*"):
            take()
            right = inter()
            if any(isinstance(t, str) for t in left + right):
                raise fail("'*' cannot combine 0 or 1", peek()[2])
            left = _unique(left + right + [a | b for b in right for a in left])
        return left

    def expr():
        terms: list = []
        sign = take()[1] if peek()[0] == "op" and peek()[1] in "+-" else "+"
        while True:
            for t in product():
                if isinstance(t, str):  # the intercept markers 0 and 1
                    terms.append(sign + t)
                elif sign == "+":
                    terms = _unique([*terms, t])
                else:
                    terms = [x for x in terms if x != t]
            if not (peek()[0] == "op" and peek()[1] in "+-"):
                return terms
            sign = take()[1]

    rhs = expr()
    kind, value, at = peek()
    if kind != "end":
        raise fail(f"unexpected {value!r}", at)
    intercept = True
    terms = []
    for t in rhs:
        if isinstance(t, str):
            intercept = t in ("+1", "-0")
        else:
            terms.append(t)
    if response in {v for t in terms for v in t}:
        raise EstimationError(f"formula {text!r}: the response {response!r} is also a term.")
    ordered = sorted(
        (tuple(sorted(t, key=order.__getitem__)) for t in _unique(terms)),
        key=len,
    )
    return Formula(response, tuple(ordered), intercept, tuple(order))


def _unique(items: list) -> list:
    seen: list = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


# ----------------------------------------------------------------------------------------------------------
# Model matrix as Ibis expressions


@dataclass(frozen=True)
class _Column:
    name: str
    parts: tuple[tuple[str, Any], ...]  # (variable, level or None for numeric); () is the intercept

    def expr(self, t: ir.Table) -> ir.FloatingValue | None:
        out = None
        for var, level in self.parts:
            e = t[var].cast("float64") if level is _NUMERIC else (t[var] == level).cast("float64")
            out = e if out is None else out * e
        return out


_NUMERIC = object()


def _level_name(level: Any) -> str:
    if isinstance(level, bool):
        return "TRUE" if level else "FALSE"
    return str(level)


def _model_columns(f: Formula, levels: dict[str, list]) -> list[_Column]:
    """R's model-matrix columns (``model.matrix``'s coding of factors).

    As R's ``TermCode``: a categorical variable of a term gets treatment contrasts when the term without it is
    empty or contained in an earlier term, else indicator columns for every level; without an intercept, the first
    categorical variable of the first term that has one gets indicators. Columns of an interaction vary fastest
    in its first variable.
    """
    full: set[tuple[int, str]] = set()
    for k, term in enumerate(f.terms):
        for v in term:
            rest = set(term) - {v}
            if v in levels and rest and not any(rest <= set(earlier) for earlier in f.terms[:k]):
                full.add((k, v))
    if not f.intercept:
        first = next(((k, v) for k, term in enumerate(f.terms) for v in term if v in levels), None)
        if first is not None:
            full.add(first)
    cols = [_Column("(Intercept)", ())] if f.intercept else []
    for k, term in enumerate(f.terms):
        per_var = []
        for v in term:
            if v not in levels:
                per_var.append([(v, _NUMERIC, v)])
                continue
            lv = levels[v] if (k, v) in full else levels[v][1:]
            per_var.append([(v, x, f"{v}{_level_name(x)}") for x in lv])
        for combo in itertools.product(*reversed(per_var)):
            combo = tuple(reversed(combo))
            cols.append(_Column(":".join(c[2] for c in combo), tuple((c[0], c[1]) for c in combo)))
    return cols


def _mul(*exprs):
    out = None
    for e in exprs:
        if e is None:
            continue
        out = e if out is None else out * e
    return out


# ----------------------------------------------------------------------------------------------------------
# Families (R's binomial()/gaussian() functions, as Ibis expressions)


class _Gaussian:
    name = "gaussian"

    def rows(self, t: ir.Table, eta, eta_prev) -> ir.Table:
        """Add the per-row IRLS quantities: W, z, the working residual r, W of the previous step, deviance."""
        t = t.mutate(__eta=eta)
        return t.mutate(
            __W=t["__wt"],
            __z=t["__y"],  # η + (y − μ) with μ = η
            __r=t["__y"] - t["__eta"],
            __Wp=t["__wt"],
            __dev=t["__wt"] * (t["__y"] - t["__eta"]) * (t["__y"] - t["__eta"]),
        )


class _QuasiBinomial:
    name = "quasibinomial"

    def start_eta(self, y, wt):
        mustart = (wt * y + 0.5) / (wt + 1.0)  # binomial()$initialize with prior weights
        return (mustart / (1.0 - mustart)).ln()

    def rows(self, t: ir.Table, eta, eta_prev) -> ir.Table:
        """As :meth:`_Gaussian.rows` for the logit link and binomial variance (R's clamped ``plogis``)."""
        t = t.mutate(__eta=eta, __etap=eta if eta_prev is None else eta_prev)
        t = t.mutate(
            __e=t["__eta"].clip(-_ETA_LIMIT, _ETA_LIMIT).exp(), __ep=t["__etap"].clip(-_ETA_LIMIT, _ETA_LIMIT).exp()
        )
        t = t.mutate(__mu=t["__e"] / (1.0 + t["__e"]), __m=t["__e"] / ((1.0 + t["__e"]) * (1.0 + t["__e"])))
        t = t.mutate(__mp=t["__ep"] / ((1.0 + t["__ep"]) * (1.0 + t["__ep"])), __r=(t["__y"] - t["__mu"]) / t["__m"])

        def ylogy(a, b):
            return (a > 0).ifelse(a * (a / b).ln(), 0.0)

        return t.mutate(
            __W=t["__wt"] * t["__m"],  # w̃ (dμ/dη)² / V(μ) = w̃ μ(1 − μ)
            __z=t["__eta"] + t["__r"],
            __Wp=t["__wt"] * t["__mp"],
            __dev=2.0 * t["__wt"] * (ylogy(t["__y"], t["__mu"]) + ylogy(1.0 - t["__y"], 1.0 - t["__mu"])),
        )


_FAMILY = {"gaussian": _Gaussian(), "quasibinomial": _QuasiBinomial()}


# ----------------------------------------------------------------------------------------------------------
# The fit


def glm(
    design: Design,
    formula: str,
    *,
    family: str = "gaussian",
    na_rm: bool = False,
    level: float = 0.95,
    max_iter: int = 25,
    epsilon: float = 1e-8,
) -> GLMResult:
    """Fit a design-based generalised linear model with sandwich standard errors (R's ``svyglm``).

    Parameters
    ----------
    design : Design
        The survey design (:func:`digifit.stats.design`).
    formula : str
        ``"y ~ x1 + x2 + x1:x2"``; also ``a*b`` (``a + b + a:b``), ``(a + b):c``, ``- term``, and ``+ 0`` or
        ``- 1`` to drop the intercept. Names with other characters go in backticks. Numeric columns enter as
        they are; string and boolean columns are categorical: treatment contrasts against the first sorted
        level (R's factor coding, indicator coding where a term's margin is absent), named as R names them
        (``stypeH``, ``sch.wideTRUE``).
    family : {'gaussian', 'quasibinomial'}, default 'gaussian'
        Linear regression, or logistic regression with a quasi-binomial variance. The quasi-binomial response
        is numeric in [0, 1] (usually 0/1), boolean, or a two-level categorical column, which models the
        probability of its **second** sorted level (R's factor convention).
    na_rm : bool, default False
        Leave out rows with a missing value in any model column (as R's default ``na.omit``; the variance
        keeps the full design). Without it, missing values are an error naming the column.
    level : float, default 0.95
        Confidence level of the coefficients' intervals.
    max_iter : int, default 25
        Maximum IRLS iterations (R's ``glm.control(maxit)``).
    epsilon : float, default 1e-8
        Convergence tolerance on the relative change in deviance (R's ``glm.control(epsilon)``).

    Returns
    -------
    GLMResult

    Raises
    ------
    EstimationError
        Malformed formula, non-numeric gaussian response, a quasi-binomial response outside [0, 1] or with more
        than two levels, missing values without ``na_rm``, collinear terms (named), non-convergence or perfect
        separation (with the iterations and the last change in deviance), a replicate fit that fails (named),
        replicate variance combined with a non-linear or bounded calibration.
    DesignError
        A column of the formula is not in the data.

    Notes
    -----
    The coefficients solve the weighted (pseudo-)likelihood equations ``Σ w · x · (y − μ) = 0`` (for the logit
    and identity links). Their covariance is ``A⁻¹ · V̂(Σ_units U) · A⁻¹`` with ``A`` the weighted information
    matrix and ``U`` the unit totals of the scores, linearised as R's ``svyrecvar`` (on calibrated designs: the
    scores' residuals on the calibration model); ``t`` tests use ``degf(design) + 1 − p`` degrees of freedom as
    ``summary.svyglm`` does. On a replicate design every replicate is refitted (R's ``svyglm.svyrep.design``) and
    the covariance is R's ``svrVar`` of the replicate coefficients. See ``docs/glm.md``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from digifit import stats
    >>> d = stats.design(pa.table({"y": [1.0, 3.0, 2.0, 5.0, 4.0], "x": [1.0, 2.0, 3.0, 4.0, 5.0]}))
    >>> fit = stats.glm(d, "y ~ x")
    >>> fit.terms
    ('(Intercept)', 'x')
    >>> round(fit["x"].estimate, 6)
    0.8
    """
    if family not in _FAMILY:
        raise EstimationError(f"family {family!r} is not known; expected one of {', '.join(FAMILIES)}.")
    if not 0 < level < 1:
        raise EstimationError(f"level must be between 0 and 1 (exclusive); got {level!r}.")
    if not isinstance(max_iter, int) or max_iter < 1:
        raise EstimationError(f"max_iter must be a positive integer; got {max_iter!r}.")
    if not epsilon > 0:
        raise EstimationError(f"epsilon must be positive; got {epsilon!r}.")
    if not isinstance(formula, str):
        raise EstimationError(f"formula must be a string such as 'y ~ x1 + x2'; got {formula!r}.")
    if design.calibration is not None and (
        design.repweights
        or (
            design.is_replicate
            and design.calibration.kind == "calibrate"
            and (design.calibration.calfun != "linear" or np.isfinite(design.calibration.bounds).any())
        )
    ):
        raise EstimationError(
            "glm on a calibrated design with supplied replicate weights, or calibrated with a non-linear or bounded "
            "calibration and replicate variance, is not supported yet."
        )
    fam = _FAMILY[family]
    f = parse_formula(formula)
    check_columns(design.table, f.variables, "formula")
    schema = design.table.schema()
    categorical = []
    for v in f.variables:
        dtype = schema[v]
        if dtype.is_string() or dtype.is_boolean():
            if v != f.response:
                categorical.append(v)
        elif not dtype.is_numeric():
            raise EstimationError(f"column {v!r} has type {dtype}; expected numbers, strings or booleans.")
    ydtype = schema[f.response]
    if family == "gaussian" and not (ydtype.is_numeric() or ydtype.is_boolean()):
        raise EstimationError(
            f"the response {f.response!r} has type {ydtype}; a gaussian model needs a numeric response "
            "(use family='quasibinomial' for a two-level category)."
        )
    y_categorical = ydtype.is_string()

    # pass 0: the design's structure, missing values, levels, the weight scale, the response's range
    table, w = _weighted_table(design)
    used = ibis.and_(*[table[v].notnull() for v in f.variables])
    keys = design.key_exprs(table)
    cal = _Calibration(design, table) if design.calibration is not None else None
    if cal is not None:
        keys |= cal.keys(table)
    aggs: dict[str, ir.Value] = {"__g_rows": table.count(), "__g_used": used.cast("int64").sum()}
    aggs["__g_sw"] = w.sum() if isinstance(w, ir.Column) else table.count().cast("float64")
    aggs["__g_pos"] = (used & (w != 0)).cast("int64").sum() if isinstance(w, ir.Column) else aggs["__g_used"]
    for j, v in enumerate(f.variables):
        aggs[f"__g_nn{j}"] = table[v].count()
    level_cols = [*categorical, *([f.response] if y_categorical else [])]
    for j, v in enumerate(level_cols):
        aggs[f"__g_lv{j}"] = table[v].collect(where=used, distinct=True)
    if family == "quasibinomial" and ydtype.is_numeric():
        yv = table[f.response].cast("float64")
        aggs["__g_ymin"] = yv.min(where=used)
        aggs["__g_ymax"] = yv.max(where=used)
    if cal is not None:
        aggs |= cal.design_sums(table, design.row_psu)
    need_structure = design._structure is None
    if need_structure:
        aggs.update(design.design_metrics(table))
    agg0 = design.execute(table.group_by(**keys).aggregate(**aggs))
    if need_structure:
        design.structure_from(agg0.select([*keys, *design.design_metrics()]))
    s = design.structure

    n_rows = int(np.asarray(agg0.column("__g_rows")).sum())
    n_used = int(np.asarray(agg0.column("__g_used")).sum())
    if not na_rm:
        for j, v in enumerate(f.variables):
            missing = n_rows - int(np.asarray(agg0.column(f"__g_nn{j}")).sum())
            if missing:
                raise EstimationError(
                    f"column {v!r} has {missing} missing value(s); pass na_rm=True (CLI --na-rm) to leave those "
                    "rows out of the model, or impute them."
                )
    if n_used == 0:
        raise EstimationError(f"glm {formula!r}: no rows without missing values in the model's columns.")
    levels: dict[str, list] = {}
    for j, v in enumerate(level_cols):
        values = {x for lst in agg0.column(f"__g_lv{j}").to_pylist() if lst for x in lst}
        levels[v] = sorted(values, key=lambda x: (str(type(x)), x))
    for v in categorical:
        if len(levels[v]) < 2:
            raise EstimationError(
                f"column {v!r} has only one level ({_level_name(levels[v][0])!r}) among the rows used; a "
                "categorical term needs at least two."
            )
    base = table.filter(used)
    response_level = None
    yexpr = base[f.response].cast("float64") if not y_categorical else None
    if family == "quasibinomial":
        if y_categorical:
            lv = levels[f.response]
            if len(lv) != 2:
                shown = ", ".join(repr(_level_name(x)) for x in lv[:6])
                raise EstimationError(
                    f"the response {f.response!r} has {len(lv)} level(s) among the rows used ({shown}); a "
                    "quasibinomial model needs two (or a 0/1 column)."
                )
            response_level = lv[1]
            yexpr = (base[f.response] == lv[1]).cast("float64")
        elif not ydtype.is_boolean():
            ymin = min((x for x in agg0.column("__g_ymin").to_pylist() if x is not None), default=0.0)
            ymax = max((x for x in agg0.column("__g_ymax").to_pylist() if x is not None), default=0.0)
            if ymin < 0 or ymax > 1:
                raise EstimationError(
                    f"the response {f.response!r} has values from {ymin:g} to {ymax:g}; a quasibinomial model "
                    "needs values in [0, 1] (0/1 for a yes/no outcome)."
                )

    # weights rescaled to mean 1 over the design's rows (svyglm's rescale=TRUE); R's path depends on it
    sum_w = float(np.asarray(agg0.column("__g_sw")).sum())
    if sum_w <= 0:
        raise EstimationError(f"glm {formula!r}: the weights sum to {sum_w:g}; nothing to fit.")
    wt = _weight_on(design, base) / (sum_w / n_rows)

    # degrees of freedom and the units present, as degf(design[used, ])
    unit = _unit_index(s, agg0)
    pos = np.asarray(agg0.column("__g_pos"), dtype=float)
    used_u = np.asarray(agg0.column("__g_used"), dtype=float)
    design_df = _degf(s, unit, pos)
    present = np.zeros(len(s.stratum), dtype=bool)
    present[unit[used_u > 0]] = True

    columns = _model_columns(f, levels)
    p = len(columns)
    names = [c.name for c in columns]
    xs = [c.expr(base) for c in columns]
    fit = _Fit(design, base, s, xs, yexpr, wt, fam, names, cal)

    if family == "gaussian":
        A, b, S, SS, units = fit.aggregate(eta=None, eta_prev=None, linear=True)[:5]
        beta = fit.solve(A, b)
        iterations = 1
        if s.row_psu or cal is not None:
            step = fit.aggregate(eta=fit.eta(beta), eta_prev=None, linear=False, scores_only=True)
            S, SS, units = step.S, step.SS, step.units
        else:
            S = S - np.einsum("uab,b->ua", SS, beta)  # per unit Σ w̃ x (y − xᵀβ) = Σ w̃ x y − (Σ w̃ x xᵀ) β
            SS = None
        A_last = A
    else:
        eta0 = fit.start_eta()
        first = fit.aggregate(eta=eta0, eta_prev=None, linear=False, scores=False)
        A, b, dev_old = first.A, first.b, first.dev
        eta_prev = eta0
        iterations = 0
        converged = False
        change = math.nan
        max_eta = math.nan
        while iterations < max_iter:
            iterations += 1
            beta = fit.solve(A, b)
            if not np.all(np.isfinite(beta)):
                raise EstimationError(
                    f"glm {formula!r}: non-finite coefficients at IRLS iteration {iterations} (last relative "
                    f"change in deviance {change:.3g})."
                )
            eta = fit.eta(beta)
            step = fit.aggregate(eta=eta, eta_prev=eta_prev, linear=False)
            A_new, b_new, S, SS, units, dev, max_eta = step[:7]
            if not math.isfinite(dev):
                raise EstimationError(f"glm {formula!r}: the deviance is not finite at IRLS iteration {iterations}.")
            change = abs(dev - dev_old) / (abs(dev) + 0.1)
            if change < epsilon:
                converged = True
                break
            dev_old = dev
            A, b, eta_prev = A_new, b_new, eta
        separated = [names[k] for k in np.nonzero(step.information < _SEPARATION_TOL)[0]]
        if not converged:
            raise EstimationError(
                f"glm {formula!r} did not converge in {iterations} IRLS iterations (last relative change in "
                f"deviance {change:.3g}, epsilon {epsilon:g}; largest |linear predictor| {max_eta:.3g})"
                + (
                    f"; the outcome looks perfectly separated by {', '.join(map(repr, separated))}."
                    if separated or max_eta > _ETA_LIMIT
                    else "; raise max_iter."
                )
            )
        if separated or max_eta > _ETA_LIMIT:
            where = f" by {', '.join(map(repr, separated))}" if separated else ""
            raise EstimationError(
                f"glm {formula!r}: the outcome is perfectly or quasi-perfectly separated{where} — fitted "
                f"probabilities numerically 0 or 1 (largest |linear predictor| {max_eta:.3g}) after {iterations} "
                f"IRLS iterations (last relative change in deviance {change:.3g}); the coefficients are not finite. "
                "Drop or merge the categories or terms that predict the outcome perfectly."
            )
        A_last = A  # the normal matrix of the last solve (R's summary(glm)$cov.unscaled is its inverse)

    if design.is_replicate:
        # R's svyglm.svyrep.design: refit with every replicate's weights, svrVar of the coefficients
        betas = _replicate_betas(design, fit, beta, max_iter, epsilon, formula, cal, agg0)
        vcov = _replicate_covariance(design.replicate, betas, beta)
        design_df = design.replicate_degf() if design.repweights else factor_rank(design.replicate.factors) - 1
    else:
        if cal is not None:
            # R's svyrecvar(postStrata = ...): the scores' residuals on the calibration model; every row of a
            # calibrated design stays in it (rows with missing values have zero scores)
            S, SS, units = cal.residuals(s, agg0, step.table, S, SS, units, sum_w / n_rows, p)
            present = np.ones(len(s.stratum), dtype=bool)
        vcov = _sandwich(s, _inverse(A_last), S, SS, units, present, design.lonely_psu)
    df_res = int(design_df) + 1 - p
    tcrit = qt(1 - (1 - level) / 2, df_res) if df_res > 0 else math.nan
    coefs = []
    for j, name in enumerate(names):
        est = float(beta[j])
        se = math.sqrt(max(float(vcov[j, j]), 0.0))
        tval = est / se if se > 0 else math.nan
        pval = _p_value(tval, df_res)
        lo, hi = (est - tcrit * se, est + tcrit * se) if df_res > 0 else (math.nan, math.nan)
        coefs.append(Coefficient(name, est, se, df_res, tval, pval, lo, hi))
    return GLMResult(
        coefficients=tuple(coefs),
        vcov=vcov,
        df_residual=df_res,
        family=family,
        formula=formula,
        n=n_used,
        iterations=iterations,
        response_level=response_level,
    )


def _replicate_betas(
    d: Design, fit: _Fit, beta0: np.ndarray, max_iter: int, epsilon: float, formula: str, cal=None, agg0=None
):
    """Every replicate's coefficients, as R's ``glm.fit(X, y, weights = w_r / Σ w_r, start = β̂)`` (R × p).

    The rows are crossed with the replicates inside the engine (a join on the units for replicate factors, an
    unpivot for supplied replicate-weight columns): each IRLS iteration is one aggregation grouped by replicate,
    over the replicates not yet converged. Gaussian fits are exact after one iteration.

    A post-stratified or raked design is calibrated again in every replicate, as R's ``postStratify``/``rake``
    of a replicate design: the replicate's weight in cell c is ``B · f_r · h_rc`` with ``h_rc`` from the
    replicate's own cell totals of ``B · f_r`` (over all rows, from pass 0).
    """
    import pyarrow as pa

    s, proj, p = fit.s, fit.proj, fit.p
    if d.repweights:
        R = len(d.repweights)
        long = proj.drop("__wt").pivot_longer([f"__rw{r}" for r in range(R)], names_to="__rname", values_to="__wt")
        long = long.mutate(__rep=long["__rname"].re_extract(r"__rw(\d+)", 1).cast("int64")).drop("__rname")
    elif cal is not None and cal.kind != "calibrate":
        factors = d.replicate.factors
        R = factors.shape[0]
        u0, c0 = _unit_index(s, agg0), cal._cell(agg0)
        psu0 = s.parents[0][u0]
        base = np.asarray(agg0.column("__k_D" if cal.kind == "poststratify" else "__k_A"), dtype=float)  # Σ B
        n_cells = len(cal.cells)
        base_cells = np.zeros((R, n_cells))
        for c in range(n_cells):
            rows = c0 == c
            base_cells[:, c] = factors[:, psu0[rows]] @ base[rows]
        h = cal.cal.replicate_factors(base_cells)  # (R, cells): replicate weight / (B · f_r)
        rr, ii = np.nonzero(factors[:, psu0] != 0)
        value = factors[rr, psu0[ii]] * h[rr, c0[ii]] / np.asarray(cal.cal.factor)[c0[ii]]  # × w̃ = c·B·g
        lookup = {f"{k}_k": agg0.column(k).take(pa.array(ii)) for k in fit.keys}
        lookup |= {"__rep": pa.array(rr, type=pa.int64()), "__f": pa.array(value)}
        lk = d.source.register(pa.table(lookup))
        joined = proj.join(lk, [proj[k] == lk[f"{k}_k"] for k in fit.keys])
        long = joined.mutate(__wt=joined["__wt"] * joined["__f"]).drop("__f", *[f"{k}_k" for k in fit.keys])
    else:
        factors = d.replicate.factors
        R = factors.shape[0]
        psu = s.parents[0]
        rr, uu = np.nonzero(factors[:, psu] != 0)  # rows of weight 0 add nothing: leave them out of the join
        lookup = {f"{k}_k": col.take(pa.array(uu)) for col, k in zip(s.unit_keys, fit.keys)}
        lookup |= {"__rep": pa.array(rr, type=pa.int64()), "__f": pa.array(factors[rr, psu[uu]])}
        lk = d.source.register(pa.table(lookup))
        joined = proj.join(lk, [proj[k] == lk[f"{k}_k"] for k in fit.keys])
        if cal is not None:  # linear calibration, again in every replicate: w_r = B · f_r · (1 + mmᵀ λ_r)
            q = cal.q
            u0 = _unit_index(s, agg0)
            f0 = factors[:, s.parents[0][u0]]  # (R, agg0 rows)
            col0 = lambda name: np.asarray(agg0.column(name), dtype=float)  # noqa: E731
            st = f0 @ np.stack([col0(f"__k_Bm{j}") for j in range(q)], axis=1)
            tm = np.zeros((R, q, q))
            for j in range(q):
                for k in range(j, q):
                    tm[:, j, k] = tm[:, k, j] = f0 @ col0(f"__k_Bmm{j}_{k}")
            lam = np.linalg.solve(tm, (np.asarray(cal.cal.population) - st)[:, :, None])[:, :, 0]
            lam_tab = d.source.register(
                pa.table(
                    {"__repl": pa.array(np.arange(R), type=pa.int64())} | {f"__lam{j}": lam[:, j] for j in range(q)}
                )
            )
            joined = joined.join(lam_tab, joined["__rep"] == lam_tab["__repl"])
            g = ibis.literal(1.0)
            for j in range(q):
                g = g + joined[f"__mm{j}"] * joined[f"__lam{j}"]
            long = joined.mutate(__wt=joined["__cB"] * joined["__f"] * g)
            long = long.drop("__f", "__repl", *[f"__lam{j}" for j in range(q)], *[f"{k}_k" for k in fit.keys])
        else:
            long = joined.mutate(__wt=joined["__wt"] * joined["__f"]).drop("__f", *[f"{k}_k" for k in fit.keys])
    betas = np.tile(beta0, (R, 1))
    active = np.arange(R)
    fam = fit.fam
    gaussian = fam.name == "gaussian"

    def one_pass(rows: np.ndarray, current: np.ndarray):
        b_tab = d.source.register(
            pa.table({"__rb": pa.array(rows, type=pa.int64())} | {f"__beta{j}": current[:, j] for j in range(p)})
        )
        t = long.filter(long["__rep"].isin([int(r) for r in rows]))
        t = t.join(b_tab, t["__rep"] == b_tab["__rb"])
        eta = None
        for j in range(p):
            term = t[f"__beta{j}"] if fit.xs[j] is None else t[f"__x{j}"] * t[f"__beta{j}"]
            eta = term if eta is None else eta + term
        t = fam.rows(t, eta, None)
        xs = [None if x is None else t[f"__x{j}"] for j, x in enumerate(fit.xs)]
        aggs = {f"__a{k}": fit._sum(t, _mul(t["__W"], xs[a], xs[b])) for k, (a, b) in enumerate(fit.pairs)}
        aggs |= {f"__b{a}": fit._sum(t, _mul(t["__W"], xs[a], t["__z"])) for a in range(p)}
        aggs |= {"__dev": t["__dev"].sum(), "__sw": t["__wt"].sum()}
        res = d.execute(t.group_by("__rep").aggregate(**aggs)).to_pylist()
        by_r = {int(r["__rep"]): r for r in res}
        A = np.zeros((len(rows), p, p))
        b = np.zeros((len(rows), p))
        dev = np.zeros(len(rows))
        for i, r in enumerate(rows):
            row = by_r.get(int(r))
            if row is None:
                raise EstimationError(f"glm {formula!r}: replicate {int(r) + 1} has no rows with a non-zero weight.")
            for k, (a, b_) in enumerate(fit.pairs):
                A[i, a, b_] = A[i, b_, a] = row[f"__a{k}"]
            b[i] = [row[f"__b{a}"] for a in range(p)]
            dev[i] = row["__dev"] / row["__sw"]  # R normalises the replicate's weights to sum 1
        return A, b, dev

    A, b, dev_old = one_pass(active, betas[active])
    iteration = 0
    change = np.full(R, np.nan)
    while active.size:
        iteration += 1
        if iteration > max_iter:
            worst = int(active[np.nanargmax(change[active])]) if np.isfinite(change[active]).any() else int(active[0])
            raise EstimationError(
                f"glm {formula!r}: the fit with replicate {worst + 1}'s weights did not converge in {max_iter} IRLS "
                f"iterations (last relative change in deviance {change[worst]:.3g})."
            )
        for i, r in enumerate(active):
            try:
                betas[r] = fit.solve(A[i], b[i])
            except EstimationError as exc:
                raise EstimationError(f"replicate {int(r) + 1}: {exc}") from None
        if gaussian:
            break
        A, b, dev = one_pass(active, betas[active])
        change[active] = np.abs(dev - dev_old) / (np.abs(dev) + 0.1)
        done = change[active] < epsilon
        keep = ~done
        active, A, b, dev_old = active[keep], A[keep], b[keep], dev[keep]
    return betas


def _replicate_covariance(rep, betas: np.ndarray, beta0: np.ndarray) -> np.ndarray:
    """R's ``svrVar``: ``scale · Σ_r rscale_r (β_r − c)(β_r − c)ᵀ`` with c the replicates' mean (or β̂, ``mse``)."""
    centre = beta0 if rep.mse else betas.mean(axis=0)
    dev = betas - centre
    rscales = np.asarray(rep.rscales, dtype=float)
    return rep.scale * (dev * rscales[:, None]).T @ dev


def _p_value(t: float, df: int) -> float:
    if df <= 0 or not math.isfinite(t):
        return math.nan
    from scipy.special import stdtr

    return float(2 * stdtr(df, -abs(t)))


class _Calibration:
    """The Taylor variance of a calibrated design: R's ``svyrecvar(postStrata = ...)`` on the GLM's scores.

    R replaces the influence values ``x`` of every row (the scores times ``A⁻¹``; a linear map, so digifit works
    on the scores and applies ``A⁻¹`` afterwards) by their residuals on the calibration model:

    - post-stratification: ``x − W · Σ_c (B · x / W) / Σ_c B`` within each cell ``c`` (W calibrated, B original
      weight);
    - raking: ``x − W · ave_m(x / W_m)`` over the margins ``m``, ten rounds, with the weights ``W_m`` after each
      margin's step (R's ``attr(margin, "weights")``);
    - linear (GREG) calibration: ``x − W · mmᵀ β``, ``β = (Σ B mm mmᵀ)⁻¹ Σ mm x / g``.

    Each is ``x_i − Σ_k a_ik θ_k`` with known row weights ``a_ik`` (W or B in cell k, or W·mm_k); the engine
    returns ``Σ a_ik`` per unit (over all rows: rows with missing values keep their place, with zero scores, as in
    R) and the sums that give ``θ``; rows as PSUs add ``Σ a_ik · score`` and ``Σ a_ik a_il`` per stratum.
    """

    def __init__(self, d: Design, table: ir.Table):
        self.d = d
        self.cal = d.calibration
        self.kind = self.cal.kind
        self.cells = {tuple(c): i for i, c in enumerate(self.cal.cells)} if self.kind != "calibrate" else {}
        self.q = len(self.cal.terms) if self.kind == "calibrate" else 0

    def keys(self, t: ir.Table) -> dict[str, ir.Value]:
        if self.kind == "calibrate":
            return {}
        return {f"__gc{i}": t[c] for i, c in enumerate(self.cal.columns)}

    def _weights(self, t: ir.Table) -> tuple[ir.Value, ir.Value]:
        if "__g_w" in t.columns:  # weights implied by the fpc, then calibrated
            B = t["__g_w"]
            return B, B * self.cal.factor_expr(t)
        return self.d.base_weight_expr(t), self.d.weight_expr(t)

    def row_columns(self, t: ir.Table) -> dict[str, ir.Value]:
        B, W = self._weights(t)
        cols = {"__cB": B, "__cW": W}
        if self.kind == "calibrate":
            cols |= {f"__mm{j}": e for j, e in enumerate(self.cal.mm_exprs(t))}
        return cols

    def design_sums(self, t: ir.Table, row_psu: bool) -> dict[str, ir.Value]:
        """Over all rows, per unit (× cell): the row weights a of the adjustment (and Σ a a for rows as PSUs)."""
        B, W = self._weights(t)
        if self.kind == "poststratify":
            out = {"__k_A": W.sum(), "__k_D": B.sum()}
            if row_psu:
                out["__k_M"] = (W * W).sum()
        elif self.kind == "rake":
            out = {"__k_A": B.sum(), "__k_n": t.count()}
            if row_psu:
                out["__k_M"] = (B * B).sum()
        else:
            mm = self.cal.mm_exprs(t)
            out = {f"__k_A{j}": _colsum(t, _mul(W, m)) for j, m in enumerate(mm)}
            if self.d.is_replicate:  # each replicate's calibration equations: Σ B mm and Σ B mm mmᵀ per unit
                for j in range(self.q):
                    out[f"__k_Bm{j}"] = _colsum(t, _mul(B, mm[j]))
                    for k in range(j, self.q):
                        out[f"__k_Bmm{j}_{k}"] = _colsum(t, _mul(B, mm[j], mm[k]))
            if row_psu:
                for j in range(self.q):
                    for k in range(j, self.q):
                        out[f"__k_M{j}_{k}"] = _colsum(t, _mul(W, W, mm[j], mm[k]))
        return out

    def score_sums(self, t: ir.Table, unit: list, score: list, row_psu: bool) -> dict[str, ir.Value]:
        """Over the rows used, per unit (× cell): what ``θ`` needs, and Σ a · score for rows as PSUs."""
        p = len(score)
        B, W = t["__cB"], t["__cW"]
        out: dict[str, ir.Value] = {}
        if self.kind in ("poststratify", "rake"):
            for a in range(p):
                out[f"__k_t{a}"] = _colsum(t, _mul(B, unit[a]) if self.kind == "poststratify" else unit[a])
                if row_psu:
                    out[f"__k_G{a}"] = (score[a] * (W if self.kind == "poststratify" else B)).sum()
        else:
            for j in range(self.q):
                m = t[f"__mm{j}"]
                for a in range(p):
                    out[f"__k_t{j}_{a}"] = _colsum(t, _mul(B, m, unit[a]))
                    if row_psu:
                        out[f"__k_G{j}_{a}"] = (score[a] * W * m).sum()
        return out

    def _cell(self, agg) -> np.ndarray:
        return positions(self.cal.cells, [agg.column(f"__gc{i}") for i in range(len(self.cal.columns))])

    def residuals(self, s: Structure, agg0, res, S, SS, units, c: float, p: int):
        """Return the unit totals of the adjusted scores (and per-stratum cross-products), indexed by unit."""
        n_units = len(s.stratum)
        u0 = _unit_index(s, agg0)

        def col(agg, name):
            return np.asarray(agg.column(name), dtype=float)

        if self.kind in ("poststratify", "rake"):
            n_cells = len(self.cells)
            c0, c1 = self._cell(agg0), self._cell(res)
            A = col(agg0, "__k_A")
            tsum = np.zeros((n_cells, p))
            np.add.at(tsum, c1, np.stack([col(res, f"__k_t{a}") for a in range(p)], axis=1))
            if self.kind == "poststratify":
                den = np.bincount(c0, weights=col(agg0, "__k_D"), minlength=n_cells)
                theta = tsum / c / den[:, None]
            else:
                theta = self._raking(tsum / c, np.bincount(c0, weights=col(agg0, "__k_n"), minlength=n_cells))
        else:
            t = np.array([[col(res, f"__k_t{j}_{a}").sum() for a in range(p)] for j in range(self.q)])
            theta = self.cal.tmat_inv @ (t / c)  # (q, p)
        S_adj = np.zeros((n_units, p))
        np.add.at(S_adj, units, S)
        if self.kind != "calibrate":
            np.add.at(S_adj, u0, -A[:, None] * theta[c0])
        else:
            Aj = np.stack([col(agg0, f"__k_A{j}") for j in range(self.q)], axis=1)  # (rows, q)
            np.add.at(S_adj, u0, -Aj @ theta)
        if SS is None:
            return S_adj, None, np.arange(n_units)
        SS_adj = np.zeros((n_units, p, p))
        np.add.at(SS_adj, units, SS)
        if self.kind != "calibrate":
            G = np.stack([col(res, f"__k_G{a}") for a in range(p)], axis=1)  # (res rows, p) for its cell
            tg = np.einsum("ra,rb->rab", theta[c1], G)
            np.add.at(SS_adj, units, -(tg + tg.transpose(0, 2, 1)))
            M = col(agg0, "__k_M")
            np.add.at(SS_adj, u0, M[:, None, None] * np.einsum("ra,rb->rab", theta[c0], theta[c0]))
        else:
            for j in range(self.q):
                G = np.stack([col(res, f"__k_G{j}_{a}") for a in range(p)], axis=1)
                tg = np.einsum("a,rb->rab", theta[j], G)
                np.add.at(SS_adj, units, -(tg + tg.transpose(0, 2, 1)))
                for k in range(self.q):
                    M = col(agg0, f"__k_M{min(j, k)}_{max(j, k)}")
                    np.add.at(SS_adj, u0, M[:, None, None] * np.outer(theta[j], theta[k])[None])
        return S_adj, SS_adj, np.arange(n_units)

    def _raking(self, V: np.ndarray, n_c: np.ndarray) -> np.ndarray:
        """R's ten rounds of ``x − W_m · ave(x / W_m, margin)``, on cell sums (as estimators.py does).

        With ``x_i = B_i (a_c v_i − b_c)`` (a the final calibration factor of the cell, b starting at 0), a step
        on margin m with ``W_m = B h_m`` adds ``h_m · ave`` to ``b``; the adjusted score is ``x − B b``.
        """
        cal = self.cal
        a = cal.factor[:, None]
        b = np.zeros_like(V)
        for _ in range(10):
            for m, h in enumerate(cal.margin_factor):
                lev = np.asarray(cal.margin_codes[m])
                n_lev = int(lev.max()) + 1
                tot = np.zeros((n_lev, V.shape[1]))
                np.add.at(tot, lev, (a * V - b * n_c[:, None]) / h[:, None])
                ave = tot / np.bincount(lev, weights=n_c, minlength=n_lev)[:, None]
                b = b + h[:, None] * ave[lev]
        return b


def _colsum(t: ir.Table, expr) -> ir.Value:
    if expr is None:
        return t.count().cast("float64")
    if isinstance(expr, ir.Column):
        return expr.sum()
    return t.count().cast("float64") * expr


class _Pass(NamedTuple):
    """What one aggregation gives back (None where not computed)."""

    A: np.ndarray | None  # Σ W x xᵀ: the normal matrix at this pass's linear predictor
    b: np.ndarray | None  # Σ W x z
    S: np.ndarray | None  # per unit: Σ of the scores (gaussian start: Σ w̃ x y)
    SS: np.ndarray | None  # per unit: Σ score scoreᵀ (rows as PSUs; gaussian start: Σ w̃ x xᵀ)
    units: np.ndarray  # the unit index of each aggregated row
    dev: float
    max_eta: float
    information: np.ndarray | None  # per column: Σ W x² / (Σ w̃ x² / 4)
    table: Any = None  # the aggregation itself (calibrated designs read more columns from it)


class _Fit:
    """The engine side of the fit: one grouped aggregation per IRLS iteration, numpy for the rest.

    The model columns, the response and the weight are projected once (``__x0…``, ``__y``, ``__wt``, the unit
    keys); each iteration adds the per-row IRLS quantities in a few chained projections, so that the SQL stays
    linear in the number of columns instead of repeating the linear predictor in every sum.
    """

    def __init__(self, d: Design, base: ir.Table, s: Structure, xs, y, wt, fam, names, cal=None):
        self.d = d
        self.cal = cal
        self.q: np.ndarray | None = None  # Σ w̃ x² per column (for the separation check)
        self.s = s
        self.fam = fam
        self.names = names
        self.p = len(xs)
        self.pairs = [(a, b) for a in range(self.p) for b in range(a, self.p)]
        keys = d.key_exprs(base)
        extra = {}
        if cal is not None:
            keys |= cal.keys(base)
            extra = cal.row_columns(base)
        self.keys = list(keys)
        cols = {f"__x{j}": x for j, x in enumerate(xs) if x is not None}
        reps = {f"__rw{r}": base[c].cast("float64") for r, c in enumerate(d.repweights)}
        self.proj = base.select(**keys, **cols, **reps, **extra, __y=y, __wt=wt)
        t = self.proj
        self.xs = [None if x is None else t[f"__x{j}"] for j, x in enumerate(xs)]

    def _sum(self, t: ir.Table, expr) -> ir.Value:
        return t.count().cast("float64") if expr is None else expr.sum()

    def eta(self, beta: np.ndarray):
        out = None
        for j, b in enumerate(beta):
            term = ibis.literal(float(b)) if self.xs[j] is None else self.proj[f"__x{j}"] * ibis.literal(float(b))
            out = term if out is None else out + term
        return out

    def start_eta(self):
        return self.fam.start_eta(self.proj["__y"], self.proj["__wt"])

    def aggregate(self, *, eta, eta_prev, linear: bool, scores: bool = True, scores_only: bool = False):
        """One pass grouped by unit. Returns A, b, per-unit scores S, SS (or per-unit Σxxᵀ), units, dev, max|η|.

        ``linear`` (gaussian at the start): A = Σ w̃ x xᵀ and b = Σ w̃ x y per unit (SS holds the per-unit A).
        Otherwise, at the linear predictor ``eta``: the normal equations of the next iteration, the deviance,
        and the scores ``x · (y − μ)/μ' · W(eta_prev)`` of R's estfun (W of the previous iteration).
        """
        fam, p = self.fam, self.p
        aggs: dict[str, ir.Value] = {}
        if linear:
            t = self.proj
            xs = [None if x is None else t[f"__x{j}"] for j, x in enumerate(self.xs)]
            for k, (a, b_) in enumerate(self.pairs):
                aggs[f"__a{k}"] = self._sum(t, _mul(t["__wt"], xs[a], xs[b_]))
            for a in range(p):
                aggs[f"__b{a}"] = self._sum(t, _mul(t["__wt"], xs[a], t["__y"]))
        else:
            t = fam.rows(self.proj, eta, eta_prev)
            xs = [None if x is None else t[f"__x{j}"] for j, x in enumerate(self.xs)]
            if not scores_only:
                for k, (a, b_) in enumerate(self.pairs):
                    aggs[f"__a{k}"] = self._sum(t, _mul(t["__W"], xs[a], xs[b_]))
                for a in range(p):
                    aggs[f"__b{a}"] = self._sum(t, _mul(t["__W"], xs[a], t["__z"]))
                aggs["__dev"] = t["__dev"].sum()
                aggs["__eta"] = t["__eta"].abs().max()
                if self.q is None:  # Σ w̃ x² does not depend on the coefficients: the first pass only
                    for a in range(p):
                        aggs[f"__q{a}"] = self._sum(t, _mul(t["__wt"], xs[a], xs[a]))
            if scores:
                t = t.mutate(**{f"__s{a}": _mul(xs[a], t["__r"], t["__Wp"]) for a in range(p)})
                for a in range(p):
                    aggs[f"__s{a}"] = t[f"__s{a}"].sum()
                if self.s.row_psu:
                    for k, (a, b_) in enumerate(self.pairs):
                        aggs[f"__ss{k}"] = (t[f"__s{a}"] * t[f"__s{b_}"]).sum()
                if self.cal is not None:
                    # the score per unit of weight, x·(y − μ)/μ′·μ′²/V at the previous step (score = w̃ · this)
                    unit = [_mul(xs[a], t["__r"], t["__mp"] if "__mp" in t.columns else None) for a in range(p)]
                    aggs |= self.cal.score_sums(t, unit, [t[f"__s{a}"] for a in range(p)], self.s.row_psu)
        res = self.d.execute(t.group_by(self.keys).aggregate(**aggs))
        units = _unit_index(self.s, res)

        def col(name):
            return np.asarray(res.column(name), dtype=float)

        A = b = S = SS = None
        dev = max_eta = math.nan
        information = None
        if linear or not scores_only:
            Au = np.zeros((res.num_rows, p, p))
            for k, (a, b_) in enumerate(self.pairs):
                Au[:, a, b_] = Au[:, b_, a] = col(f"__a{k}")
            bu = np.stack([col(f"__b{a}") for a in range(p)], axis=1)
            A, b = Au.sum(axis=0), bu.sum(axis=0)
            if linear:
                S, SS = bu, Au
            else:
                dev = float(col("__dev").sum())
                max_eta = float(col("__eta").max())
                if self.q is None:
                    self.q = np.array([col(f"__q{a}").sum() for a in range(p)])
                with np.errstate(invalid="ignore", divide="ignore"):
                    information = 4 * np.diag(A) / self.q
        if not linear and scores:
            S = np.stack([col(f"__s{a}") for a in range(p)], axis=1)
            if self.s.row_psu:
                SS = np.zeros((res.num_rows, p, p))
                for k, (a, b_) in enumerate(self.pairs):
                    SS[:, a, b_] = SS[:, b_, a] = col(f"__ss{k}")
        return _Pass(A, b, S, SS, units, dev, max_eta, information, res)

    def solve(self, A: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Solve the normal equations after equilibration; name the columns that are linear combinations."""
        d = np.sqrt(np.diag(A))
        aliased = _aliased(A)
        if aliased:
            raise EstimationError(_collinear_message(self.names, aliased, d))
        C = A / np.outer(d, d)
        L = np.linalg.cholesky(C)
        u = np.linalg.solve(L, b / d)
        return np.linalg.solve(L.T, u) / d


def _aliased(A: np.ndarray) -> list[tuple[int, list[int]]]:
    """Return the columns whose weighted residual, after the earlier non-aliased columns, is (nearly) zero."""
    p = A.shape[0]
    d = np.sqrt(np.maximum(np.diag(A), 0.0))
    kept: list[int] = []
    out = []
    for j in range(p):
        if d[j] == 0 or not math.isfinite(d[j]):
            out.append((j, []))
            continue
        if kept:
            K = np.array(kept)
            C_kk = A[np.ix_(K, K)] / np.outer(d[K], d[K])
            c = A[K, j] / (d[K] * d[j])
            coef = np.linalg.solve(C_kk, c)
            resid = 1.0 - c @ coef
            if resid < _COLLINEAR_TOL:
                involved = [int(K[i]) for i in np.nonzero(np.abs(coef) > 1e-6)[0]]
                out.append((j, involved))
                continue
        kept.append(j)
    return out


def _collinear_message(names: list[str], aliased, d) -> str:
    parts = []
    for j, involved in aliased:
        if not involved:
            parts.append(f"{names[j]!r} is 0 in every row used")
        else:
            parts.append(f"{names[j]!r} is a linear combination of {', '.join(repr(names[i]) for i in involved)}")
    return (
        "collinear terms: "
        + "; ".join(parts)
        + ". Drop the term(s) (R would report NA for them), or check the rows used."
    )


def _inverse(A: np.ndarray) -> np.ndarray:
    d = np.sqrt(np.diag(A))
    C = A / np.outer(d, d)
    Cinv = np.linalg.inv(C)
    inv = Cinv / np.outer(d, d)
    return (inv + inv.T) / 2


def _unit_index(s: Structure, agg) -> np.ndarray:
    return s.unit_of(agg)


def _degf(s: Structure, unit: np.ndarray, positive: np.ndarray) -> int:
    """R's ``degf`` of the design restricted to the rows used: PSUs minus strata with a non-zero weight."""
    units = unit[positive > 0]
    if s.row_psu:
        return int(positive.sum() - count_distinct(units, len(s.stratum)))
    return count_distinct(s.parents[0][units], s.n_psu) - count_distinct(s.stratum[units], s.n_strata)


def _sandwich(s: Structure, Ainv, S, SS, units, present, lonely_psu: str) -> np.ndarray:
    """``A⁻¹ · V(Σ scores) · A⁻¹`` with V the Taylor covariance of the unit totals (R's svyrecvar)."""
    p = Ainv.shape[0]
    n_units = len(s.stratum)
    Z = np.zeros((n_units, p))
    np.add.at(Z, units, S @ Ainv)
    if s.row_psu:
        Q = np.zeros((n_units, p, p))
        np.add.at(Q, units, np.einsum("ab,ubc,cd->uad", Ainv, SS, Ainv))
        return taylor_covariance_rows(s, Z, Q, present, lonely_psu)
    return taylor_covariance_units(s, Z, present, lonely_psu)


def _polarised(p: int) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Combinations for polarisation: the p columns, then z_a + z_b and z_a − z_b for every a < b."""
    pairs = [(a, b) for a in range(p) for b in range(a + 1, p)]
    M = np.zeros((p, p + 2 * len(pairs)))
    M[:, :p] = np.eye(p)
    for k, (a, b) in enumerate(pairs):
        M[a, p + 2 * k] = M[b, p + 2 * k] = 1.0
        M[a, p + 2 * k + 1], M[b, p + 2 * k + 1] = 1.0, -1.0
    return pairs, M


def _assemble(v: np.ndarray, p: int, pairs) -> np.ndarray:
    out = np.diag(v[:p])
    for k, (a, b) in enumerate(pairs):
        out[a, b] = out[b, a] = (v[p + 2 * k] - v[p + 2 * k + 1]) / 4
    return out


def taylor_covariance_units(s: Structure, z: np.ndarray, present: np.ndarray, lonely_psu: str) -> np.ndarray:
    """Taylor covariance matrix of the columns of ``z`` (unit totals, units × p), as R's ``svyrecvar``.

    ``present`` marks the units with rows used. The variance of :func:`taylor_variance_units` is a quadratic
    form in ``z`` (every lonely-PSU policy included), so the covariances follow by polarisation.
    """
    p = z.shape[1]
    pairs, M = _polarised(p)
    v = taylor_variance_units(s, z @ M, np.repeat(present[:, None], M.shape[1], axis=1), lonely_psu)
    return _assemble(v, p, pairs)


def taylor_covariance_rows(
    s: Structure, sum_z: np.ndarray, cross: np.ndarray, present: np.ndarray, lonely_psu: str
) -> np.ndarray:
    """As :func:`taylor_covariance_units` when each row is a PSU: per-stratum Σ z (strata × p) and Σ z zᵀ."""
    p = sum_z.shape[1]
    pairs, M = _polarised(p)
    sz = sum_z @ M
    sz2 = np.einsum("ak,uab,bk->uk", M, cross, M)
    v = taylor_variance_rows(s, sz, sz2, np.repeat(present[:, None], M.shape[1], axis=1), lonely_psu)
    return _assemble(v, p, pairs)


def _weighted_table(d: Design) -> tuple[ir.Table, ir.Value]:
    """Return the table and the row weight; weights implied by the fpc are joined on from the unit structure."""
    if not d.implied_weights:
        return d.table, d.weight_expr()
    import pyarrow as pa

    s = d.structure
    if s.implied_weight is None:
        return d.table, d.weight_expr()
    keys = d.key_exprs()
    names = list(keys)
    lookup = pa.table({f"{n}_k": col for n, col in zip(names, s.unit_keys)} | {"__g_w": s.implied_weight})
    t = d.table.mutate(**keys)
    lk = d.source.register(lookup)
    joined = t.join(lk, [t[n] == lk[f"{n}_k"] for n in names])
    joined = joined.drop(*[f"{n}_k" for n in names], *names)
    return joined, _weight_on(d, joined)


def _weight_on(d: Design, t: ir.Table) -> ir.Value:
    """The analysis weight on ``t``: the design's, or the joined fpc-implied weight (times any calibration)."""
    if "__g_w" not in t.columns:
        return d.weight_expr(t)
    w = t["__g_w"]
    return w * d.calibration.factor_expr(t) if d.calibration is not None else w
