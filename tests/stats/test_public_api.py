"""The curated public surface of digifit.stats, and its independence from the web stack."""

from __future__ import annotations

import subprocess
import sys
import types

import digifit.stats


def test_all_lists_exactly_the_public_names():
    public = {
        name
        for name, value in vars(digifit.stats).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(digifit.stats.__all__) == public


def test_stats_does_not_import_django_or_click():
    code = "import digifit.stats, sys; assert 'django' not in sys.modules and 'click' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_errors_have_two_bases():
    assert issubclass(digifit.stats.DesignError, ValueError)
    assert issubclass(digifit.stats.DesignError, digifit.stats.DigifitError)
    assert issubclass(digifit.stats.LonelyPSUError, digifit.stats.DesignError)
