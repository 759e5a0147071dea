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


def test_the_barrier_note_names_the_model_domain_and_its_cross_validated_error_against_bep():
    from sei_net.report.html import _barrier_note

    assert "BEP estimates" in _barrier_note(None)
    note = _barrier_note({"reactions": 120, "level_of_theory": "barrier surrogate on CI-NEB", "domain_classes":
                          ["fragmentation"], "model_test_metrics_eV": {"model": {"n": 9, "mae": 0.08}},
                          "cross_validation_mae_eV": {"fragmentation": {"n": 592, "model": 0.087,
                                                                         "bep_fitted": 0.115}}})
    assert "120 reactions (classes fragmentation)" in note
    assert "class fragmentation (n=592): model MAE 0.087 eV, BEP fitted on the same folds 0.115 eV" in note
    assert "MAE 0.08 eV (n=9)" in note and "Other barriers are the model defaults" in note


def test_the_energy_note_says_which_species_lie_outside_the_surrogates_domain():
    from sei_net.report.html import _scored_note

    plain = {"scored": 100, "oracle_labels_kept": 60, "no_minimum_unscored": 0}
    assert "domain" not in _scored_note(plain)
    note = _scored_note({**plain, "outside_domain": {"usable": 4}, "domain": {"outside": 7, "predicted": 40}})
    assert "60 their oracle label, 40 predicted" in note
    assert "The oracle labelled 4 species outside" in note and "7 predicted species are outside" in note
