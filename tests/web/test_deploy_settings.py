"""Production defaults: DEBUG off by default, `check --deploy` clean with the documented production environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _run(env_extra: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGIFIT_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.update({"PYTHONPATH": SRC, "DJANGO_SETTINGS_MODULE": "digifit.web.settings", **env_extra})
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=120)


def test_debug_is_off_by_default(tmp_path):
    out = _run(
        {"DIGIFIT_DATA_DIR": str(tmp_path)},
        "-c",
        "import django; django.setup(); "
        "from django.conf import settings; print(settings.DEBUG, settings.ALLOWED_HOSTS)",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == "False"
    assert "*" not in out.stdout


def test_check_deploy_gives_no_warnings_with_the_production_environment(tmp_path):
    production = {
        "DIGIFIT_DATA_DIR": str(tmp_path),
        "DIGIFIT_HTTPS": "1",
        "DIGIFIT_SECRET_KEY": "k" * 20 + "-Xq9!zT4#pL0@vW8&mR2*bN6$cY1%hJ5^sD3",
        "DIGIFIT_ALLOWED_HOSTS": "digifit.example.org",
    }
    out = _run(production, "-m", "django", "check", "--deploy", "--fail-level", "WARNING")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "System check identified no issues" in out.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    out = _run({"DIGIFIT_DATA_DIR": str(tmp_path), "DIGIFIT_HTTPS": "1"}, "-m", "django", "check")
    assert out.returncode != 0
    assert "DIGIFIT_SECRET_KEY" in out.stderr
    assert "Traceback" not in out.stderr
