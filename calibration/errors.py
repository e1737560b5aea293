"""The one exception calibration raises when the wearer has to repeat a step."""


class CalibrationRejected(ValueError):
    """A calibration recording that cannot be used; the message says why and what to do."""
