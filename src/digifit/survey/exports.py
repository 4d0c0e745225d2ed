"""Exports of submissions: CSV and XLSX for people, a typed Parquet snapshot per wave for statistics.

Columns come from the **union of all versions** of the questionnaire, in the order fields first appear
(oldest version first), so a form change never shifts or drops a column; every row carries its ``version``.

Main table, one row per complete submission:

``instance_id, version, wave, panel_id, language, submitted_at``
    metadata (a form field of the same name, such as a hidden ``panel_id``, fills its column when the
    submission itself has no value for it);
``<field>``
    one column per field outside repeats (notes have no column);
``<field>__<choice>``
    for ``select_multiple``: 1 if the choice was selected, 0 if the question was answered without it,
    empty if the question was not answered (the raw space-separated answer stays in ``<field>``);
``<repeat>__count``
    number of entries of each top-level repeat.

In the snapshot, integers are ``int64``, decimals ``float64``, dates ``date32``, 0/1 and count columns
``int64``, ``submitted_at`` a UTC timestamp and everything else a string. Calculations (``calculate``,
``hidden``) have no declared type: they are ``int64``/``float64`` when every stored value is a number.

Each repeat is a linked table (an extra XLSX sheet, or ``?repeat=NAME`` for CSV): ``instance_id`` (of the
submission), ``index`` (``2`` or, for nested repeats, ``2.1``) and the repeat's fields.

``labels=LANG`` replaces choice names by their labels in that language (CSV/XLSX only; the snapshot keeps the
names). Rows are read with ``QuerySet.iterator(chunk_size=…)`` and written as they come: memory stays flat
however many submissions there are.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.db import connections
from django.db.models import CharField, Count, F, Func, Q, Value
from django.db.models.fields.json import KeyTransform

from digifit.exports.cells import safe_cell
from digifit.survey.errors import FieldProblem, SubmissionRejected
from digifit.survey.models import Questionnaire, QuestionnaireVersion, Submission, Wave

CHUNK = 2000
META = ("instance_id", "version", "wave", "panel_id", "language", "submitted_at")


@dataclass(frozen=True)
class ExportSpec:
    """What to export: a questionnaire's submissions (of one wave, or all), how."""

    questionnaire: Questionnaire
    wave: Wave | None = None
    labels: str | None = None
    repeat: str | None = None


@dataclass
class Column:
    """One output column."""

    name: str
    field: str
    kind: str  # meta | value | choice | count
    type: str = "text"
    choice: str | None = None
    list_name: str | None = None


@dataclass
class Layout:
    """Columns of the main table and of each repeat, from the union of all versions."""

    main: list[Column]
    repeats: dict[str, list[Column]]
    repeat_parent: dict[str, str | None]
    choices: dict[str, dict[str, dict[str, str]]]  # list_name -> choice -> labels


def layout_for(questionnaire: Questionnaire) -> Layout:
    """Build the column layout from every version of ``questionnaire`` (oldest first)."""
    fields: dict[str, dict[str, Any]] = {}
    choice_order: dict[str, list[str]] = {}
    choice_labels: dict[str, dict[str, dict[str, str]]] = {}
    repeat_parent: dict[str, str | None] = {}
    versions = QuestionnaireVersion.objects.filter(questionnaire=questionnaire).order_by("created_at", "id")
    for v in versions.only("schema"):
        schema = v.schema
        for r in schema.get("repeats", []):
            repeat_parent.setdefault(r["name"], r.get("repeat"))
        for list_name, items in schema.get("choices", {}).items():
            order = choice_order.setdefault(list_name, [])
            labels = choice_labels.setdefault(list_name, {})
            for c in items:
                if c["name"] not in labels:
                    order.append(c["name"])
                labels[c["name"]] = c.get("labels", {})
        for f in schema.get("fields", []):
            if f["type"] == "note" or (f["name"] in META and f.get("repeat") is None):
                continue  # a form field named like a metadata column (e.g. a hidden panel_id) fills that column
            known = fields.get(f["name"])
            if known is None:
                fields[f["name"]] = dict(f)
            elif known["type"] != f["type"]:
                known["type"] = "text"  # a type change between versions: keep every value, as text
    main = [Column(name=m, field=m, kind="meta") for m in META]
    repeats: dict[str, list[Column]] = {
        r: [Column("instance_id", "instance_id", "meta"), Column("index", "index", "meta")] for r in repeat_parent
    }
    for f in fields.values():
        target = main if f.get("repeat") is None else repeats.setdefault(f["repeat"], [])
        target.append(Column(f["name"], f["name"], "value", f["type"], list_name=f.get("list_name")))
        if f["type"] == "select_multiple":
            for c in choice_order.get(f.get("list_name") or "", []):
                target.append(
                    Column(f"{f['name']}__{c}", f["name"], "choice", "select_multiple", c, f.get("list_name"))
                )
    for r, parent in repeat_parent.items():
        if parent is None:
            main.append(Column(f"{r}__count", r, "count", "integer"))
    return Layout(main=main, repeats=repeats, repeat_parent=repeat_parent, choices=choice_labels)


def spec_check(spec: ExportSpec) -> None:
    """Refuse an unknown repeat or label language before any byte is sent.

    Raises
    ------
    SubmissionRejected
        ``repeat`` names no repeat of the questionnaire, or ``labels`` is not one of its languages.
    """
    if spec.repeat is None and spec.labels is None:
        return
    layout = layout_for(spec.questionnaire)
    if spec.repeat is not None and spec.repeat not in layout.repeats:
        raise SubmissionRejected(
            [FieldProblem("repeat", "invalid", f"got {spec.repeat!r}; expected one of {sorted(layout.repeats)}")]
        )
    if spec.labels is not None:
        langs = set()
        for v in spec.questionnaire.versions.only("languages"):
            langs.update(v.languages)
        if spec.labels not in langs:
            raise SubmissionRejected(
                [FieldProblem("labels", "invalid", f"got {spec.labels!r}; expected one of {sorted(langs)}")]
            )


def _submissions(spec: ExportSpec):
    qs = Submission.objects.filter(
        questionnaire_version__questionnaire=spec.questionnaire, status=Submission.Status.COMPLETE
    )
    if spec.wave is not None:
        qs = qs.filter(wave=spec.wave)
    return qs


def _rows(spec: ExportSpec) -> Iterator[tuple]:
    return (
        _submissions(spec)
        .order_by("id")
        .values_list(
            "instance_id",
            "questionnaire_version__version",
            "wave__name",
            "panel_id",
            "language",
            "submitted_at",
            "data",
        )
        .iterator(chunk_size=CHUNK)
    )


def _label(layout: Layout, list_name: str | None, value: str, lang: str) -> str:
    labels = layout.choices.get(list_name or "", {}).get(value)
    if not labels:
        return value
    return labels.get(lang) or value


def _cell(col: Column, record: dict[str, Any], layout: Layout, lang: str | None, chosen: dict | None = None) -> Any:
    """One cell of ``record``. ``chosen`` (one dict per record) keeps each multiple choice's answers split once
    for all of its 0/1 columns."""
    value = record.get(col.field)
    if col.kind == "choice":
        if value is None or value == "":
            return None
        if chosen is None:
            return 1 if col.choice in str(value).split() else 0
        names = chosen.get(col.field)
        if names is None:
            names = chosen[col.field] = frozenset(str(value).split())
        return 1 if col.choice in names else 0
    if col.kind == "count":
        return len(value) if isinstance(value, list) else 0
    if value is None:
        return None
    if lang and col.type == "select_one":
        return _label(layout, col.list_name, str(value), lang)
    if lang and col.type == "select_multiple":
        return "; ".join(_label(layout, col.list_name, v, lang) for v in str(value).split())
    return value


def _main_meta(row: tuple) -> dict[str, Any]:
    instance_id, version, wave, panel_id, language, submitted_at, data = row
    return {
        "instance_id": str(instance_id),
        "version": version,
        "wave": wave or str(data.get("wave") or ""),
        "panel_id": panel_id or str(data.get("panel_id") or ""),
        "language": language,
        "submitted_at": submitted_at,
    }


def _main_row(layout: Layout, row: tuple, lang: str | None) -> list[Any]:
    meta = _main_meta(row)
    data = row[6]
    chosen: dict[str, frozenset[str]] = {}
    return [meta[col.name] if col.kind == "meta" else _cell(col, data, layout, lang, chosen) for col in layout.main]


def _repeat_rows(layout: Layout, name: str, instance_id: str, data: dict[str, Any], lang: str | None):
    """Yield (repeat name, row) for every entry of repeat ``name`` and of the repeats nested in it."""

    def walk(container: dict[str, Any], repeat: str, prefix: str):
        for i, entry in enumerate(container.get(repeat) or [], start=1):
            index = f"{prefix}{i}"
            row = []
            chosen: dict[str, frozenset[str]] = {}
            for col in layout.repeats[repeat]:
                if col.kind == "meta":
                    row.append(instance_id if col.name == "instance_id" else index)
                else:
                    row.append(_cell(col, entry, layout, lang, chosen))
            yield repeat, row
            for child, parent in layout.repeat_parent.items():
                if parent == repeat:
                    yield from walk(entry, child, f"{index}.")

    yield from walk(data, name, "")


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return "" if value is None else safe_cell(value)


def csv_stream(spec: ExportSpec) -> Iterator[bytes]:
    """Yield a CSV export (UTF-8 with BOM, for spreadsheet programs) in chunks of rows."""
    layout = layout_for(spec.questionnaire)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if spec.repeat:
        writer.writerow([c.name for c in layout.repeats[spec.repeat]])
    else:
        writer.writerow([c.name for c in layout.main])
    yield ("\ufeff" + buffer.getvalue()).encode()
    buffer.seek(0)
    buffer.truncate()
    for n, row in enumerate(_rows(spec), start=1):
        if spec.repeat:
            for name, rrow in _all_repeat_rows(layout, row):
                if name == spec.repeat:
                    writer.writerow([_plain(v) for v in rrow])
        else:
            writer.writerow([_plain(v) for v in _main_row(layout, row, spec.labels)])
        if n % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _all_repeat_rows(layout: Layout, row: tuple, lang: str | None = None):
    instance_id, data = str(row[0]), row[6]
    for name, parent in layout.repeat_parent.items():
        if parent is None:
            yield from _repeat_rows(layout, name, instance_id, data, lang)


def xlsx_write(spec: ExportSpec, target: IO[bytes] | str | Path) -> None:
    """Write an XLSX export: sheet ``data`` plus one sheet per repeat, streamed row by row
    (:class:`digifit.exports.xlsx_stream.XlsxStream`: constant memory, ~10× openpyxl's write-only mode)."""
    from digifit.exports.xlsx_stream import XlsxStream

    layout = layout_for(spec.questionnaire)
    # only meta and value columns can hold text or a datetime; 0/1 choice and count columns are numbers already
    convert = [i for i, c in enumerate(layout.main) if c.kind in ("meta", "value")]
    with XlsxStream(target) as book:
        main = book.sheet("data", [safe_cell(c.name) for c in layout.main])
        sheets = {name: book.sheet(name, [c.name for c in cols]) for name, cols in layout.repeats.items()}
        for row in _rows(spec):
            values = _main_row(layout, row, spec.labels)
            for i in convert:
                values[i] = _xlsx_value(values[i])
            main.row(values)
            for name, rrow in _all_repeat_rows(layout, row, spec.labels):
                sheets[name].row([_xlsx_value(v) for v in rrow])


def _xlsx_value(value: Any) -> Any:
    if type(value) is str:  # the common case first: most cells are text
        return safe_cell(value)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else value.astimezone(dt.UTC).replace(tzinfo=None)
    return safe_cell(value)


def xlsx_bytes(spec: ExportSpec) -> IO[bytes]:
    """Return the XLSX export as a temporary file opened for reading (it goes away when closed)."""
    fh = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, which closes it
    xlsx_write(spec, fh)
    fh.seek(0)
    return fh


# --------------------------------------------------------------------------------------------- Parquet

_ARROW_TYPES = {
    "integer": "int64",
    "decimal": "float64",
    "range": "float64",  # a slider's value: a number on the start/end/step grid
    "date": "date32",
    "select_multiple": "string",
}


def _calculated_types(spec: ExportSpec, names: list[str]) -> dict[str, str]:
    """Type ``calculate``/``hidden`` columns from their stored values: integer, decimal or text.

    XLSForm gives calculations no type; the server stores what the expression produced. All whole numbers ->
    integer, all numbers -> decimal, anything else (or nothing at all) -> text. On PostgreSQL and SQLite one
    aggregate query over the JSON types decides; elsewhere one pass over just these keys.
    """
    if not names:
        return {}
    qs = _submissions(spec)
    vendor = connections[qs.db].vendor
    if vendor not in ("postgresql", "sqlite"):
        return _calculated_types_scan(qs, names)
    aggregates = {}
    for i, name in enumerate(names):
        if vendor == "postgresql":
            json_type = Func(KeyTransform(name, "data"), function="jsonb_typeof", output_field=CharField())
            number, whole = Q(**{f"t{i}": "number"}), Q(**{f"data__{name}__regex": r"^-?[0-9]+$"})
            other = Q(**{f"t{i}__in": ["string", "boolean", "object", "array"]})
        else:
            json_type = Func(F("data"), Value(f'$."{name}"'), function="JSON_TYPE", output_field=CharField())
            number, whole = Q(**{f"t{i}__in": ["integer", "real"]}), Q(**{f"t{i}": "integer"})
            other = Q(**{f"t{i}__in": ["text", "true", "false", "object", "array"]})
        qs = qs.annotate(**{f"t{i}": json_type})
        aggregates[f"n{i}"] = Count("id", filter=number)
        aggregates[f"w{i}"] = Count("id", filter=number & whole)
        aggregates[f"o{i}"] = Count("id", filter=other & ~Q(**{f"data__{name}": ""}))
    counts = qs.aggregate(**aggregates)
    kinds = {}
    for i, name in enumerate(names):
        if counts[f"o{i}"] or not counts[f"n{i}"]:
            kinds[name] = "text"
        else:
            kinds[name] = "integer" if counts[f"w{i}"] == counts[f"n{i}"] else "decimal"
    return kinds


def _calculated_types_scan(qs, names: list[str]) -> dict[str, str]:
    kinds = dict.fromkeys(names, "integer")
    seen = dict.fromkeys(names, False)
    for values in qs.values_list(*[f"data__{name}" for name in names]).iterator(chunk_size=CHUNK * 5):
        for name, value in zip(names, values, strict=True):
            if value is None or value == "" or kinds[name] == "text":
                continue
            seen[name] = True
            if isinstance(value, bool) or not isinstance(value, int | float):
                kinds[name] = "text"
            elif isinstance(value, float) and kinds[name] == "integer":
                kinds[name] = "decimal"
    return {name: (kind if seen[name] else "text") for name, kind in kinds.items()}


def snapshot_schema(layout: Layout, types: dict[str, str] | None = None):
    """Return the Arrow schema of a snapshot: metadata, one typed column per field, 0/1 choice columns.

    ``types`` overrides the type of some columns (the inferred types of calculations).
    """
    import pyarrow as pa

    types = types or {}

    cols = [
        pa.field("instance_id", pa.string(), nullable=False),
        pa.field("version", pa.string(), nullable=False),
        pa.field("wave", pa.string()),
        pa.field("panel_id", pa.string()),
        pa.field("language", pa.string()),
        pa.field("submitted_at", pa.timestamp("us", tz="UTC")),
    ]
    for col in layout.main:
        if col.kind == "meta":
            continue
        if col.kind in ("choice", "count"):
            cols.append(pa.field(col.name, pa.int64()))
        else:
            kind = _ARROW_TYPES.get(types.get(col.name, col.type), "string")
            cols.append(pa.field(col.name, getattr(pa, kind)()))
    return pa.schema(cols, metadata={b"digifit.snapshot": b"1"})


def _arrow_value(col_type: str, value: Any) -> Any:
    if value is None or value == "":
        return None
    try:
        if col_type == "integer":
            return int(value)
        if col_type in ("decimal", "range"):
            return float(value)
        if col_type == "date":
            return dt.date.fromisoformat(str(value)[:10])
    except (TypeError, ValueError):
        return None
    return str(value)


def snapshot_write(spec: ExportSpec, target: str | Path | IO[bytes], *, batch_size: int = 10_000) -> int:
    """Write the Parquet snapshot of ``spec`` (usually one wave) in row batches; return the number of rows.

    The file is one flat, typed table that ``digifit.stats.design`` / ``digifit estimate`` read directly.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    layout = layout_for(spec.questionnaire)
    calculated = _calculated_types(
        spec, [c.name for c in layout.main if c.kind == "value" and c.type in ("calculate", "hidden")]
    )
    schema = snapshot_schema(layout, calculated)
    names = schema.names
    types = {c.name: ("integer" if c.kind in ("choice", "count") else c.type) for c in layout.main}
    types.update(calculated)
    n = 0
    with pq.ParquetWriter(target, schema, compression="zstd") as writer:
        columns: dict[str, list[Any]] = {name: [] for name in names}

        def flush() -> None:
            if not columns["instance_id"]:
                return
            writer.write_batch(pa.record_batch([columns[name] for name in names], schema=schema))
            for values in columns.values():
                values.clear()

        meta_cols = [(c.name, columns[c.name]) for c in layout.main if c.kind == "meta"]
        plan = [(columns[c.name], c.kind, c.field, c.choice, types[c.name]) for c in layout.main if c.kind != "meta"]
        for row in _rows(spec):
            meta = _main_meta(row)
            for name, out in meta_cols:
                value = meta[name]
                out.append(None if value == "" and name == "wave" else value)
            data = row[6]
            selected: dict[str, set[str]] = {}  # each multi-select answer is split once per row
            for out, kind, field_name, choice, col_type in plan:
                value = data.get(field_name)
                if kind == "choice":
                    if value is None or value == "":
                        out.append(None)
                    else:
                        chosen = selected.get(field_name)
                        if chosen is None:
                            chosen = selected[field_name] = set(str(value).split())
                        out.append(1 if choice in chosen else 0)
                elif kind == "count":
                    out.append(len(value) if isinstance(value, list) else 0)
                elif col_type == "text" or col_type == "select_one" or col_type == "select_multiple":
                    out.append(None if value is None or value == "" else str(value))
                else:
                    out.append(_arrow_value(col_type, value))
            n += 1
            if n % batch_size == 0:
                flush()
        flush()
        if n == 0:
            writer.write_table(schema.empty_table())
    return n


def parquet_bytes(spec: ExportSpec) -> IO[bytes]:
    """Return the Parquet snapshot as a temporary file opened for reading."""
    fh = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, which closes it
    snapshot_write(spec, fh)
    fh.seek(0)
    return fh


def rows_iter(spec: ExportSpec) -> Iterable[list[Any]]:
    """Yield the main table's rows as lists (for callers that render them otherwise)."""
    layout = layout_for(spec.questionnaire)
    for row in _rows(spec):
        yield _main_row(layout, row, spec.labels)
