"""Named SEI species from the literature, as SMILES (Li bonds are coordination bonds).

Used to label networks and to report which known SEI products a network contains. Sources: the
EC-reduction mechanisms of Spotte-Smith et al. (ACS Energy Lett. 2022; JACS 2023), Xie et al.
(JACS 2021), and the mrnet/RNMC species sets in ../shared/data.
"""

from __future__ import annotations

KNOWN_SEI_SPECIES: dict[str, str] = {
    "EC": "O=C1OCCO1",
    "Li+": "[Li+]",
    "PF6-": "F[P-](F)(F)(F)(F)F",
    "LiEC_RO": "[Li]OC(=O)OC[CH2]",
    "LEDC": "[Li]OC(=O)OCCOC(=O)O[Li]",
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
}


def known_species_keys() -> dict[str, str]:
    """Canonical species key -> name for KNOWN_SEI_SPECIES."""
    from sei_net.chem.species import Species

    return {Species.from_smiles(smiles).key: name for name, smiles in KNOWN_SEI_SPECIES.items()}
