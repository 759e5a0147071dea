"""Free energies at another temperature (energy.thermal): the shift formula against ASE's ideal-gas
thermochemistry, the exact parts against textbook values, the graph features, and the wiring into
path queries."""

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from sei_net.chem.species import Species
from sei_net.constants import BOLTZMANN_EV
from sei_net.energy.thermal import (ThermalModel, free_energy_shift, heat_capacity, thermal_features,
                                    translational_entropy)

J_PER_MOL_K_PER_EV_K = 96485.332


def _ase_thermo(species, frequencies_cm):
    from ase.thermochemistry import IdealGasThermo

    atoms = species.to_ase()
    vib = np.maximum(np.asarray(frequencies_cm), 100.0) * 1.239841984e-4
    return IdealGasThermo(vib_energies=vib, geometry="nonlinear", potentialenergy=0.0, atoms=atoms,
                          symmetrynumber=1, spin=(species.multiplicity - 1) / 2)


@pytest.mark.parametrize("T", [253.15, 333.15, 373.15])
def test_shift_matches_ase_ideal_gas_thermochemistry(T):
    """G(T) - G(298.15 K) at 1 mol/L from S and Cp at 298.15 K against ASE recomputing G at T from
    the same frequencies (quasi-RRHO at 100 cm-1, as the oracle does)."""
    ec = Species.from_smiles("O=C1OCCO1")
    rng = np.random.default_rng(0)
    freqs = np.sort(rng.uniform(60.0, 3100.0, 3 * ec.n_atoms - 6))
    thermo = _ase_thermo(ec, freqs)

    def g(temp):  # the oracle's G: ideal gas at 1 atm moved to 1 mol/L (energy.thermo)
        return (thermo.get_gibbs_energy(temp, 101325.0, verbose=False)
                + BOLTZMANN_EV * temp * np.log(24.46 * temp / 298.15))

    S = thermo.get_entropy(298.15, 101325.0, verbose=False)
    cp = heat_capacity(freqs, "nonlinear")
    dH = (thermo.get_enthalpy(298.65, verbose=False) - thermo.get_enthalpy(297.65, verbose=False)) / 1.0
    assert cp == pytest.approx(dH, rel=1e-4)  # Cp agrees with ASE's enthalpy derivative
    exact = g(T) - g(298.15)
    assert abs(exact) > 0.05  # a shift worth making: tens to hundreds of meV
    assert free_energy_shift(S, cp, T) == pytest.approx(exact, abs=1e-3)
    first_order = -S * (T - 298.15) + BOLTZMANN_EV * (T * np.log(24.46 * T / 298.15) - 298.15 * np.log(24.46))
    assert abs(first_order - exact) > abs(free_energy_shift(S, cp, T) - exact)  # Cp term is needed
    assert free_energy_shift(S, cp, 298.15) == 0.0


def test_translational_entropy_is_the_sackur_tetrode_value_of_argon():
    # NIST: S(Ar, gas, 298.15 K, 1 bar) = 154.85 J/(mol K); at 1 atm R ln(1.01325) lower
    s = translational_entropy(39.948, 298.15, 1e5) * J_PER_MOL_K_PER_EV_K
    assert s == pytest.approx(154.85, abs=0.05)
    assert translational_entropy(39.948, 298.15, 101325.0) < translational_entropy(39.948, 298.15, 1e5)


def test_graph_features_count_rings_rotors_and_coordination():
    names = ("polyatomic", "ln_mass", "atoms", "rotatable", "ring", "coordination")
    ec = dict(zip(names, thermal_features(Species.from_smiles("O=C1OCCO1"))))
    assert (ec["ring"], ec["rotatable"], ec["coordination"], ec["atoms"]) == (5, 0, 0, 10)
    dmc = dict(zip(names, thermal_features(Species.from_smiles("COC(=O)OC"))))
    assert (dmc["ring"], dmc["rotatable"]) == (0, 4)  # CH3-O, O-C, C-O, O-CH3; not C=O (O has no other bond)
    assert not thermal_features(Species.from_smiles("[Li+]")).any()  # an atom: exact parts only
    with pytest.raises(ValueError, match="element.*Si.*valid: H, C, O, F, Li, P"):
        thermal_features(Species.from_smiles("[SiH4]"))


def test_shipped_model_reproduces_oracle_entropies_of_the_recipe_solvents():
    model = ThermalModel.load()
    wanted = {Species.from_smiles(x).key: Species.from_smiles(x)
              for x in ("O=C1OCCO1", "COC(=O)OC", "O=C1OC=CO1", "O=C1OCC(F)O1")}
    found = {}
    for path in sorted((Path(__file__).resolve().parents[1] / "data" / "labels").glob("gfn2_*.jsonl.gz")):
        for d in map(json.loads, gzip.open(path, "rt")):
            if d["key"] in wanted and d["status"] == "ok":
                found[d["key"]] = d["data"]["entropy"]
        if len(found) == len(wanted):
            break
    assert len(found) == len(wanted)
    S, _ = model.predict([wanted[k] for k in found])
    # what matters is the error carried into G: under 10 meV from 25 to 60 C (the surrogate's
    # species error is 120 meV), i.e. S within 0.29 meV/K of the oracle's
    assert np.abs(S - np.array(list(found.values()))).max() * 35.0 < 0.010
    assert model.measured["random_fifth_held_out"]["S_relative_MAE"] < 0.05


def test_fragmentation_gets_more_favourable_when_hot_and_queries_agree(tmp_path):
    """A -> B + C gains entropy, so its dG falls with T; PathQuery at T shifts every species G by
    the model's shift and nothing else (a fresh query and .at agree)."""
    from sei_net.chem.reaction import Reaction
    from sei_net.kinetics.query import PathQuery, species_thermal
    from sei_net.store.db import NetworkStore

    a, b, c = (Species.from_smiles(x) for x in ("CC[O]", "[CH3]", "C=O"))
    with NetworkStore.create(tmp_path / "n.db") as store:
        ids = store.add_species([a, b, c])
        store.add_reactions([Reaction([a], [b, c], kind="fragmentation")])
        store.set_energies([{"species_id": i, "source": "test", "level_of_theory": "L", "G": g,
                             "temperature": 298.15} for i, g in zip(ids, (-10.0, -6.0, -3.8))])
        cold = PathQuery.prepare(store, temperature=298.15, potential=0.0)
        hot = PathQuery.prepare(store, temperature=353.15, potential=0.0)
        again = cold.at(0.0, 353.15)
        r = int(np.flatnonzero(np.isfinite(cold.scores.dG) & (cold.scores.dG > 0))[0])  # A -> B + C
        S, cp = species_thermal(store.all_species(), cold.graph.n_species)
        shift = free_energy_shift(S, cp, 353.15)
        assert cold.scores.dG[r] == pytest.approx(0.2)
        expected = 0.2 + shift[ids[1]] + shift[ids[2]] - shift[ids[0]]
        assert hot.scores.dG[r] == pytest.approx(expected, abs=1e-9)
        assert hot.scores.dG[r] < cold.scores.dG[r] - 0.03  # about T dS: ~0.05 eV over 55 K
        assert np.array_equal(again.scores.dG, hot.scores.dG, equal_nan=True)
        assert "carried to 353.15 K" in hot.describe()["free_energies"]
