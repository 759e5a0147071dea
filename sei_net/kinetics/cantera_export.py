"""Export a mechanism to Cantera YAML, so that Cantera integrates the same mass-action kinetics.

The phase is an ideal gas held isothermal at constant volume by the caller (IdealGasReactor with
energy='off'); with concentrations in kmol/m^3 (= mol/L) and rate constants in m^3/kmol/s (= L/mol/s),
Cantera's rate of progress k prod [X]^nu is the one of kinetics.mechanism. Every reaction is written
irreversible (the network lists reverse reactions separately). Species carry their element
composition only: charges and electrode electrons are left out (electrode steps are pseudo-first
order in sei_net), so Cantera balances elements, not charge. Species thermo is a placeholder
(constant cp) that no isothermal constant-volume result depends on.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from sei_net.kinetics.mechanism import Mechanism


def cantera_name(s: int) -> str:
    """Cantera species name of species index ``s`` (names must be plain tokens)."""
    return f"S{s}"


def _side(pairs) -> str:
    return " + ".join(cantera_name(s) if c == 1 else f"{c} {cantera_name(s)}" for s, c in pairs)


def cantera_yaml(mech: Mechanism, species: dict, temperature: float = 298.15) -> str:
    """The mechanism as Cantera YAML text. ``species`` maps species index -> ``Species`` (for element
    compositions); only species that take part in a reaction are written."""
    g = mech.graph
    used = sorted(set(g.r_species.tolist()) | set(g.p_species.tolist()))
    elements = sorted({el for s in used for el in species[s].elements})
    sp_docs = []
    for s in used:
        sp_docs.append({"name": cantera_name(s), "composition": dict(species[s].composition),
                        "thermo": {"model": "constant-cp", "T0": temperature, "h0": 0.0, "s0": 0.0,
                                   "cp0": 1.0e4},
                        "note": f"{mech.names[s]} ({species[s].smiles}, charge {species[s].charge})"})
    rx_docs, seen = [], {}
    for j in range(g.n_reactions):
        if g.r_ptr[j] == g.r_ptr[j + 1] or g.p_ptr[j] == g.p_ptr[j + 1]:
            raise ValueError(f"reaction {int(g.reaction_id[j])} has no reactant or no product species; "
                             "Cantera needs both sides")
        eq = f"{_side(g.reactants(j))} => {_side(g.products(j))}"
        doc = {"equation": eq, "rate-constant": {"A": float(mech.rate[j]), "b": 0.0, "Ea": 0.0},
               "id": f"sei_net-{int(g.reaction_id[j])}"}
        if eq in seen:
            doc["duplicate"] = True
            rx_docs[seen[eq]]["duplicate"] = True
        else:
            seen[eq] = len(rx_docs)
        rx_docs.append(doc)
    doc = {"description": f"sei_net mechanism ({mech.rate_source}); rate constants in {mech.units}",
           "generator": "sei_net.kinetics.cantera_export",
           "units": {"length": "m", "quantity": "kmol", "activation-energy": "J/kmol"},
           "phases": [{"name": "network", "thermo": "ideal-gas", "elements": elements,
                       "species": [cantera_name(s) for s in used], "kinetics": "gas", "reactions": "all",
                       "state": {"T": temperature, "P": 101325.0}}],
           "species": sp_docs, "reactions": rx_docs}
    return yaml.safe_dump(doc, sort_keys=False, width=120)


def write_cantera(mech: Mechanism, species: dict, path: str | Path, temperature: float = 298.15) -> Path:
    """Write ``cantera_yaml`` to ``path``."""
    path = Path(path)
    path.write_text(cantera_yaml(mech, species, temperature))
    return path
