"""The electron free-energy constant c of an oracle, calibrated on measured reduction potentials.

An electrode at potential U (V vs Li/Li+) supplies electrons of free energy G_e(U) = -(U + c) eV
(``sei_net.constants``). For a one-electron couple Ox + e- -> Red, the oracle's equilibrium
potential is therefore U = -(G_Red - G_Ox) - c. GFN2-xTB's absolute electron affinities are off by
volts, so c is fitted: the c that puts the oracle's potential of a couple inside the window a
measurement gives for it. Couples with a measured two-sided window fix c (their midpoints, least
squares); one-sided bounds and couples without a measurement are predicted with that c and
reported, not fitted.

The measured number for a solvent is the potential at which the electrolyte starts to be reduced,
where Li+ is bound to the solvent: it is compared with the adiabatic one-electron reduction of the
Li+-solvent complex, Li+(S) + e- -> Li(S) (the convention of the DFT SEI networks; with their
constant 1.40 eV, mrnet's DFT free energies put Li+(EC) at 0.77 V). Sources are in
``MEASUREMENTS``; docs/energy.md has the table and the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from sei_net.chem.species import Species


@dataclass(frozen=True)
class ReductionCouple:
    """Ox + e- -> Red, each given as (SMILES, charge, multiplicity)."""

    name: str
    oxidised: tuple[str, int, int]
    reduced: tuple[str, int, int]

    def keys(self) -> tuple[str, str]:
        """Canonical species keys of (Ox, Red)."""
        return tuple(Species.from_smiles(s, charge=q, multiplicity=m).key for s, q, m in (self.oxidised, self.reduced))


@dataclass(frozen=True)
class Measurement:
    """A measured reduction potential of one couple: a window [low_V, high_V] in V vs Li/Li+
    (either side may be open: None), what was measured, and the source to check it against."""

    couple: str
    low_V: float | None
    high_V: float | None
    what: str
    source: str

    @property
    def two_sided(self) -> bool:
        return self.low_V is not None and self.high_V is not None

    def holds(self, potential: float) -> bool:
        """Whether ``potential`` (V) lies inside the window."""
        return ((self.low_V is None or potential >= self.low_V)
                and (self.high_V is None or potential <= self.high_V))


#: Li+-solvent complexes and bare solvents of the four shipped recipes' carbonates
COUPLES: dict[str, ReductionCouple] = {c.name: c for c in (
    ReductionCouple("Li+EC", ("[Li+]<-O=C1OCCO1", 1, 1), ("[Li+]<-O=C1OCCO1", 0, 2)),
    ReductionCouple("Li+FEC", ("[Li+]<-O=C1OCC(F)O1", 1, 1), ("[Li+]<-O=C1OCC(F)O1", 0, 2)),
    ReductionCouple("Li+VC", ("[Li+]<-O=C1OC=CO1", 1, 1), ("[Li+]<-O=C1OC=CO1", 0, 2)),
    ReductionCouple("EC", ("O=C1OCCO1", 0, 1), ("[O-][C]1OCCO1", -1, 2)),
    ReductionCouple("FEC", ("O=C1OCC(F)O1", 0, 1), ("[O-][C]1OCC(F)O1", -1, 2)),
    ReductionCouple("VC", ("O=C1OC=CO1", 0, 1), ("[O-][C]1OC=CO1", -1, 2)),
)}

#: measured potentials (V vs Li/Li+). Only the first, two-sided one fixes c; the others are checks.
MEASUREMENTS: tuple[Measurement, ...] = (
    Measurement("Li+EC", 0.7, 0.8,
                "onset of reduction of EC-based LiPF6 electrolytes on graphite (first lithiation)",
                "K. Leung, 'Predicting the voltage dependence of interfacial electrochemical processes at "
                "lithium-intercalated graphite edge planes', arXiv:1502.00187 (2015), introduction"),
    Measurement("Li+EC", 1.0, None,
                "cyclic voltammetry of EC on Au / glassy carbon in THF + LiClO4: reduction above 1 V",
                "X. Zhang, R. Kostecki, T. J. Richardson, J. K. Pugh, P. N. Ross, J. Electrochem. Soc. 148, "
                "A1341 (2001), doi:10.1149/1.1415547, abstract"),
    Measurement("Li+VC", 1.0, None,
                "cyclic voltammetry of VC on Au / glassy carbon in THF + LiClO4: reduction above 1 V, "
                "'much more positive' than DFT one-electron values",
                "X. Zhang et al., J. Electrochem. Soc. 148, A1341 (2001), doi:10.1149/1.1415547, abstract"),
)


@dataclass
class ElectrodeScale:
    """A calibrated constant and what it predicts.

    offset: c (eV); offset_range: the c values that keep every two-sided window (None if the windows
    disagree); potentials: couple -> U (V vs Li/Li+) with c; checks: each measurement with the
    predicted potential and whether it lies in the measured window; missing: couples lacking a label.
    """

    offset: float
    offset_range: tuple[float, float] | None
    potentials: dict[str, float]
    checks: list[dict]
    missing: list[str]

    def to_dict(self) -> dict:
        return {"offset_eV": self.offset, "offset_range_eV": self.offset_range,
                "potentials_V": self.potentials, "checks": self.checks, "missing": self.missing}


def reduction_free_energies(G: Mapping[str, float],
                            couples: Mapping[str, ReductionCouple] = COUPLES) -> dict[str, float]:
    """couple -> G_Red - G_Ox (eV, electron not included) for the couples whose two species have a
    free energy in ``G`` (species key -> G in eV)."""
    out = {}
    for name, couple in couples.items():
        ox, red = couple.keys()
        if ox in G and red in G:
            out[name] = float(G[red] - G[ox])
    return out


def calibrate_electron_offset(G: Mapping[str, float],
                              measurements: tuple[Measurement, ...] = MEASUREMENTS,
                              couples: Mapping[str, ReductionCouple] = COUPLES) -> ElectrodeScale:
    """Fit c on the two-sided measured windows (least squares to their midpoints) from species free
    energies ``G`` (key -> eV, one level of theory), and check every measurement with it.
    Raises ValueError naming what is missing when no two-sided window has its couple's energies."""
    unknown = sorted({m.couple for m in measurements} - set(couples))
    if unknown:
        raise ValueError(f"measurements name unknown couples {unknown}; known couples: {', '.join(couples)}")
    dg = reduction_free_energies(G, couples)
    fitted = [m for m in measurements if m.two_sided and m.couple in dg]
    if not fitted:
        need = sorted({m.couple for m in measurements if m.two_sided})
        raise ValueError(f"no free energies for the couples with a measured window ({', '.join(need)}); "
                         "label both species of at least one of them")
    offset = float(np.mean([-dg[m.couple] - 0.5 * (m.low_V + m.high_V) for m in fitted]))
    low = max(-dg[m.couple] - m.high_V for m in fitted)
    high = min(-dg[m.couple] - m.low_V for m in fitted)
    potentials = {name: -d - offset for name, d in dg.items()}
    checks = [{"couple": m.couple, "low_V": m.low_V, "high_V": m.high_V, "what": m.what, "source": m.source,
               "fitted": m in fitted, "predicted_V": potentials.get(m.couple),
               "holds": None if m.couple not in potentials else m.holds(potentials[m.couple])}
              for m in measurements]
    return ElectrodeScale(offset, (low, high) if low <= high else None, potentials, checks,
                          sorted(set(couples) - set(dg)))
