"""Demo material: the seeded synthetic survey sample (and, later, the bundled questionnaire and catalogue).

Needs only numpy and pyarrow; never imports Django.
"""

from __future__ import annotations

from digifit.demo.synthetic import stratified_cluster_sample

__all__ = ["stratified_cluster_sample"]
