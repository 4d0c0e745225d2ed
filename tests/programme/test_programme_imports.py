"""The programme core is plain Python: no Django, no Ibis, no click."""

from __future__ import annotations

import subprocess
import sys


def test_programme_core_imports_no_django_ibis_or_click():
    code = (
        "import sys, digifit.programme.recurrence, digifit.programme.calendar, digifit.programme.reach; "
        "heavy = sorted(m for m in ('django', 'ibis', 'click') if m in sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
