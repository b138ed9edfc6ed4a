"""Module data and a helper read as attributes of this module (``user_config.SCALE``,
``user_config.shift(x)``) by tests/user_functions.py: see
test_module_data_changed_at_run_time_reaches_every_backend."""

from __future__ import annotations

import numpy as np

SCALE = 1.0
OFFSET = np.zeros(3)


def shift(x):
    return (x - OFFSET) * SCALE
