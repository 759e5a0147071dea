"""The network's reactions as reactive-MC channels, looked up by the species of a site or a pair.

Channel families (rate constants k from the mechanism, kinetics.mechanism):

- electrode: one species + electrons (reduction or oxidation at the electrode), k in s^-1 at a bare
  electrode; the growth step multiplies it by the tunnelling factor exp(-beta d);
- unimolecular: one species, no electrons, k in s^-1;
- pair: two species (A + B or A + A), no electrons, k in L mol^-1 s^-1; a pair in contact reacts
  with k_pair = k / (N_A V_shell) (A + B) or 2 k / (N_A V_shell) (A + A), where V_shell is the
  reaction-shell volume (reactive.py). With uniformly spread molecules this gives the mass-action
  rate k [A][B] (k [A]^2 as the IUPAC rate of 2A -> P), the same convention as the SSA. k is the
  activation-controlled TST rate constant, without the encounter limit of well-mixed kinetics
  (kinetics.rates, "Encounter limit"): here MD brings the pair into contact.

Reactions with three or more reactant molecules, or with electrons and two species, have no
one-site analogue here; they are counted in ``skipped`` and left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sei_net.chem.reaction import equation_text
from sei_net.kinetics.acceleration import reverse_partners


@dataclass
class Channels:
    """CSR table: for entry e (a species, or a species pair), channels ptr[e]:ptr[e+1] with
    reaction index, rate constant and the reaction's dG (eV, nan if unknown)."""

    keys: np.ndarray         # sorted entry keys (species index, or a * n_species + b with a <= b)
    ptr: np.ndarray
    reaction: np.ndarray
    rate: np.ndarray
    dG: np.ndarray
    total: np.ndarray = field(init=False)     # summed rate per entry

    def __post_init__(self):
        self.total = np.add.reduceat(self.rate, self.ptr[:-1]) if len(self.rate) else np.zeros(0)
        self.total[np.diff(self.ptr) == 0] = 0.0

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Entry index of each key, -1 where the key has no channel."""
        keys = np.asarray(keys, dtype=np.int64)
        if not len(self.keys):
            return np.full(len(keys), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[pos] == keys, pos, -1)

    def pick(self, entry: int, rng: np.random.Generator) -> int:
        """A channel (row into reaction/rate) of ``entry`` chosen with probability k / total."""
        lo, hi = self.ptr[entry], self.ptr[entry + 1]
        w = self.rate[lo:hi]
        return int(lo + rng.choice(hi - lo, p=w / w.sum())) if w.sum() > 0 else int(lo + rng.integers(hi - lo))


def _channels(keys, reactions, rates, dG) -> Channels:
    keys = np.asarray(keys, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    uniq, counts = np.unique(keys[order], return_counts=True)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return Channels(uniq, ptr, np.asarray(reactions, dtype=np.int64)[order],
                    np.asarray(rates, dtype=float)[order], np.asarray(dG, dtype=float)[order])


@dataclass
class GrowthChemistry:
    """Channels of a mechanism by family, the products of every reaction (species indices, repeated
    by coefficient) and its equation text; ``skipped`` counts reactions left out, by reason."""

    n_species: int
    electrode: Channels
    unimolecular: Channels
    pair: Channels
    products: list[tuple[int, ...]]
    skipped: dict[str, int]
    rate_source: str
    text: list[str]
    rate_constant: np.ndarray | None = None   # (R,) k of every reaction, 0 where left out
    partner: np.ndarray | None = None         # (R,) index of the reverse reaction, -1 if none here

    def __post_init__(self):
        if self.rate_constant is None:
            self.rate_constant = np.zeros(len(self.products))
            for ch in (self.electrode, self.unimolecular, self.pair):
                self.rate_constant[ch.reaction] = ch.rate
        if self.partner is None:
            self.partner = np.full(len(self.products), -1, dtype=np.int64)

    @property
    def n_reactions(self) -> int:
        return len(self.products)

    def pair_key(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        return lo.astype(np.int64) * self.n_species + hi

    def describe(self, j: int) -> str:
        """A reaction as text, e.g. 'EC + e- -> EC-'."""
        return self.text[j]

    @classmethod
    def from_mechanism(cls, mech, dG: np.ndarray | None = None) -> "GrowthChemistry":
        """From a kinetics Mechanism (rates in s^-1 and L mol^-1 s^-1) and optional reaction dG (eV)."""
        g = mech.graph
        S = mech.n_species
        dG = np.full(mech.n_reactions, np.nan) if dG is None else np.asarray(dG, dtype=float)
        fam = {"electrode": ([], [], []), "unimolecular": ([], [], []), "pair": ([], [], [])}
        skipped = {"three or more reactants": 0, "electrons with two reactants": 0, "no reactants": 0}
        products, text = [], []
        for j in range(mech.n_reactions):
            rs = np.repeat(g.r_species[g.r_ptr[j]:g.r_ptr[j + 1]], g.r_coef[g.r_ptr[j]:g.r_ptr[j + 1]])
            ps = np.repeat(g.p_species[g.p_ptr[j]:g.p_ptr[j + 1]], g.p_coef[g.p_ptr[j]:g.p_ptr[j + 1]])
            products.append(tuple(int(p) for p in ps))
            e = int(g.electrons[j])
            text.append(equation_text([mech.names[s] for s in rs], [mech.names[p] for p in ps], e))
            if len(rs) == 0:
                skipped["no reactants"] += 1
            elif len(rs) > 2:
                skipped["three or more reactants"] += 1
            elif len(rs) == 2 and e:
                skipped["electrons with two reactants"] += 1
            else:
                name = "pair" if len(rs) == 2 else ("electrode" if e else "unimolecular")
                key = int(rs[0]) if len(rs) == 1 else int(min(rs)) * S + int(max(rs))
                for lst, v in zip(fam[name], (key, j, mech.rate[j])):
                    lst.append(v)
        chans = {name: _channels(k, r, rate, dG[np.asarray(r, dtype=np.int64)] if r else [])
                 for name, (k, r, rate) in fam.items()}
        partner = reverse_partners(g)
        used = np.zeros(mech.n_reactions, bool)
        for ch in chans.values():
            used[ch.reaction] = True
        partner[~used] = -1
        partner[(partner >= 0) & ~used[np.maximum(partner, 0)]] = -1
        return cls(S, chans["electrode"], chans["unimolecular"], chans["pair"], products, skipped,
                   mech.rate_source, text, partner=partner)
