"""Dense integer codes of key columns — strata, clusters, domains, cells — computed by Arrow and numpy.

A design's unit structure, an estimator's domains and a calibration's cells are keys made of one or more columns
of an aggregation result (one row per unit, or per domain × unit). They are never turned into Python tuples, so
a million clusters cost what a thousand do, at engine speed: each column is ranked by Arrow (its distinct values,
sorted, then a hash look-up of every row), and the columns are combined into one lexicographic rank with numpy,
one column at a time (the rank of the prefix so far × the next column's number of values + its rank, made dense
again by a sort of integers), so the product of the columns' sizes never overflows.

The rank of a key is its position among the sorted distinct keys — the order Python's ``sorted`` gives the
tuples of values (Arrow sorts numbers by value and text by its UTF-8 bytes, which is code-point order) — so
every code is the one the former tuple-and-dictionary encoding gave, and every sum over codes runs in the same
order: results are unchanged to the last bit.

Examples
--------
>>> import pyarrow as pa
>>> k = KeyCodes([pa.array(["b", "a", "b", "a"]), pa.array([2, 7, 1, 7])])
>>> k.codes.tolist(), k.size
([2, 0, 1, 0], 3)
>>> k.prefix_codes[0].tolist()
[1, 0, 1, 0]
>>> k.tuples()
[('a', 7), ('b', 1), ('b', 2)]
>>> k.lookup([pa.array(["b", "c", None]), pa.array([1, 1, 1])]).tolist()
[1, -1, -1]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["KeyCodes", "count_distinct", "numbers", "positions"]

Column = pa.Array | pa.ChunkedArray


def numbers(col: Column) -> np.ndarray:
    """Return an Arrow column as float64 (missing values as NaN), without a Python object per value.

    Sums of integers come back from DuckDB as ``DECIMAL(38, 0)`` (HUGEINT); they are converted through int64,
    which is exact, instead of one Python ``Decimal`` per value.
    """
    if pa.types.is_decimal(col.type) and col.type.scale == 0:
        try:
            return np.asarray(col.cast(pa.int64()), dtype=float)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # beyond int64: Python's exact conversion
            return np.asarray(col, dtype=float)
    return np.asarray(col, dtype=float)


def count_distinct(codes: np.ndarray, size: int) -> int:
    """How many of the codes ``0 .. size - 1`` occur in ``codes`` (a count, not a sort).

    >>> count_distinct(np.array([3, 0, 3]), 5)
    2
    """
    return int(np.count_nonzero(np.bincount(codes, minlength=size)))


def _plain(col: Column) -> Column:
    """Dictionary-encoded columns (DuckDB enums, categoricals) as their values."""
    if pa.types.is_dictionary(col.type):
        return col.cast(col.type.value_type)
    return col


def _sorted_distinct(col: Column) -> pa.Array:
    values = pc.unique(col).drop_null()
    return values.take(pc.array_sort_indices(values))


def _index_in(col: Column, labels: pa.Array) -> np.ndarray:
    """Each row's position in ``labels`` (-1: missing, or not among the labels)."""
    if len(col) == 0:
        return np.zeros(0, dtype=np.int64)
    idx = pc.fill_null(pc.index_in(col, value_set=labels), -1)
    return np.asarray(idx, dtype=np.int64)


class KeyCodes:
    """The sorted distinct keys of some columns and every row's lexicographic rank among them.

    Parameters
    ----------
    columns : sequence of pyarrow Array or ChunkedArray
        The key columns, all of one length (at least one column). A row with a missing value in the first
        ``p`` columns has code -1 for every prefix from ``p`` on.

    Attributes
    ----------
    codes : numpy.ndarray
        Per row, the rank of its key among the distinct keys (int64; -1 when a value is missing).
    size : int
        The number of distinct keys (without missing values).
    prefix_codes, prefix_sizes : tuple
        The same for every prefix of the columns: ``prefix_codes[p]`` ranks the keys made of columns ``0..p``
        (``prefix_codes[-1]`` is ``codes``).
    """

    def __init__(self, columns: Sequence[Column]):
        if not columns:
            raise ValueError("KeyCodes needs at least one column.")
        self.columns = tuple(_plain(c) for c in columns)
        self.labels = tuple(_sorted_distinct(c) for c in self.columns)
        self._combined: list[np.ndarray] = []  # per prefix p >= 1: the sorted distinct combined codes
        codes = _index_in(self.columns[0], self.labels[0])
        prefix_codes, prefix_sizes = [codes], [len(self.labels[0])]
        for labels, col in zip(self.labels[1:], self.columns[1:]):
            code = _index_in(col, labels)
            valid = (codes >= 0) & (code >= 0)
            combined = codes * len(labels) + code
            if valid.all():
                distinct, codes = np.unique(combined, return_inverse=True)
            else:
                distinct, inverse = np.unique(combined[valid], return_inverse=True)
                codes = np.full(len(combined), -1, dtype=np.int64)
                codes[valid] = inverse
            codes = codes.astype(np.int64, copy=False)
            self._combined.append(distinct)
            prefix_codes.append(codes)
            prefix_sizes.append(len(distinct))
        self.prefix_codes = tuple(prefix_codes)
        self.prefix_sizes = tuple(prefix_sizes)
        self.codes = prefix_codes[-1]
        self.size = prefix_sizes[-1]
        self._first: np.ndarray | None = None

    @property
    def first(self) -> np.ndarray:
        """Per key (in rank order), the first row that has it."""
        if self._first is None:
            valid = np.nonzero(self.codes >= 0)[0]
            first = np.full(self.size, len(self.codes), dtype=np.int64)
            np.minimum.at(first, self.codes[valid], valid)
            self._first = first
        return self._first

    def tuples(self) -> list[tuple[Any, ...]]:
        """The distinct keys as tuples of Python values, in rank order (for labels and messages; small)."""
        taken = [c.take(pa.array(self.first)).to_pylist() for c in self.columns]
        return list(zip(*taken))

    def lookup(self, columns: Sequence[Column], prefix: int | None = None) -> np.ndarray:
        """Rank other rows' keys (same columns, same meaning) among these keys: -1 where a key is not here.

        ``prefix`` (0-based) ranks among the keys of the first ``prefix + 1`` columns instead of all.
        """
        last = len(self.columns) - 1 if prefix is None else prefix
        codes = _index_in(_plain(columns[0]), self.labels[0])
        for p in range(1, last + 1):
            labels, distinct = self.labels[p], self._combined[p - 1]
            code = _index_in(_plain(columns[p]), labels)
            combined = codes * len(labels) + code
            pos = np.searchsorted(distinct, combined)
            found = (codes >= 0) & (code >= 0) & (pos < len(distinct))
            found[found] = distinct[pos[found]] == combined[found]
            codes = np.where(found, pos, -1)
        return codes.astype(np.int64, copy=False)


def positions(keys: Sequence[tuple], columns: Sequence[Column]) -> np.ndarray:
    """Each row's position in ``keys``, a list of distinct tuples such as a calibration's cells (vectorised).

    Raises ``KeyError`` naming the first row whose key is not in ``keys``.

    >>> positions([("x", 1), ("a", 2)], [pa.array(["a", "x", "a"]), pa.array([2, 1, 2])]).tolist()
    [1, 0, 1]
    """
    n_rows = len(columns[0]) if columns else 0
    if not keys:
        if n_rows:
            raise KeyError("no keys")
        return np.zeros(0, dtype=np.int64)
    try:
        cols = [pa.array([k[i] for k in keys], type=_plain(c).type) for i, c in enumerate(columns)]
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):  # keys of other Python types: equality decides
        index = {k: i for i, k in enumerate(keys)}
        rows = zip(*(c.to_pylist() for c in columns))
        return np.fromiter((index[k] for k in rows), dtype=np.int64, count=n_rows)
    codes = KeyCodes(cols)
    position_of_rank = np.empty(codes.size, dtype=np.int64)
    position_of_rank[codes.codes] = np.arange(len(keys))
    rank = codes.lookup(columns)
    missing = np.nonzero(rank < 0)[0]
    if missing.size:
        raise KeyError(tuple(c[int(missing[0])].as_py() for c in columns))
    return position_of_rank[rank]
