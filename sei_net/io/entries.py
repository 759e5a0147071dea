"""Reading mrnet MoleculeEntry / LIBE / RNMC mol-entry JSON: species and DFT free energies.

Free energy (eV) follows mrnet's formula: G = 27.21139 E + 0.0433641 H - T S 4.33641e-5 with E the
electronic energy (Hartree), H the enthalpy (kcal/mol), S the entropy (cal/(mol K)) and T in K.
"""

from __future__ import annotations

import json
from pathlib import Path

#: the rounded factors of pymatgen's MoleculeEntry (mrnet), kept so that free energies computed from
#: the reference entries match the published networks' to the last digit (CODATA 2018 Hartree:
#: ``sei_net.constants.HARTREE_EV``, 1.4e-7 relative away)
HARTREE_TO_EV = 27.21139
KCAL_PER_MOL_TO_EV = 0.0433641
CAL_PER_MOL_K_TO_EV_PER_K = 4.33641e-5


def load_entries(path: str | Path) -> list[dict]:
    """Entries from a JSON file holding a list of entry dicts, one entry dict, or {"entries": [...]}."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"entries file {str(path)!r} does not exist")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{str(path)!r} is not JSON ({err.__class__.__name__}); give a mrnet/LIBE "
                         "MoleculeEntry JSON file") from None
    if isinstance(data, dict) and "entries" in data:
        data = data["entries"]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data) or not data:
        raise ValueError(f"{str(path)!r} holds no MoleculeEntry dicts (expected a JSON list of them)")
    return data


def entry_thermo(entry: dict) -> tuple[float, float | None, float | None]:
    """(E in Hartree, H in kcal/mol, S in cal/(mol K)) of a mrnet/RNMC entry or a LIBE document."""
    if "thermo" in entry and "raw" in entry["thermo"]:
        raw = entry["thermo"]["raw"]
        return (raw["electronic_energy_Ha"], raw.get("total_enthalpy_kcal/mol"),
                raw.get("total_entropy_cal/molK"))
    if "energy" not in entry:
        raise ValueError(f"entry {entry.get('entry_id') or entry.get('name')!r} has no energy")
    return entry["energy"], entry.get("enthalpy"), entry.get("entropy")


def free_energy_ev(energy_ha: float, enthalpy_kcal: float | None, entropy_cal: float | None,
                   temperature: float) -> float:
    """mrnet's free energy in eV at ``temperature`` (K); electronic energy only when H/S missing."""
    g = HARTREE_TO_EV * energy_ha
    if enthalpy_kcal is not None and entropy_cal is not None:
        g += KCAL_PER_MOL_TO_EV * enthalpy_kcal - temperature * entropy_cal * CAL_PER_MOL_K_TO_EV_PER_K
    return g
