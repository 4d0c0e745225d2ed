"""Exports: column union across versions, select_multiple as 0/1, repeats linked, labels, Parquet snapshot."""

from __future__ import annotations

import csv
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from .conftest import answers, new_id, upload, xlsform_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_versions(manager, wave):
    """Two submissions on version 1, then version 2 (new field ``comment``, new choice ``marketplace``)."""
    ids = [new_id(), new_id(), new_id()]
    for iid, data in zip(ids[:2], (answers(), answers(country="FR", channels=["social"], tools=None)), strict=True):
        body = {"form_id": "fob_test", "instance_id": iid, "wave_id": wave["id"], "data": data}
        assert manager.post("/api/submissions", body).status_code == 201
    assert upload(manager, xlsform_bytes(version="2", extra_field=True, extra_choice=True)).status_code == 201
    data = answers(channels=["marketplace", "shop"], comment="neu", employees=40)
    body = {"form_id": "fob_test", "version": "2", "instance_id": ids[2], "wave_id": wave["id"], "data": data}
    assert manager.post("/api/submissions", body).status_code == 201, body
    return ids


def read_csv(resp) -> list[dict[str, str]]:
    text = b"".join(resp.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_columns_are_the_union_of_all_versions(manager, wave, two_versions):
    resp = manager.get(f"/api/waves/{wave['id']}/export?format=csv")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    rows = read_csv(resp)
    assert list(rows[0])[:6] == ["instance_id", "version", "wave", "panel_id", "language", "submitted_at"]
    columns = list(rows[0])
    for name in (
        "country",
        "employees",
        "channels",
        "channels__website",
        "channels__shop",
        "channels__social",
        "channels__marketplace",
        "shop_share",
        "comment",
        "tools__count",
    ):
        assert name in columns
    assert "intro" not in columns  # notes carry no data
    assert "tool_name" not in columns  # repeat fields live in the repeat table
    assert [r["version"] for r in rows] == ["1", "1", "2"]
    first, second, third = rows
    assert first["instance_id"] == two_versions[0]
    assert (first["channels__website"], first["channels__shop"], first["channels__social"]) == ("1", "1", "0")
    assert first["channels__marketplace"] == "0" and first["comment"] == ""
    assert first["tools__count"] == "2" and second["tools__count"] == "0"
    assert second["shop_share"] == ""  # not relevant without 'shop'
    assert third["comment"] == "neu" and third["channels__marketplace"] == "1"


def test_csv_of_a_repeat_links_to_the_submission(manager, wave, two_versions):
    resp = manager.get(f"/api/waves/{wave['id']}/export?format=csv&repeat=tools")
    rows = read_csv(resp)
    assert [(r["instance_id"], r["index"], r["tool_name"]) for r in rows[:2]] == [
        (two_versions[0], "1", "CRM"),
        (two_versions[0], "2", "ERP"),
    ]
    assert manager.get(f"/api/waves/{wave['id']}/export?format=csv&repeat=nope").status_code == 422


def test_labels_in_a_chosen_language(manager, wave, two_versions):
    rows = read_csv(manager.get(f"/api/waves/{wave['id']}/export?format=csv&labels=en"))
    assert rows[0]["country"] == "Germany" and rows[1]["country"] == "France"
    assert rows[0]["channels"] == "Website; Online shop"
    rows = read_csv(manager.get("/api/questionnaires/fob_test/export?format=csv&labels=de"))
    assert rows[0]["country"] == "Deutschland"
    assert manager.get(f"/api/waves/{wave['id']}/export?labels=xx").status_code == 422


def test_xlsx_has_a_data_sheet_and_one_sheet_per_repeat(manager, wave, two_versions):
    resp = manager.get(f"/api/waves/{wave['id']}/export?format=xlsx")
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(resp.streaming_content)), read_only=True)
    assert wb.sheetnames == ["data", "tools"]
    data = list(wb["data"].values)
    header = data[0]
    assert header[:2] == ("instance_id", "version") and "comment" in header
    assert [row[1] for row in data[1:]] == ["1", "1", "2"]
    assert data[1][header.index("employees")] == 12
    tools = list(wb["tools"].values)
    assert tools[0][:3] == ("instance_id", "index", "tool_name")
    assert len(tools) == 1 + 2 + 2


def test_parquet_snapshot_is_typed_and_read_by_the_stats_core(manager, wave, two_versions, tmp_path):
    from digifit.cli.web import snapshot

    out = tmp_path / "wave.parquet"
    result = CliRunner().invoke(snapshot, [str(wave["id"]), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 submissions" in result.output
    table = pq.read_table(out)
    assert table.num_rows == 3
    schema = table.schema
    assert schema.field("employees").type == pa.int64()
    assert schema.field("shop_share").type == pa.float64()
    assert schema.field("country").type == pa.string()
    assert schema.field("channels__shop").type == pa.int64()
    assert schema.field("submitted_at").type == pa.timestamp("us", tz="UTC")
    assert table.column("version").to_pylist() == ["1", "1", "2"]
    assert table.column("channels__marketplace").to_pylist() == [0, 0, 1]
    assert schema.field("big").type == pa.int64()  # a calculation whose values are all whole numbers
    assert table.column("big").to_pylist() == [0, 0, 1]
    assert schema.field("per_third").type == pa.float64()  # numbers, not all whole
    assert table.column("per_third").to_pylist() == pytest.approx([4.0, 4.0, 40 / 3])
    assert schema.field("tag").type == pa.string()
    assert table.column("tag").to_pylist() == ["c-DE", "c-FR", "c-DE"]
    assert table.column("shop_share").to_pylist() == [0.25, None, 0.25]
    # the same through the API
    resp = manager.get(f"/api/waves/{wave['id']}/export?format=parquet")
    assert pq.read_table(io.BytesIO(b"".join(resp.streaming_content))).num_rows == 3

    stats = pytest.importorskip("digifit.stats", reason="the statistics core is not installed")
    if not hasattr(stats, "design"):
        pytest.skip("digifit.stats.design does not exist yet; the Parquet file itself was checked above")
    d = stats.design(str(out))
    est = stats.mean(d, "employees")
    assert est.to_dicts()[0]["estimate"] == pytest.approx((12 + 12 + 40) / 3)


def test_snapshot_and_waves_cli_errors_are_one_line_exit_2(tmp_path, db):
    from digifit.cli.web import snapshot, waves

    result = CliRunner().invoke(snapshot, ["999", "--out", str(tmp_path / "x.parquet")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == ["Error: no wave '999'; 'digifit waves' lists them"]
    result = CliRunner().invoke(waves, ["--create", "nope", "w"])
    assert result.exit_code == 2 and "no questionnaire 'nope'" in result.output


def test_questionnaire_add_cli(tmp_path, db):
    from digifit.cli.web import questionnaire, waves

    path = tmp_path / "form.xlsx"
    path.write_bytes(xlsform_bytes(version="7"))
    result = CliRunner().invoke(questionnaire, ["add", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("fob_test version 7: stored")
    assert "already stored" in CliRunner().invoke(questionnaire, ["add", str(path)]).output
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(xlsform_bytes(version="8", broken=True))
    result = CliRunner().invoke(questionnaire, ["add", str(broken)])
    assert result.exit_code == 2 and "broken.xlsx" in result.output and "row" in result.output
    assert CliRunner().invoke(questionnaire, ["add", str(tmp_path / "missing.xlsx")]).exit_code == 2
    result = CliRunner().invoke(waves, ["--create", "fob_test", "2026-12"])
    assert result.exit_code == 0 and "\tfob_test\t2026-12\topen\t0\t0" in result.output


def test_bundled_questionnaire_loads(db):
    from digifit.demo.questionnaire import QUESTIONNAIRE_PATH
    from digifit.survey.services import questionnaire_version_add

    added = questionnaire_version_add(content=QUESTIONNAIRE_PATH.read_bytes(), filename=QUESTIONNAIRE_PATH.name)
    assert added.created
    schema = added.version.schema
    assert {"de", "en", "fr"} <= set(added.version.languages)
    assert any(f["type"] == "select_multiple" for f in schema["fields"])


def test_calculation_types_from_the_database_match_a_python_scan(wave, two_versions):
    from digifit.survey import exports
    from digifit.survey.models import Wave

    w = Wave.objects.get(pk=wave["id"])
    spec = exports.ExportSpec(questionnaire=w.questionnaire, wave=w)
    names = ["big", "per_third", "tag", "comment"]
    expected = {"big": "integer", "per_third": "decimal", "tag": "text", "comment": "text"}
    assert exports._calculated_types(spec, names) == expected
    assert exports._calculated_types_scan(exports._submissions(spec), names) == expected


FORMULAS = ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\tfoo", "\rfoo"]


def test_formula_answers_are_text_in_csv_and_xlsx_and_numbers_stay_numbers(manager, wave):
    tools = [{"tool_name": payload, "tool_cost": -3} for payload in FORMULAS]
    body = {"form_id": "fob_test", "instance_id": new_id(), "wave_id": wave["id"], "data": answers(tools=tools)}
    assert manager.post("/api/submissions", body).status_code == 201
    rows = read_csv(manager.get(f"/api/waves/{wave['id']}/export?format=csv&repeat=tools"))
    assert [r["tool_name"] for r in rows] == ["'" + p for p in FORMULAS]
    assert {r["tool_cost"] for r in rows} == {"-3"}  # a negative number is a number, not a formula
    resp = manager.get(f"/api/waves/{wave['id']}/export?format=xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(resp.streaming_content)))["tools"]
    header = [c.value for c in sheet[1]]
    name_col, cost_col = header.index("tool_name"), header.index("tool_cost")
    cells = list(sheet.iter_rows(min_row=2))
    # (XML reads a stored CR back as LF; what counts is the leading quote)
    assert [r[name_col].value for r in cells] == ["'" + p.replace("\r", "\n") for p in FORMULAS]
    assert all(r[name_col].data_type == "s" for r in cells)  # a string, never a formula cell
    assert all(r[cost_col].data_type == "n" and r[cost_col].value == -3 for r in cells)
