"""Write the XLSForm corpus of the wider-types tests (``python tests/forms/corpus/build_corpus.py``).

Each form is written with openpyxl, deterministically (fixed workbook dates), so the committed ``.xlsx`` files
are what this script writes. The forms cover every question type pyxform reads that digifit used to refuse,
the older spellings pyxform still accepts, ``parameters``, ``${last-saved#...}``, relative paths and a
settings sheet without ``form_id`` (the id comes from the file name, as in pyxform).

* ``wide_types.xlsx`` — every type, German/English labels, no ``form_id``;
* ``old_spellings.xlsx`` — ``select one from``, ``select all that apply``, ``begin loop over``, ``int``;
* ``web_widgets.xlsx`` — one page of date, time, dateTime, range, geopoint, rank (the browser test).
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

HERE = Path(__file__).resolve().parent
DE, EN = "Deutsch (de)", "English (en)"


def _workbook(survey: list[dict], choices: list[dict], settings: dict) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    fixed = dt.datetime(2026, 1, 1)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    ws = wb.active
    ws.title = "survey"
    for title, rows in (("survey", survey), ("choices", choices), ("settings", [settings])):
        sheet = ws if title == "survey" else wb.create_sheet(title)
        headers: list[str] = []
        for row in rows:
            headers += [h for h in row if h not in headers]
        sheet.append(headers)
        for row in rows:
            sheet.append([row.get(h) for h in headers])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _q(type_: str, name: str | None, de: str = "", en: str = "", **extra: str) -> dict:
    row = {"type": type_, "name": name, f"label::{DE}": de or None, f"label::{EN}": en or None}
    return row | extra


FRUIT = [
    {"list_name": "fruit", "name": "apple", f"label::{DE}": "Apfel", f"label::{EN}": "Apple"},
    {"list_name": "fruit", "name": "pear", f"label::{DE}": "Birne", f"label::{EN}": "Pear"},
    {"list_name": "fruit", "name": "plum", f"label::{DE}": "Pflaume", f"label::{EN}": "Plum"},
]
YESNO = [
    {"list_name": "yesno", "name": "yes", f"label::{DE}": "Ja", f"label::{EN}": "Yes"},
    {"list_name": "yesno", "name": "no", f"label::{DE}": "Nein", f"label::{EN}": "No"},
]

WIDE_TYPES = [
    _q("start-geopoint", "where_started"),
    _q("audit", "audit"),
    _q("begin group", "page1", "Seite 1", "Page 1"),
    _q("date", "visit_date", "Datum des Besuchs", "Visit date"),
    _q("time", "visit_time", "Uhrzeit des Besuchs", "Visit time"),
    _q("dateTime", "visit_at", "Zeitpunkt", "Moment"),
    _q("range", "score", "Bewertung", "Score", parameters="start=0 end=10 step=2"),
    _q("geopoint", "place", "Ort", "Place"),
    _q("background-geopoint", "place_bg", "", "", trigger="${place}"),
    _q("rank fruit", "fruit_rank", "Obst nach Vorliebe", "Fruit by preference"),
    _q("acknowledge", "consent", "Ich stimme zu", "I agree"),
    _q("trigger", "ready", "Bereit", "Ready"),
    _q("barcode", "code", "Strichcode", "Barcode"),
    _q("note", "info", "Hinweis", "Note"),
    _q("hidden", "source"),
    _q("end group", None),
    _q("begin group", "page2", "Seite 2", "Page 2"),
    _q("image", "photo", "Foto", "Photo", parameters="max-pixels=1024"),
    _q("audio", "voice", "Aufnahme", "Recording"),
    _q("video", "clip", "Video", "Video"),
    _q("file", "document", "Datei", "File"),
    _q("geotrace", "path", "Weg", "Path"),
    _q("geoshape", "field_area", "Fläche", "Area"),
    _q("osm", "building", "Gebäude", "Building"),
    _q("end group", None),
    _q("begin repeat", "visits", "Besuche", "Visits"),
    _q("integer", "people", "Personen", "People"),
    _q("calculate", "people_plus", calculation="../people + 1"),
    _q("calculate", "people_twice", calculation="current()/../people * 2"),
    _q("end repeat", None),
    _q("calculate", "code_before", calculation="${last-saved#code}"),
]

OLD_SPELLINGS = [
    _q("select one from yesno", "likes", "Mögen Sie Obst?", "Do you like fruit?"),
    _q("select all that apply from fruit", "eaten", "Gegessen", "Eaten"),
    _q("select all that apply fruit", "bought", "Gekauft", "Bought"),
    _q("select one yesno", "again", "Wieder?", "Again?"),
    _q("int", "count", "Anzahl", "Count"),
    _q("begin loop over fruit", "per_fruit", "Je Obst", "Per fruit"),
    _q("integer", "kilos", "Kilo", "Kilos"),
    _q("end loop", None),
]

WEB_WIDGETS = [
    _q("begin group", "page1", "Ihr Besuch", "Your visit"),
    _q("date", "visit_date", "Datum des Besuchs", "Visit date", required="yes"),
    _q("time", "visit_time", "Uhrzeit des Besuchs", "Visit time"),
    _q("dateTime", "visit_at", "Zeitpunkt", "Moment"),
    _q("range", "score", "Bewertung", "Score", parameters="start=0 end=10 step=2"),
    _q("geopoint", "place", "Ort", "Place"),
    _q("rank fruit", "fruit_rank", "Obst nach Vorliebe", "Fruit by preference"),
    _q("acknowledge", "consent", "Ich stimme zu", "I agree"),
    _q("barcode", "code", "Strichcode", "Barcode"),
    _q("photo", "photo", "Foto", "Photo"),
    _q("end group", None),
]

FORMS = {
    "wide_types.xlsx": (WIDE_TYPES, FRUIT + YESNO, {"version": "1", "default_language": DE}),
    "old_spellings.xlsx": (OLD_SPELLINGS, FRUIT + YESNO, {"form_id": "old_spellings", "version": "1"}),
    "web_widgets.xlsx": (WEB_WIDGETS, FRUIT, {"form_id": "web_widgets", "version": "1", "default_language": DE}),
}


def build() -> dict[str, bytes]:
    """The corpus as ``{file name: bytes}``."""
    return {name: _workbook(*spec) for name, spec in FORMS.items()}


if __name__ == "__main__":
    for name, data in build().items():
        (HERE / name).write_bytes(data)
        print(HERE / name)
