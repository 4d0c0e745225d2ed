"""The Digital-Check: a business's digital maturity, benchmarked against weighted peers, with a learning path.

Django-free modules: :mod:`~digifit.assessment.scoring` (answers → scores, versioned rules),
:mod:`~digifit.assessment.benchmark` (peer estimates through :mod:`digifit.stats`),
:mod:`~digifit.assessment.learning_path` (dimension → trainings and sessions) and
:mod:`~digifit.assessment.charts` (server-side SVG). The Django app (models, services, selectors, views) stores
results behind private links and feeds the programme.
"""
