"""Species filters with recorded reasons (HiPRGen-style decision rules)."""

from __future__ import annotations

from sei_net.chem.elements import COORDINATING_METALS
from sei_net.chem.lewis import ValenceError
from sei_net.chem.species import Species
from sei_net.generate.rules import Filters


#: entries of SpeciesFilter.composition_ok's cache before it starts over
COMPOSITION_CACHE_SIZE = 200_000


class SpeciesFilter:
    """Decide whether a candidate species may enter the network; remembers every decision.

    ``reason(species)`` returns None when kept, else a one-line reason.
    """

    def __init__(self, filters: Filters):
        self.filters = filters
        self._forbidden = {Species.from_smiles(s).key for s in filters.forbidden}
        self._exempt = {Species.from_smiles(s).key for s in filters.exempt_from_lewis_penalty}
        self.decisions: dict[str, str | None] = {}
        self._summary: dict[str, tuple[frozenset[str], int, int, bool]] = {}
        self._composition_ok: dict[tuple, bool] = {}

    def reason(self, sp: Species) -> str | None:
        if sp.key in self.decisions:
            return self.decisions[sp.key]
        why = self._check(sp)
        self.decisions[sp.key] = why
        return why

    @staticmethod
    def _composition(elements: tuple[str, ...]) -> tuple[frozenset[str], int, int, bool]:
        """(elements present, heavy atoms, Li atoms, has a coordinating metal) of an atom list."""
        present = frozenset(elements)
        return (present, len(elements) - elements.count("H"), elements.count("Li"),
                bool(present & COORDINATING_METALS))

    def _network_composition(self, sp: Species) -> tuple[frozenset[str], int, int, bool]:
        """``_composition`` of a network species (a reactant), cached by key."""
        got = self._summary.get(sp.key)
        if got is None:
            got = self._summary[sp.key] = self._composition(sp.elements)
        return got

    def composition_reason(self, elements: frozenset[str], n_heavy: int, n_li: int, has_metal: bool,
                           charge: int, multiplicity: int | None = None) -> str | None:
        """The filters that need no structure (elements, size, charge, multiplicity, Li count), in the
        order ``reason`` applies them; ``multiplicity`` None skips that check."""
        f = self.filters
        extra = elements - f.elements
        if extra:
            return f"element(s) {sorted(extra)} not allowed (allowed: {sorted(f.elements)})"
        if n_heavy > f.max_heavy_atoms:
            return f"{n_heavy} heavy atoms > max_heavy_atoms {f.max_heavy_atoms}"
        lo, hi = f.charge_window
        if not lo <= charge <= hi:
            return f"charge {charge:+d} outside charge window [{lo}, {hi}]"
        if multiplicity is not None and multiplicity > f.max_multiplicity:
            return f"multiplicity {multiplicity} > max_multiplicity {f.max_multiplicity}"
        if f.cations_need_metal and charge > 0 and not has_metal:
            return f"cation {charge:+d} without a metal (cations_need_metal: reducing conditions)"
        if n_li > f.max_li:
            return f"{n_li} Li atoms > max_li {f.max_li}"
        return None

    def adduct_reason(self, a: Species, b: Species) -> str | None:
        """Why every species holding all atoms of ``a`` and ``b`` (their adduct: coordination and
        recombination products) would be rejected, from composition and charge alone; None if it
        might pass. Lets the generator skip a pair before building (canonicalising) any product."""
        ea, ha, la, ma = self._network_composition(a)
        eb, hb, lb, mb = self._network_composition(b)
        return self.composition_reason(ea | eb, ha + hb, la + lb, ma or mb, a.charge + b.charge)

    def composition_ok(self, elements: tuple[str, ...], charge: int) -> bool:
        """False when every species with these atoms and charge is rejected from composition alone
        (``composition_reason`` without multiplicity); cached by (elements, charge), bounded."""
        ok = self._composition_ok.get((elements, charge))
        if ok is None:
            ok = self.composition_reason(*self._composition(elements), charge) is None
            if len(self._composition_ok) >= COMPOSITION_CACHE_SIZE:
                self._composition_ok.clear()
            self._composition_ok[(elements, charge)] = ok
        return ok

    def _check(self, sp: Species) -> str | None:
        f = self.filters
        why = self.composition_reason(*self._composition(sp.elements), sp.charge, sp.multiplicity)
        if why:
            return why
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
