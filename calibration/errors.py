"""The exceptions calibration raises when the wearer has to repeat (or continue) a step."""


class CalibrationRejected(ValueError):
    """A calibration recording that cannot be used; the message says why and what to do."""


class DirectionUnclear(CalibrationRejected):
    """The forward axis is known but not which way along it is forward (yet: more steps may tell).
    `axis` is that axis (sensor frame, either sign), for whatever else can tell (a hip hinge)."""

    def __init__(self, message: str, axis=None, decision=None, up=None):
        super().__init__(message)
        self.axis = axis
        self.decision = decision  # the cues and why they did not decide (calibration.forward_sign.DirectionDecision)
        self.up = up  # the vertical the axis was levelled against (sensor frame), for an alignment that withholds
        self.neutral_from = "stand"  # what that vertical came from ("stand" or "first bout")
