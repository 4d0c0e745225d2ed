"""The corpus of tests/forms/corpus: every type pyxform reads is accepted, typed and checked as ODK does."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest

from digifit.forms import Notice, load_xlsform, validate_answers

CORPUS = Path(__file__).with_name("corpus")


@pytest.fixture(scope="module")
def wide():
    return load_xlsform(CORPUS / "wide_types.xlsx")


def test_the_committed_corpus_is_what_the_script_writes():
    sys.path.insert(0, str(CORPUS))
    try:
        import build_corpus
    finally:
        sys.path.remove(str(CORPUS))
    for name, data in build_corpus.build().items():
        assert load_xlsform(data, filename=name).xform_xml == load_xlsform(CORPUS / name).xform_xml, name


def test_form_id_comes_from_the_file_name_and_the_xform_says_so(wide):
    assert wide.form_id == "wide_types"
    assert 'id="wide_types"' in wide.xform_xml


def test_every_type_is_typed_as_pyxform_reads_it(wide):
    types = {f.name: f.type for f in wide.walk()}
    assert types["visit_at"] == "dateTime" and types["photo"] == "image" and types["fruit_rank"] == "rank"
    assert types["where_started"] == "start-geopoint" and types["building"] == "osm"
    assert wide.field("score").parameters == {"start": "0", "end": "10", "step": "2"}
    assert wide.field("photo").parameters == {"max-pixels": "1024"}


def test_relative_paths_and_last_saved_are_read(wide):
    assert wide.field("people_plus").calculation == "${people} + 1"
    assert wide.field("people_twice").calculation == "${people} * 2"
    assert wide.field("code_before").calculation == "''"


def test_what_the_web_form_cannot_offer_is_noticed_by_row(wide):
    assert Notice(25, "building", "type:osm") in wide.notices
    assert Notice(32, "code_before", "last-saved") in wide.notices
    assert {n.name for n in wide.notices} == {
        "place_bg",
        "photo",
        "voice",
        "clip",
        "document",
        "path",
        "field_area",
        "building",
        "code_before",
    }


def test_old_spellings():
    q = load_xlsform(CORPUS / "old_spellings.xlsx")
    types = {f.name: (f.type, f.list_name) for f in q.walk()}
    assert types["likes"] == ("select_one", "yesno") and types["eaten"] == ("select_multiple", "fruit")
    assert types["bought"] == ("select_multiple", "fruit") and types["count"] == ("integer", None)
    assert types["per_fruit"][0] == "loop"


GOOD = {
    "visit_date": "2026-12-03",
    "visit_time": "14:05:00.000+01:00",
    "visit_at": "2026-12-03T14:05:00.000+01:00",
    "score": "4",
    "place": "52.52 13.405 34 5",
    "fruit_rank": "pear plum apple",
    "consent": "OK",
    "code": "4006381333931",
    "path": "52.5 13.4 0 0;52.6 13.5 0 0",
    "field_area": "0 0;0 1;1 1;0 0",
    "visits": [{"people": 3}],
}


def test_a_filled_submission_is_valid(wide):
    assert validate_answers(wide, GOOD, language="en") == []


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("visit_time", "25:00", "Uhrzeit"),
        ("visit_at", "2026-13-03T14:05", "Datum und Uhrzeit"),
        ("place", "91 13.4", "Breite"),
        ("place", "52 13 0 -1", "Genauigkeit"),
        ("path", "52 13", "Linie"),
        ("field_area", "0 0;0 1;1 1;1 0", "geschlossene"),
        ("score", "5", "von 0 bis 10 in Schritten von 2"),
        ("score", "12", "von 0 bis 10"),
        ("fruit_rank", "pear apple", "Reihenfolge"),
        ("fruit_rank", "pear pear apple", "Reihenfolge"),
        ("consent", "yes", "„OK“"),
    ],
)
def test_bad_values_are_refused_with_the_field_named(wide, name, value, words):
    errors = validate_answers(wide, GOOD | {name: value}, language="de")
    assert [(e.field, e.code) for e in errors] == [(name, "type")]
    assert words in errors[0].message


def test_messages_in_french(wide):
    (error,) = validate_answers(wide, GOOD | {"visit_time": "midi"}, language="fr")
    assert error.message.startswith("Heure HH:MM")


def test_parameters_cell_on_any_type_is_read():
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", "label", "parameters"])
    ws.append(["text", "t", "T", "rows=3"])
    ws.append(["audio", "a", "A", "quality=voice-only"])
    buffer = io.BytesIO()
    wb.save(buffer)
    q = load_xlsform(buffer.getvalue(), filename="params.xlsx")
    assert q.field("a").parameters == {"quality": "voice-only"}


def _with_unknown_extension(data: bytes) -> bytes:
    """The workbook with an extension openpyxl does not know on the survey sheet (it warns on reading it)."""
    import io
    import zipfile

    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                ext = b'<extLst><ext uri="{00000000-1234-5678-9ABC-000000000000}"><x/></ext></extLst>'
                content = content.replace(b"</worksheet>", ext + b"</worksheet>")
            target.writestr(item, content)
    return out.getvalue()


def test_openpyxl_warnings_stay_quiet():
    import io

    import openpyxl

    data = _with_unknown_extension((CORPUS / "old_spellings.xlsx").read_bytes())
    with pytest.warns(UserWarning, match="extension"):  # the file does make openpyxl warn ...
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        [list(ws.iter_rows(values_only=True)) for ws in workbook.worksheets]
        workbook.close()
    with warnings.catch_warnings(record=True) as caught:  # ... but not when digifit reads it
        warnings.simplefilter("always")
        q = load_xlsform(data, filename="old_spellings.xlsx")
    assert q.form_id == "old_spellings" and [str(w.message) for w in caught] == []
