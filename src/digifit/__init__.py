"""digifit: run an SME digitalisation programme end to end.

The statistics core lives in :mod:`digifit.stats` and has no web dependencies.
"""

__version__ = "0.1.0"
