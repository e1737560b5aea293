"""JSON for NumPy values: the `default=` hook every file and database writer here uses."""
from __future__ import annotations

import numpy as np


def numpy_default(x):
    """json.dumps(..., default=numpy_default): NumPy scalars and arrays as plain numbers and lists."""
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"{type(x).__name__} is not JSON serialisable")
