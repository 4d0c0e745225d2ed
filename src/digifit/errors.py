"""The digifit exception tree.

::

    DigifitError
     ├── DesignError(ValueError)         the survey design or its data are unusable
     │    └── LonelyPSUError             a stratum has one PSU under lonely_psu="fail"
     ├── EstimationError(ValueError)     an estimate cannot be computed (empty domain, missing values, ...)
     └── CalibrationError(ValueError)    weighting did not converge or margins are inconsistent

Every error can be caught as ``DigifitError`` or as the builtin it derives from.
"""

from __future__ import annotations


class DigifitError(Exception):
    """Base class of every error digifit raises on purpose."""


class DesignError(ValueError, DigifitError):
    """The survey design or the data it points at are unusable."""


class LonelyPSUError(DesignError):
    """A stratum has only one PSU and the lonely-PSU policy is ``"fail"``."""


class EstimationError(ValueError, DigifitError):
    """An estimate cannot be computed from the data (empty domain, missing values, bad option)."""


class CalibrationError(ValueError, DigifitError):
    """Weighting failed: inconsistent margins, unknown levels or no convergence."""
