"""Species outside an oracle's domain: free energies that are known to be wrong by far more than the
oracle's usual error, so that reactions with them would be driven by an artefact.

Their energies (from the oracle, or from a surrogate trained on it) are treated as missing by the
consumers of reaction free energies (paths, products, kinetics, growth): reactions with them are
left out, and the query's settings list them with the reason. The numbers behind each entry are in
docs/energy.md ("Outside the oracle's domain") and are re-measured by tests/test_energy_domain.py.
"""

from __future__ import annotations

from functools import lru_cache

from sei_net.constants import oracle_of

#: oracle -> SMILES -> reason (one line, with the measured numbers)
OUTSIDE_DOMAIN: dict[str, dict[str, str]] = {
    "gfn2": {
        "[H-]": ("GFN2-xTB overbinds the hydride: gas-phase electron affinity of H 5.91 eV vs 0.754 eV "
                 "measured, 0.6 eV beyond the systematic shift that the 4.52 eV difference of electron "
                 "constants absorbs for molecules (F: 4.50 eV, within it), and GBE(eps=18.5) solvates "
                 "H- by -5.24 eV, more than F- (-3.96 eV) although H- is the larger, softer anion; "
                 "together H + e- -> H- comes out ~2-3 eV too downhill and every hydride elimination "
                 "with it"),
    },
}


@lru_cache(maxsize=None)
def _keys(oracle: str) -> dict[str, tuple[str, str]]:
    from sei_net.chem.species import Species
    return {Species.from_smiles(smiles).key: (smiles, reason)
            for smiles, reason in OUTSIDE_DOMAIN.get(oracle, {}).items()}


def outside_domain(source: str) -> dict[str, tuple[str, str]]:
    """Species key -> (SMILES, reason) for the species whose energies from ``source`` (an oracle,
    or a surrogate trained on one) are not to be used."""
    return _keys(oracle_of(source))
