"""Loading XLSForms: the bundled questionnaire, the model, and broken forms refused with sheet/row/column."""

from __future__ import annotations

import io
import pickle
import re
from pathlib import Path

import openpyxl
import pytest

from digifit.demo.questionnaire import QUESTIONNAIRE_PATH, load_questionnaire
from digifit.demo.questionnaire.build import write
from digifit.forms import Field, MissingLabel, Notice, Problem, Questionnaire, XLSFormError, load_xlsform
from digifit.stats.errors import DigifitError

DE, EN, FR = "Deutsch (de)", "English (en)", "Français (fr)"


def make_form(survey, choices=None, settings=None, *, languages=(DE, EN)) -> bytes:
    """An XLSForm as bytes. ``survey`` rows are (type, name, labels-tuple-or-None, {extra columns})."""
    extra_columns: list[str] = []
    for _t, _n, _l, extra in survey:
        extra_columns += [c for c in extra if c not in extra_columns]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", *(f"label::{lang}" for lang in languages), *extra_columns])
    for type_, name, labels, extra in survey:
        labels = labels or (None,) * len(languages)
        ws.append([type_, name, *labels, *(extra.get(c) for c in extra_columns)])
    if choices is not None:
        filter_columns: list[str] = []
        for row in choices:
            filter_columns += [c for c in (row[3] if len(row) > 3 else {}) if c not in filter_columns]
        wc = wb.create_sheet("choices")
        wc.append(["list_name", "name", *(f"label::{lang}" for lang in languages), *filter_columns])
        for row in choices:
            extra = row[3] if len(row) > 3 else {}
            wc.append([row[0], row[1], *row[2], *(extra.get(c) for c in filter_columns)])
    st = wb.create_sheet("settings")
    settings = {"form_id": "test_form", "version": "1", "default_language": languages[0]} | (settings or {})
    st.append(list(settings))
    st.append(list(settings.values()))
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


GOOD_SURVEY = [
    ("begin group", "page1", ("Seite 1", "Page 1"), {}),
    ("select_one country", "country", ("Land", "Country"), {"required": "yes"}),
    ("integer", "age", ("Alter", "Age"), {"constraint": ". >= 0"}),
    ("end group", None, None, {}),
]
GOOD_CHOICES = [("country", "DE", ("Deutschland", "Germany")), ("country", "FR", ("Frankreich", "France"))]


def refused(data: bytes) -> XLSFormError:
    with pytest.raises(XLSFormError) as info:
        load_xlsform(data, filename="form.xlsx")
    return info.value


# ------------------------------------------------------------------------------------------- bundled form


@pytest.fixture(scope="module")
def bundled() -> Questionnaire:
    return load_questionnaire()


def test_bundled_settings_and_languages(bundled):
    assert bundled.form_id == "future_of_business"
    assert bundled.version == "2026.1"
    assert bundled.default_language == "de"
    assert bundled.languages == ("de", "en", "fr")
    assert bundled.language_names["fr"] == "Français (fr)"


def test_bundled_has_no_missing_labels(bundled):
    for language in ("de", "en", "fr"):
        report = bundled.completeness[language]
        assert report.missing == ()
        assert report.ratio == 1.0


def test_bundled_xform_xml(bundled):
    xml = bundled.xform_xml
    assert xml.startswith("<?xml")
    assert 'id="future_of_business"' in xml and 'version="2026.1"' in xml
    for language in (DE, EN, FR):
        assert f'lang="{language}"' in xml


def test_bundled_fields(bundled):
    names = [f.name for f in bundled.walk()]
    for name in (
        "country",
        "region",
        "sector",
        "size",
        "presence_before",
        "digital_share",
        "digital25",
        "revenue_change",
        "employment_change",
        "closed",
        "closed_months",
        "tools_since",
        "tool_detail",
        "remote_staff",
        "support_needs",
        "support_needs_other",
        "consent",
        "email",
        "panel_id",
    ):
        assert name in names
    assert len(names) == len(set(names))
    types = {f.type for f in bundled.walk()}
    assert {
        "integer",
        "decimal",
        "text",
        "select_one",
        "select_multiple",
        "date",
        "note",
        "calculate",
        "hidden",
        "group",
        "repeat",
    } <= types

    region = bundled.field("region")
    assert region.path == ("profile",) and region.xpath == "profile/region"
    assert region.choice_filter == "country = ${country}"
    assert region.required is True
    assert {c.columns["country"] for c in bundled.choices["region"]} == {"DE", "FR", "UK", "IT", "ES", "PL"}

    assert bundled.field("digital25").calculation.startswith("if(")
    assert [c.name for c in bundled.choices["share"]] == ["none", "lt10", "p10_24", "p25_49", "p50_74", "p75plus"]

    email = bundled.field("email")
    assert email.relevant == "${consent} = 'yes'"
    assert set(email.constraint_message) == {"de", "en", "fr"}
    assert email.constraint.startswith("regex(")

    closed_months = bundled.field("closed_months")
    assert closed_months.relevant == "${closed} = 'yes'"
    assert closed_months.label == {
        "de": "Wie viele Monate insgesamt?",
        "en": "For how many months in total?",
        "fr": "Pendant combien de mois au total ?",
    }

    repeat = bundled.field("tool_detail")
    assert repeat.repeat and not repeat.group
    assert [c.name for c in repeat.children] == ["tool", "tool_start", "tool_cost", "tool_useful"]
    assert bundled.field("tool_cost").path == ("adoption", "tool_detail")

    needs = bundled.field("support_needs")
    assert needs.or_other and needs.type == "select_multiple"
    other = bundled.field("support_needs_other")
    assert other.generated and other.relevant == "selected(${support_needs}, 'other')"
    assert set(other.label) == {"de", "en", "fr"}

    assert bundled.field("wave").default == "2026-1"
    assert bundled.field("profile").group and bundled.field("profile").appearance == "field-list"
    assert bundled.field("country").row == 8  # spreadsheet row of the survey sheet
    assert bundled.choice_label("sector", "hospitality", "fr") == "Restauration et hébergement"


def test_bundled_form_is_rebuilt_by_its_script(tmp_path):
    rebuilt = load_xlsform(write(tmp_path / "rebuilt.xlsx"))
    committed = load_xlsform(QUESTIONNAIRE_PATH)
    assert rebuilt.fields == committed.fields
    assert rebuilt.choices == committed.choices


def test_questionnaire_pickles(bundled):
    assert pickle.loads(pickle.dumps(bundled)).fields == bundled.fields


def test_field_is_frozen(bundled):
    with pytest.raises(AttributeError):
        bundled.field("country").name = "land"  # type: ignore[misc]


# ------------------------------------------------------------------------------------------- good forms


def test_small_form_model():
    q = load_xlsform(make_form(GOOD_SURVEY, GOOD_CHOICES), filename="small.xlsx")
    assert q.form_id == "test_form" and q.languages == ("de", "en")
    (page,) = q.fields
    assert page.group and [c.name for c in page.children] == ["country", "age"]
    age = q.field("age")
    assert age == Field(
        name="age", type="integer", path=("page1",), label={"de": "Alter", "en": "Age"}, constraint=". >= 0", row=4
    )
    assert [c.name for c in q.choices["country"]] == ["DE", "FR"]
    assert q.choices["country"][1].row == 3


def test_type_aliases_and_list_name_case():
    survey = [
        ("select one Countries", "country", ("Land", "Country"), {}),
        ("select all that apply Countries", "visited", ("Besucht", "Visited"), {}),
        ("int", "n", ("Anzahl", "Number"), {}),
    ]
    choices = [("Countries", "DE", ("Deutschland", "Germany"))]
    q = load_xlsform(make_form(survey, choices))
    assert [(f.type, f.list_name) for f in q.walk()] == [
        ("select_one", "Countries"),
        ("select_multiple", "Countries"),
        ("integer", None),
    ]


def test_column_headers_are_case_insensitive():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["Type", "Name", "Label :: Deutsch (de)", "Relevant"])
    ws.append(["integer", "n", "Zahl", None])
    ws.append(["text", "t", "Text", "${n} > 1"])
    buffer = io.BytesIO()
    wb.save(buffer)
    q = load_xlsform(buffer.getvalue(), filename="caps.xlsx")
    assert q.form_id == "caps" and q.languages == ("de",)
    assert q.field("t").relevant == "${n} > 1" and q.field("t").label == {"de": "Text"}


def test_missing_french_labels_are_accepted_and_listed():
    survey = [
        ("text", "firm", ("Firma", "Business", "Entreprise"), {}),
        ("integer", "staff", ("Beschäftigte", "Staff", None), {}),
        ("select_one yesno", "online", ("Online?", "Online?", None), {}),
    ]
    choices = [("yesno", "yes", ("Ja", "Yes", "Oui")), ("yesno", "no", ("Nein", "No", None))]
    q = load_xlsform(make_form(survey, choices, languages=(DE, EN, FR)))
    assert q.completeness["de"].missing == () and q.completeness["en"].complete
    french = q.completeness["fr"]
    assert french.missing == (
        MissingLabel("survey", 3, "staff", "label::Français (fr)"),
        MissingLabel("survey", 4, "online", "label::Français (fr)"),
        MissingLabel("choices", 3, "yesno/no", "label::Français (fr)"),
    )
    assert french.missing[0] == ("survey", 3, "staff", "label::Français (fr)")
    assert french.ratio == pytest.approx(2 / 5)
    assert q.field("staff").label == {"de": "Beschäftigte", "en": "Staff"}
    assert q.field("staff").text("label", "fr", "de") == "Beschäftigte"


# ------------------------------------------------------------------------------------------- broken forms


def test_unknown_type_names_row_and_column():
    survey = [*GOOD_SURVEY[:2], ("selct_one country", "country2", ("Land", "Country"), {}), *GOOD_SURVEY[2:]]
    error = refused(make_form(survey, GOOD_CHOICES))
    assert error.problems == (
        Problem("survey", 4, "type", "unknown question type 'selct_one country'; did you mean 'select_one'?"),
    )
    assert "survey sheet row 4, column \"type\": unknown question type 'selct_one country'" in str(error)
    assert str(error).startswith("form.xlsx: the XLSForm has 1 problem:")


def test_error_is_value_error_and_digifit_error():
    error = refused(make_form([("selct_one x", "a", None, {})]))
    assert isinstance(error, ValueError) and isinstance(error, DigifitError)


def test_error_pickles_with_its_problems():
    error = refused(make_form([("selct_one x", "a", None, {})]))
    copy = pickle.loads(pickle.dumps(error))
    assert copy.problems == error.problems and copy.filename == "form.xlsx" and str(copy) == str(error)


def test_every_type_pyxform_reads_is_accepted_and_web_gaps_are_noticed():
    q = load_xlsform(
        make_form([("geopoint", "where", ("Wo", "Where"), {}), ("osm", "building", ("Gebäude", "Building"), {})]),
        filename="form.xlsx",
    )
    assert [(f.name, f.type) for f in q.walk()] == [("where", "geopoint"), ("building", "osm")]
    assert q.notices == (Notice(3, "building", "type:osm"),)


def test_missing_choice_list():
    survey = [("select_one regions", "region", ("Region", "Region"), {})]
    error = refused(make_form(survey, GOOD_CHOICES))
    assert error.problems == (Problem("survey", 2, "type", "choice list 'regions' is not on the choices sheet"),)


def test_missing_choices_sheet():
    error = refused(make_form([("select_one country", "country", ("Land", "Country"), {})]))
    assert error.problems[0][:3] == ("survey", 2, "type")
    assert "(the workbook has no 'choices' sheet)" in error.problems[0].message


def test_unmatched_begin_group():
    survey = [("begin group", "page1", ("Seite", "Page"), {}), ("text", "a", ("A", "A"), {})]
    error = refused(make_form(survey))
    assert error.problems == (Problem("survey", 2, "type", "'begin group' 'page1' has no matching 'end group'"),)


def test_unmatched_end_group_and_crossed_sections():
    survey = [
        ("text", "a", ("A", "A"), {}),
        ("end group", None, None, {}),
        ("begin repeat", "items", ("Posten", "Items"), {}),
        ("text", "b", ("B", "B"), {}),
        ("end group", None, None, {}),
    ]
    error = refused(make_form(survey))
    assert [p[:3] for p in error.problems] == [("survey", 3, "type"), ("survey", 6, "type")]
    assert error.problems[0].message == "'end group' without a matching 'begin group'"
    assert error.problems[1].message == "'end group' closes 'begin repeat' 'items' of row 4"


def test_bad_expression_names_row_and_column():
    survey = [
        ("integer", "age", ("Alter", "Age"), {"constraint": ". >= 0 and", "relevant": "${agee} > 1"}),
        ("calculate", "twice", None, {"calculation": "${age} * (2"}),
    ]
    error = refused(make_form(survey))
    located = {(p.row, p.column): p.message for p in error.problems}
    assert set(located) == {(2, "constraint"), (2, "relevant"), (3, "calculation")}
    assert located[(2, "relevant")] == "${agee} names no field; did you mean ${age}?"
    assert located[(2, "constraint")].startswith("cannot read the expression: ")
    assert "'. >= 0 and'" in located[(2, "constraint")]
    assert 'survey sheet row 3, column "calculation": cannot read the expression' in str(error)


def test_choice_filter_columns_are_checked():
    survey = [
        ("select_one country", "country", ("Land", "Country"), {}),
        ("select_one region", "region", ("Region", "Region"), {"choice_filter": "contry = ${country}"}),
    ]
    choices = [*GOOD_CHOICES, ("region", "by", ("Bayern", "Bavaria"), {"country": "DE"})]
    error = refused(make_form(survey, choices))
    assert error.problems[0][:3] == ("survey", 3, "choice_filter")
    assert error.problems[0].message.startswith("'contry' is not a column of the choices sheet")


def test_duplicate_names():
    survey = [*GOOD_SURVEY[:3], ("text", "country", ("Land", "Country"), {}), *GOOD_SURVEY[3:]]
    choices = [*GOOD_CHOICES, ("country", "DE", ("Deutschland", "Germany"))]
    error = refused(make_form(survey, choices))
    assert error.problems == (
        Problem("choices", 4, "name", "duplicate choice 'DE' in list 'country' (first in row 2)"),
        Problem("survey", 5, "name", "duplicate name 'country' (first used in row 3)"),
    )


def test_all_problems_are_collected():
    survey = [
        ("selct_one country", "a", None, {}),
        ("text", "bad name", None, {}),
        ("calculate", "c", None, {}),
        ("begin group", "g", ("G", "G"), {}),
    ]
    error = refused(make_form(survey))
    assert [(p.row, p.column) for p in error.problems] == [(2, "type"), (3, "name"), (4, "calculation"), (5, "type")]
    assert "the XLSForm has 4 problems" in str(error)


def test_unreadable_workbook():
    error = refused(b"this is not a spreadsheet")
    assert error.problems[0].sheet is None
    assert re.search("cannot read the workbook as .xlsx", str(error))


def test_pyxform_errors_are_located_by_the_element_they_name():
    # a question without a label passes our checks; pyxform refuses it and names the element
    survey = [("integer", "n", ("Anzahl", "Number"), {}), ("text", "a", None, {})]
    error = refused(make_form(survey))
    assert error.problems == (
        Problem("survey", 3, None, "pyxform: The survey element named 'a' has no label or hint."),
    )


def test_load_from_path_and_file(tmp_path: Path):
    path = tmp_path / "my_form.xlsx"
    path.write_bytes(make_form(GOOD_SURVEY, GOOD_CHOICES, settings={"form_id": ""}))
    assert load_xlsform(path).form_id == "my_form"  # falls back to the file name
    with path.open("rb") as handle:
        assert load_xlsform(handle).form_id == "my_form"


def test_a_translated_form_title_is_refused_with_the_column_named():
    """pyxform fails on ``form_title::…`` with "'dict' object has no attribute 'nodeType'"; the check names the
    column and says what to do instead, and a single ``form_title`` still loads."""
    title = {"form_title": "Umfrage", f"form_title::{EN}": "Survey"}
    error = refused(make_form(GOOD_SURVEY, GOOD_CHOICES, title))
    assert [(p.sheet, p.row, p.column) for p in error.problems] == [("settings", 1, f"form_title::{EN}")]
    assert "keep a single form_title column" in error.problems[0].message
    assert "nodeType" not in str(error)
    assert load_xlsform(make_form(GOOD_SURVEY, GOOD_CHOICES, {"form_title": "Umfrage"})).title == "Umfrage"
