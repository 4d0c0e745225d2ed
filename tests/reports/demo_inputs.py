"""What the report tests weight and label the demo waves with: the demo's margins and its questionnaire's labels.

The product has no default margins or labels (they are the analyst's data and the reported questionnaire
version's); these tests pass the demo's, as ``digifit report --margins … --form …`` does.
"""

from __future__ import annotations

from digifit.demo.questionnaire import load_questionnaire
from digifit.demo.waves import MARGINS_DIR
from digifit.reports.locale import labels_from_form

DEMO = {"margins_dir": MARGINS_DIR, "labels": labels_from_form(load_questionnaire())}
