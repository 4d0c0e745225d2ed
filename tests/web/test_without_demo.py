"""Deleting ``digifit/demo/`` leaves the product working on an organisation's own data (issue 21).

A fresh interpreter gets a ``sys.meta_path`` finder that refuses ``digifit.demo`` — as if the folder were deleted —
before anything of digifit is imported. In it: Django's system check, migrations, the main pages (with an
organisation's own questionnaire, a wave and margins uploaded on the margins page), and the CLI's ``report`` and
``estimate`` on a snapshot. The parent test only prepares files (it may use the demo to make them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BOOTSTRAP = r"""
import importlib.abc, sys

class _DemoDeleted(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "digifit.demo" or name.startswith("digifit.demo."):
            raise ImportError(f"{name}: the demo is deleted in this test")
        return None

sys.meta_path.insert(0, _DemoDeleted())
"""

PRODUCT = r"""
import json, sys
args = json.loads(sys.argv[1])
out = {}
try:
    import digifit.demo
except ImportError:
    out["demo_importable"] = False
else:
    out["demo_importable"] = True

import django
django.setup()
from django.test.utils import setup_test_environment
setup_test_environment()  # the test client's host, outgoing mail kept in memory
from django.core.management import call_command
call_command("check", verbosity=0)
call_command("migrate", verbosity=0, interactive=False)

from django.contrib.auth import get_user_model
from django.test import Client
from django.core.files.uploadedfile import SimpleUploadedFile
from digifit.survey import services as survey_services
from digifit.survey.models import Questionnaire

admin = get_user_model().objects.create_superuser("admin", "admin@example.org", "pw-admin-1")
added = survey_services.questionnaire_version_add(content=open(args["form"], "rb").read(), filename="own.xlsx")
wave = survey_services.wave_create(questionnaire=added.version.questionnaire, name="2027-1", status="open")
c = Client(HTTP_ACCEPT_LANGUAGE="de")
c.force_login(admin)
pages = {}
for url in ("/", "/surveys/", "/dashboard/", "/analysis/", "/reports/", "/reports/margins/", "/check/", "/programme/"):
    pages[url] = c.get(url).status_code
before = c.get("/dashboard/?wave=%d" % wave.pk)
pages["dashboard_no_margins"] = before.status_code
r = c.post("/reports/margins/", {"wave": wave.pk, "source": "Landesamt 2026",
                                 "file": SimpleUploadedFile("m.csv", open(args["margins"], "rb").read())})
pages["margins_upload"] = r.status_code
out["pages"] = pages
out["margins_version"] = wave.margins_versions.get().version

from click.testing import CliRunner
from digifit.cli import main
runner = CliRunner()
r = runner.invoke(main, ["report", args["snapshot"], "--margins", args["margins"], "--form", args["form"],
                         "--lang", "en", "--out", args["report"]])
out["report"] = [r.exit_code, r.output[-500:]]
r = runner.invoke(main, ["estimate", args["snapshot"], "--mean", "digital25", "--json"])
out["estimate"] = [r.exit_code, r.output[-500:]]
r = runner.invoke(main, ["demo", "--help"])
out["demo_help"] = r.exit_code
out["demo_loaded"] = any(m == "digifit.demo" or m.startswith("digifit.demo.") for m in sys.modules)
print("RESULT " + json.dumps(out))
"""


@pytest.mark.slow
def test_the_product_works_with_the_demo_deleted(tmp_path):
    from digifit.demo.questionnaire import QUESTIONNAIRE_PATH
    from digifit.demo.waves import margins_csv_bytes, waves_write

    snapshot = waves_write(tmp_path / "own.parquet", n=2000, seed=5, n_waves=1)
    margins = tmp_path / "margins.csv"
    margins.write_bytes(margins_csv_bytes())
    form = tmp_path / "own.xlsx"  # the organisation's own questionnaire (a copy of a file, no import of the demo)
    form.write_bytes(QUESTIONNAIRE_PATH.read_bytes())
    args = {"form": str(form), "margins": str(margins), "snapshot": str(snapshot), "report": str(tmp_path / "r.html")}
    src = Path(__file__).resolve().parents[2] / "src"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PYTHONPATH")}
    env.update(
        PYTHONPATH=str(src), DJANGO_SETTINGS_MODULE="digifit.web.settings", DIGIFIT_DATA_DIR=str(tmp_path / "data")
    )
    proc = subprocess.run(
        [sys.executable, "-c", BOOTSTRAP + PRODUCT, json.dumps(args)],
        capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    out = json.loads(lines[-1][len("RESULT ") :])
    assert out["demo_importable"] is False
    assert all(status < 500 for status in out["pages"].values()), out["pages"]
    assert out["pages"]["/dashboard/"] == 200 and out["pages"]["dashboard_no_margins"] == 200
    assert out["pages"]["margins_upload"] == 302 and out["margins_version"] == 1
    assert out["report"][0] == 0, out["report"]
    html = Path(args["report"]).read_text(encoding="utf-8")
    assert "Germany" in html and "margins.csv" in html
    assert out["estimate"][0] == 0 and "digital25" in out["estimate"][1], out["estimate"]
    assert out["demo_help"] == 0  # the command is listed; only running it needs the demo
    assert out["demo_loaded"] is False
