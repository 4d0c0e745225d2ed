"""The statistics errors; they live in :mod:`digifit.errors` so that light modules can raise them too."""

from digifit.errors import CalibrationError, DesignError, DigifitError, EstimationError, LonelyPSUError

__all__ = ["CalibrationError", "DesignError", "DigifitError", "EstimationError", "LonelyPSUError"]
