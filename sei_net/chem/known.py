"""Named SEI species from the literature, as SMILES (Li bonds are coordination bonds).

Used to label networks and to report which known SEI products a network contains. Sources: the
EC-reduction mechanisms of Spotte-Smith et al. (ACS Energy Lett. 2022; JACS 2023), Xie et al.
(JACS 2021), and the mrnet/RNMC species sets in ../shared/data; the DMC reduction products lithium
methyl carbonate and lithium methoxide from K. Xu's review (Chem. Rev. 104, 4303 (2004)). The solvents
and additives of the shipped recipes are named too, so that a network that makes one (VC from FEC)
says so.
"""

from __future__ import annotations

import functools

KNOWN_SEI_SPECIES: dict[str, str] = {
    "EC": "O=C1OCCO1",
    "Li+": "[Li+]",
    "PF6-": "F[P-](F)(F)(F)(F)F",
    "LiEC_RO": "[Li]OC(=O)OC[CH2]",
    "LEDC": "[Li]OC(=O)OCCOC(=O)O[Li]",
    "EDC 2-": "[O-]C(=O)OCCOC(=O)[O-]",       # LEDC's dianion, where no Li+ is left to pair with it
    "LEMC": "OCCOC(=O)O[Li]",
    "Li2CO3": "[Li]OC(=O)O[Li]",
    "CO3 2-": "[O-]C(=O)[O-]",
    "LiF": "[Li]F",
    "Li2O": "[Li]O[Li]",
    "LiOH": "[Li]O",
    "C2H4": "C=C",
    "CO": "[C-]#[O+]",
    "CO2": "O=C=O",
    "H2": "[H][H]",
    "PF5": "FP(F)(F)(F)F",
    "Li oxalate": "[Li]OC(=O)C(=O)O[Li]",
    "LMC": "COC(=O)O[Li]",                      # lithium methyl carbonate (DMC reduction)
    "LiOCH3": "CO[Li]",                         # lithium methoxide (DMC reduction)
    "DMC": "COC(=O)OC",
    "FEC": "O=C1OCC(F)O1",
    "VC": "O=C1OC=CO1",
}


@functools.cache
def known_species_keys() -> dict[str, str]:
    """Canonical species key -> name for KNOWN_SEI_SPECIES (built once; do not modify)."""
    from sei_net.chem.species import Species

    return {Species.from_smiles(smiles).key: name for name, smiles in KNOWN_SEI_SPECIES.items()}


def species_label(species) -> str:
    """How reports name a species: its stored name, else its known SEI name, else its SMILES."""
    return species.name or known_species_keys().get(species.key) or species.smiles


def species_labels(species: dict, n_species: int) -> list[str]:
    """``species_label`` per species index 0..n_species-1 (``species``: index -> Species); an index
    without a species (store ids start at 1) is labelled 'species N'."""
    return [species_label(species[i]) if i in species else f"species {i}" for i in range(n_species)]
