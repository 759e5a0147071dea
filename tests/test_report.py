"""Report pieces: free-energy levels along a path (the page itself is checked in test_cli)."""

import numpy as np
import pytest

from sei_net.report.figures import path_levels


def test_path_levels_sum_to_the_path_dG_and_barriers_sit_above_both_ends():
    steps = [{"dG": -0.3, "barrier": 0.0, "times": 2}, {"dG": 0.4, "barrier": 0.5, "times": 1},
             {"dG": -1.2, "barrier": 0.1, "times": 1}]
    levels, peaks = path_levels(steps)
    assert len(levels) == 5 and len(peaks) == 4                  # a step taken twice counts twice
    assert levels[0] == 0 and levels[-1] == pytest.approx(sum(s["dG"] * s["times"] for s in steps))
    assert np.all(peaks >= np.maximum(levels[:-1], levels[1:]) - 1e-12)
    assert peaks[2] == pytest.approx(levels[2] + 0.5)             # uphill step: peak = start + barrier
