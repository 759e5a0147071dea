"""Species filters with recorded reasons (HiPRGen-style decision rules)."""

from __future__ import annotations

from sei_net.chem.elements import COORDINATING_METALS
from sei_net.chem.lewis import ValenceError
from sei_net.chem.species import Species
from sei_net.generate.rules import Filters


class SpeciesFilter:
    """Decide whether a candidate species may enter the network; remembers every decision.

    ``reason(species)`` returns None when kept, else a one-line reason.
    """

    def __init__(self, filters: Filters):
        self.filters = filters
        self._forbidden = {Species.from_smiles(s).key for s in filters.forbidden}
        self._exempt = {Species.from_smiles(s).key for s in filters.exempt_from_lewis_penalty}
        self.decisions: dict[str, str | None] = {}

    def reason(self, sp: Species) -> str | None:
        if sp.key in self.decisions:
            return self.decisions[sp.key]
        why = self._check(sp)
        self.decisions[sp.key] = why
        return why

    def _check(self, sp: Species) -> str | None:
        f = self.filters
        extra = set(sp.elements) - f.elements
        if extra:
            return f"element(s) {sorted(extra)} not allowed (allowed: {sorted(f.elements)})"
        if sp.n_heavy > f.max_heavy_atoms:
            return f"{sp.n_heavy} heavy atoms > max_heavy_atoms {f.max_heavy_atoms}"
        lo, hi = f.charge_window
        if not lo <= sp.charge <= hi:
            return f"charge {sp.charge:+d} outside charge window [{lo}, {hi}]"
        if sp.multiplicity > f.max_multiplicity:
            return f"multiplicity {sp.multiplicity} > max_multiplicity {f.max_multiplicity}"
        if f.cations_need_metal and sp.charge > 0 and not set(sp.elements) & COORDINATING_METALS:
            return f"cation {sp.charge:+d} without a metal (cations_need_metal: reducing conditions)"
        n_li = sum(1 for e in sp.elements if e == "Li")
        if n_li > f.max_li:
            return f"{n_li} Li atoms > max_li {f.max_li}"
        if sp.n_atoms == 1 and sp.elements[0] in COORDINATING_METALS and sp.charge < 0:
            return "bare negative metal"
        if sp.key in self._forbidden:
            return "forbidden species"
        try:
            penalty = sp.lewis.penalty
        except ValenceError:
            return "no valid Lewis structure (valence)"
        if penalty > f.max_lewis_penalty and sp.key not in self._exempt:
            return f"Lewis penalty {penalty:.2f} > max_lewis_penalty {f.max_lewis_penalty}"
        return None
