"""digifit.stats: design-based survey estimates, equal to R's ``survey``, computed inside the engine.

>>> import pyarrow as pa
>>> from digifit import stats
>>> d = stats.design(pa.table({"y": [1.0, 2.0, 3.0, 4.0]}))
>>> round(stats.mean(d, "y")[0].estimate, 2)
2.5

The design (:func:`design`) is validated once; estimators (:func:`mean`, :func:`total`, :func:`proportion`,
:func:`ratio`, :func:`quantile`) return :class:`Estimates`. This package never imports Django.
"""

from digifit.errors import CalibrationError, DesignError, DigifitError, EstimationError, LonelyPSUError
from digifit.stats.backends import to_source
from digifit.stats.calibration import calibrate, poststratify, rake, trim_weights
from digifit.stats.design import LONELY_PSU_POLICIES, Design, design
from digifit.stats.estimators import mean, proportion, quantile, ratio, total
from digifit.stats.glm import Coefficient, GLMResult, glm
from digifit.stats.intervals import CI_METHODS, PROPORTION_METHODS, confint
from digifit.stats.replicates import as_replicate
from digifit.stats.result import Estimate, Estimates
from digifit.stats.sparse import Collapse

__all__ = [
    "CI_METHODS",
    "LONELY_PSU_POLICIES",
    "PROPORTION_METHODS",
    "CalibrationError",
    "Coefficient",
    "Collapse",
    "Design",
    "DesignError",
    "DigifitError",
    "Estimate",
    "Estimates",
    "EstimationError",
    "GLMResult",
    "LonelyPSUError",
    "as_replicate",
    "calibrate",
    "confint",
    "design",
    "glm",
    "mean",
    "poststratify",
    "proportion",
    "quantile",
    "rake",
    "ratio",
    "to_source",
    "total",
    "trim_weights",
]
