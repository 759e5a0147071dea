"""Import mrnet MoleculeEntry / LIBE JSON into a network store (species with DFT free energies)."""

from __future__ import annotations

from pathlib import Path

from sei_net.chem.species import Species
from sei_net.io.entries import HARTREE_TO_EV, entry_thermo, free_energy_ev, load_entries
from sei_net.store import NetworkStore

#: Level of theory recorded for imported entries. mrnet's test entries do not carry it; LIBE's
#: paper (Spotte-Smith et al., Sci. Data 2021) gives wB97X-V/def2-TZVPPD/SMD.
MRNET_LEVEL = "DFT (mrnet MoleculeEntry set, as published)"
LIBE_LEVEL = "DFT wB97X-V/def2-TZVPPD/SMD (LIBE)"


def import_mrnet(entries_path: str | Path, out: str | Path, temperature: float = 298.15,
                 overwrite: bool = False, source: str = "mrnet", reactions: bool = False) -> NetworkStore:
    """Create ``out`` from a mrnet/LIBE entries JSON: one species per entry, named by its entry_id
    (or molecule_id), with its free energy at ``temperature`` (K) stored as source ``source``.
    Two entries with the same graph, charge and multiplicity are one species (the first name wins;
    the lower free energy is kept, as the more stable conformer). With ``reactions``, also store
    mrnet's reactions among the entries (``generate.fixed_set``: redox, one bond, coordination and
    concerted steps, both directions)."""
    entries = load_entries(entries_path)
    parsed = []
    for entry in entries:
        sp = Species.from_entry(entry)
        e_ha, h, s = entry_thermo(entry)
        g = free_energy_ev(e_ha, h, s, temperature)
        level = LIBE_LEVEL if "molecule_id" in entry else MRNET_LEVEL
        parsed.append((sp, g, e_ha, h, s, level))
    store = NetworkStore.create(out, overwrite=overwrite, name=Path(entries_path).stem)
    prov = store.provenance_id("importer", "mrnet", {"file": Path(entries_path).name})
    with store.transaction():
        ids = store.add_species([p[0] for p in parsed], provenance=prov)
        best: dict[int, dict] = {}
        for sid, (sp, g, e_ha, h, s, level) in zip(ids, parsed):
            if sid in best and best[sid]["G"] <= g:
                continue
            best[sid] = {
                "species_id": sid, "source": source, "level_of_theory": level, "G": g,
                "E": e_ha * HARTREE_TO_EV, "temperature": temperature,
                "data": {"entry": sp.name, "E_hartree": e_ha, "H_kcal_per_mol": h,
                         "S_cal_per_mol_K": s},
            }
        store.set_energies(best.values())
        store.set_meta({"imported_from": str(Path(entries_path).name), "temperature": temperature})
    if reactions:
        from sei_net.generate.fixed_set import RULE, close_species_set

        species = store.all_species()
        G = {species[sid].key: row["G"] for sid, row in best.items()}
        store.add_reactions(close_species_set(species.values(), G),
                            provenance=store.provenance_id("rule", RULE, "mrnet ReactionIterator scheme"))
    return store
