"""Rate constants from reaction free energies: Eyring/TST, Bell-Evans-Polanyi, Marcus.

All energies in eV, temperatures in K, lengths in Å, rates in s^-1 for unimolecular steps and
L mol^-1 s^-1 (standard state 1 mol/L) for bimolecular ones; a reduction at the electrode is
pseudo-first order (s^-1). Every function is vectorised over numpy arrays, so an array of
ensemble-member free energies (shape (..., M)) gives member-wise rates: uncertainty travels as
members (DESIGN.md), never as summed variances.

Rate: k = kappa * kB*T/h * exp(-dG_act / kB*T), with kappa = exp(-beta * d) for electron tunnelling
through a film of thickness d (d = 0 at a bare electrode).

Barrier models
--------------
- Eyring with a given barrier (transition-state data, NEB, or a surrogate prediction).
- Bell-Evans-Polanyi per reaction kind: dG_act = max(0, dG, E0 + alpha*dG), never below
  max(0, dG). ``RNMC_BEP`` follows the HiPRGen/RNMC SEI network (Barter et al., Digital Discovery
  2023; ../shared/data/rnmc_sei): association, dissociation, bond breaking and forming and ring
  opening are barrierless beyond their endergonicity (E0 = 0); concerted steps get 0.266 eV at
  dG = 0 as in RNMC, but with alpha = 1/2 rather than RNMC's constant, so that forward and reverse
  barriers differ by exactly dG (detailed balance; a constant barrier breaks it for |dG| < 0.266
  eV). ``DEFAULT_BEP`` keeps that form and refits E0 on this project's GFN2-xTB CI-NEB barriers
  (492 usable labels, ``data/barriers/``; least absolute error with alpha fixed at 1/2 so that
  both directions of a pair share E0 and keep detailed balance; ``examples/fit_bep_defaults.py``):
  bond breaking/forming 0.20 eV (380 labels), ring opening/closing 0.56 eV (76 labels), concerted
  H shifts 0.78 eV (36 labels; 64 of 100 concerted NEB runs still fail). Li+ (de)coordination
  keeps E0 = 0 (no labels; NEB here is unimolecular). 5-fold CV MAE on those labels: 0.171-0.172
  eV against 0.200 for ``RNMC_BEP`` (docs/kinetics.md).
- A learned intrinsic barrier per reaction (``RateModel.intrinsic``, lambda from the barrier
  surrogate, ``sei_net.learn.barrier_model``) through the clipped Marcus form
  ``clipped_marcus_barrier``; reactions without one keep their BEP barrier.
- Marcus for electron transfer: dG_act = (lambda/4) (1 + dG/lambda)^2, lambda = inner + outer;
  outer from the Born/Marcus two-sphere (or sphere-electrode image) formula with the solvent's
  static dielectric constant and refractive index (defaults 18.5 and 1.415, the EC/EMC values used
  by mrnet), inner from energies when the caller has them (default 0: stated, not hidden). An
  electron transfer concerted with a bond change (electrons and a kind other than 'redox',
  ``generate.dissociative``) adds 4 E0 of that kind's BEP to lambda (Saveant's concerted
  dissociative electron transfer, J. Am. Chem. Soc. 109, 6788 (1987)). With
  ``RateModel(electrode="mhc")`` electrode steps take the Marcus-Hush-Chidsey barrier instead
  (``mhc_barrier``: the Marcus rate summed over the metal's occupied levels, no inverted region).

Encounter limit
---------------
TST alone lets a barrierless bimolecular step run at kB*T/h = 6e12 L/(mol s), three orders of
magnitude faster than two molecules can meet in a carbonate electrolyte. Non-electrode steps with
two species on a side are therefore encounter-limited (Collins and Kimball, J. Colloid Sci. 4, 425
(1949)): k = s * k_TST with s = 1 / (1 + (k_f [two reactants] + k_r [two products]) / k_D), where
k_f and k_r are the TST rate constants of the two directions and k_D = 8RT/(3 eta) the
Smoluchowski encounter rate constant of two equal spheres with Stokes-Einstein diffusion
(``diffusion_limit``; 2.2e9 L/(mol s) at the default viscosity). The viscosity is given at 25 C and
follows Arrhenius' law of viscous flow away from it (``viscosity_at``, activation energy
``VISCOSITY_ACTIVATION``), so k_D grows faster than T in a temperature sweep. Both directions of a
pair get the same s, so k_f/k_r stays exp(-dG/kT) (detailed balance). Coulomb attraction or repulsion of ions
is left out (screened at 1 mol/L salt: a Debye length of about 3 Å); electrode steps are not
limited (their reactant is at the surface).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sei_net.constants import BOLTZMANN_EV, PLANCK_EV

#: e^2 / (4 pi eps0) in eV Å
COULOMB_EV_ANGSTROM = 14.399645
#: molar gas constant, J/(mol K)
GAS_CONSTANT = 8.314462618
#: shear viscosity (Pa s) of the default electrolyte, 1 mol/L LiPF6 in EC-based carbonate blends at
#: 25 C: about 3 mPa s (LP30/LP57-type electrolytes measure 3-4.5 mPa s; EC/DMC-rich blends less)
DEFAULT_VISCOSITY = 3.0e-3
#: temperature (K) at which ``RateModel.viscosity`` is given
VISCOSITY_REFERENCE_TEMPERATURE = 298.15
#: Arrhenius activation energy (J/mol) of viscous flow, eta(T) = eta(298.15 K) exp(E/R (1/T - 1/298.15 K)):
#: a typical value for 1 mol/L LiPF6 in EC-based carbonate blends between 0 and 60 C (measured
#: values about 13-18 kJ/mol; the viscosity roughly halves from 25 to 60 C)
VISCOSITY_ACTIVATION = 15.0e3

#: Bell-Evans-Polanyi (E0 in eV, alpha) per reaction kind as in the RNMC SEI network (module docstring).
RNMC_BEP: dict[str, tuple[float, float]] = {
    "fragmentation": (0.0, 0.0), "recombination": (0.0, 0.0),
    "ring_opening": (0.0, 0.0), "ring_closing": (0.0, 0.0),
    "coordination": (0.0, 0.0), "decoordination": (0.0, 0.0),
    "concerted": (0.266, 0.5), "other": (0.266, 0.5),
}
#: where DEFAULT_BEP comes from and how good it is, for reports
DEFAULT_BEP_SOURCE = ("E0 per class fitted on 492 GFN2-xTB CI-NEB barriers (5-fold CV MAE 0.17 eV, against "
                      "0.20 eV for the RNMC values; 36 of them concerted)")
#: the default BEP: E0 refitted on the GFN2 CI-NEB barriers of every class that has labels
#: (module docstring; ``examples/fit_bep_defaults.py`` reproduces the numbers)
DEFAULT_BEP: dict[str, tuple[float, float]] = {
    **RNMC_BEP,
    "fragmentation": (0.20, 0.5), "recombination": (0.20, 0.5),
    "ring_opening": (0.56, 0.5), "ring_closing": (0.56, 0.5),
    "concerted": (0.78, 0.5),
}


def diffusion_limit(temperature: float, viscosity: float = DEFAULT_VISCOSITY) -> float:
    """Smoluchowski encounter rate constant k_D = 8RT/(3 eta) in L/(mol s) of two neutral spheres
    of equal size with stick Stokes-Einstein diffusion (the radii cancel); ``viscosity`` in Pa s."""
    thermal_energy(temperature)
    if not viscosity > 0:
        raise ValueError(f"viscosity {viscosity!r} Pa s is not valid: give a positive shear viscosity in Pa s "
                         f"(the default electrolyte's is {DEFAULT_VISCOSITY})")
    return 8.0 * GAS_CONSTANT * temperature / (3.0 * viscosity) * 1e3


def viscosity_at(temperature: float, viscosity: float = DEFAULT_VISCOSITY,
                 activation: float = VISCOSITY_ACTIVATION) -> float:
    """Shear viscosity (Pa s) at ``temperature`` (K) of an electrolyte whose viscosity at 25 C is
    ``viscosity`` (Pa s), by Arrhenius' law with ``activation`` (J/mol; 0 keeps it constant)."""
    thermal_energy(temperature)
    if not activation >= 0:
        raise ValueError(f"viscosity activation energy {activation!r} J/mol is not valid: give a non-negative "
                         f"energy in J/mol (typical for carbonate electrolytes: {VISCOSITY_ACTIVATION:g})")
    return viscosity * float(np.exp(activation / GAS_CONSTANT
                                    * (1.0 / temperature - 1.0 / VISCOSITY_REFERENCE_TEMPERATURE)))


def encounter_factor(barrier, dG, n_reactants, n_products, temperature: float, k_diffusion: float) -> np.ndarray:
    """Collins-Kimball factor s in (0, 1] of each reaction (module docstring, "Encounter limit"):
    1 / (1 + (k_f [n_reactants >= 2] + k_r [n_products >= 2]) / k_D), with k_f = Eyring(barrier)
    and k_r = Eyring(barrier - dG), the reverse direction's TST rate constant (eV in, shapes (R,)
    or (R, M) for members; ``n_reactants``/``n_products`` (R,); ``k_diffusion`` in L/(mol s))."""
    barrier, dG = np.asarray(barrier, dtype=float), np.asarray(dG, dtype=float)
    two_r = (np.asarray(n_reactants) >= 2).astype(float)
    two_p = (np.asarray(n_products) >= 2).astype(float)
    if barrier.ndim == 2:
        two_r, two_p = two_r[:, None], two_p[:, None]
    k_f = eyring(barrier, temperature)
    k_r = eyring(np.maximum(barrier - dG, 0.0), temperature)
    return 1.0 / (1.0 + (two_r * k_f + two_p * k_r) / k_diffusion)


def thermal_energy(temperature: float) -> float:
    """kB*T in eV."""
    if not temperature > 0:
        raise ValueError(f"temperature {temperature!r} K is not valid: give a positive temperature in K")
    return BOLTZMANN_EV * temperature


def eyring(barrier, temperature: float, kappa=1.0) -> np.ndarray:
    """Transition-state rate constant kappa*kB*T/h*exp(-barrier/kB*T) (s^-1, or L/(mol s) for
    bimolecular steps with 1 mol/L standard-state free energies). ``barrier`` in eV."""
    kt = thermal_energy(temperature)
    return np.asarray(kappa) * (kt / PLANCK_EV) * np.exp(-np.asarray(barrier, dtype=float) / kt)


def bep_barrier(dG, intrinsic: float = 0.0, alpha: float = 0.0) -> np.ndarray:
    """Bell-Evans-Polanyi barrier max(0, dG, intrinsic + alpha*dG) (eV); never below max(0, dG)."""
    dG = np.asarray(dG, dtype=float)
    return np.maximum(np.maximum(dG, 0.0), intrinsic + alpha * dG)


def marcus_barrier(dG, reorganisation) -> np.ndarray:
    """Marcus activation free energy (lambda/4)(1 + dG/lambda)^2 (eV); it is >= max(0, dG) for
    any lambda > 0 and reaches zero at dG = -lambda (the inverted region beyond)."""
    lam = np.asarray(reorganisation, dtype=float)
    if np.any(lam <= 0):
        raise ValueError("reorganisation energy must be positive (eV)")
    dG = np.asarray(dG, dtype=float)
    return lam / 4.0 * (1.0 + dG / lam) ** 2


#: how electron transfers at the electrode get their barrier (``RateModel.electrode``)
ELECTRODE_MODELS = ("marcus", "mhc")
#: grid points of the Fermi-level integral of ``mhc_barrier``
MHC_POINTS = 1001


def mhc_barrier(dG, reorganisation, temperature: float = 298.15, points: int = MHC_POINTS) -> np.ndarray:
    """Effective barrier (eV) of an electron transfer at a metal electrode by Marcus-Hush-Chidsey
    kinetics (Chidsey, Science 251, 919 (1991)): every electronic level eps of the metal (eV from the
    Fermi level, where the electron's free energy is set) transfers at its own Marcus rate, weighted
    by its occupation f(eps) = 1/(1 + exp(eps/kT)),

        k ~ integral f(eps) exp(-(lambda + dG - eps)^2 / (4 lambda kT)) d eps,

    given as -kT ln(k / k_max) with k_max = sqrt(4 pi lambda kT), the plateau where every level
    reaches the activationless point: 0 at large driving force (no inverted region), exactly
    kT ln 2 at dG = -lambda, and near Marcus's parabola at small |dG|. The same formula with the
    oxidation's own dG gives the reverse step (empty levels take the electron), and forward minus
    reverse is exactly dG. ``dG`` and ``reorganisation`` (eV) broadcast; the integral is a
    log-sum-exp trapezoid over a grid that holds both the Gaussian and the Fermi edge."""
    kt = thermal_energy(temperature)
    lam = np.asarray(reorganisation, dtype=float)
    if np.any(lam <= 0):
        raise ValueError("reorganisation energy must be positive (eV)")
    dG, lam = np.broadcast_arrays(np.asarray(dG, dtype=float), lam)
    flat_dG, flat_lam = dG.ravel(), lam.ravel()
    out = np.empty(flat_dG.shape)
    u = np.linspace(0.0, 1.0, points)
    for start in range(0, len(flat_dG), 1024):
        d, lb = flat_dG[start:start + 1024, None], flat_lam[start:start + 1024, None]
        centre, width = lb + d, np.sqrt(2.0 * lb * kt)
        lo = np.minimum(np.minimum(centre - 2.0 * lb, 0.0), centre) - 12.0 * width
        hi = np.maximum(centre, 0.0) + 12.0 * width
        eps = lo + (hi - lo) * u
        log_term = -np.logaddexp(0.0, eps / kt) - (eps - centre) ** 2 / (4.0 * lb * kt)
        top = log_term.max(axis=1, keepdims=True)
        weights = np.exp(log_term - top)
        step = (hi - lo)[:, 0] / (points - 1)
        area = step * (weights.sum(axis=1) - 0.5 * (weights[:, 0] + weights[:, -1]))   # trapezoid rule
        out[start:start + 1024] = -kt * (np.log(area) + top[:, 0] - 0.5 * np.log(4.0 * np.pi * lb[:, 0] * kt))
    return np.maximum(out, 0.0).reshape(dG.shape)


def clipped_marcus_barrier(dG, lam) -> np.ndarray:
    """(lambda/4)(1 + dG/lambda)^2 for |dG| < lambda, dG above, 0 below (no inverted region for
    bond changes); eV. Never below max(0, dG); forward minus reverse barrier is exactly dG."""
    dG = np.asarray(dG, dtype=float)
    lam = np.asarray(lam, dtype=float)
    inside = lam / 4.0 * (1.0 + np.clip(dG / lam, -1.0, 1.0)) ** 2
    return np.where(dG >= lam, dG, inside)


def outer_reorganisation(radius: float, partner_radius: float | None = None,
                         distance: float | None = None, dielectric: float = 18.5,
                         refractive_index: float = 1.415) -> float:
    """Outer-sphere (solvent) reorganisation energy for moving one electron, in eV.

    With ``partner_radius`` (two spheres, radii in Å, centre distance ``distance`` defaulting to
    contact): e^2/(4 pi eps0) (1/(2a1) + 1/(2a2) - 1/R) (1/n^2 - 1/eps). Without it (a molecule at an
    electrode, image-charge form): e^2/(4 pi eps0) (1/(2a) - 1/(4d)) (1/n^2 - 1/eps), d the distance
    of the centre from the electrode (default: touching, d = a)."""
    if radius <= 0 or (partner_radius is not None and partner_radius <= 0):
        raise ValueError("radii must be positive (Å)")
    pekar = 1.0 / refractive_index ** 2 - 1.0 / dielectric
    if partner_radius is None:
        d = radius if distance is None else distance
        geom = 1.0 / (2.0 * radius) - 1.0 / (4.0 * d)
    else:
        r = radius + partner_radius if distance is None else distance
        geom = 1.0 / (2.0 * radius) + 1.0 / (2.0 * partner_radius) - 1.0 / r
    return COULOMB_EV_ANGSTROM * geom * pekar


def tunnelling_factor(thickness, beta: float = 1.0) -> np.ndarray:
    """Electron tunnelling transmission kappa = exp(-beta*d) through a film ``thickness`` Å thick
    (beta in 1/Å; 1.0 is a typical decay constant through an insulating organic/inorganic film)."""
    return np.exp(-beta * np.asarray(thickness, dtype=float))


@dataclass(frozen=True)
class RateModel:
    """How barriers are made from reaction free energies (eV) at a temperature (K).

    ``bep``: (E0, alpha) per non-redox kind. Redox steps use Marcus with reorganisation energy
    ``outer_reorganisation(radius of the reduced species) + inner_reorganisation`` (eV), unless
    ``redox_reorganisation`` fixes lambda for all of them. ``beta`` (1/Å) and ``film_thickness`` (Å)
    give the tunnelling factor of electrode steps. ``intrinsic``: learned lambda (eV) per reaction,
    shape (R,) or (R, M) for barrier-ensemble members, NaN where there is none; non-redox reactions
    with one use ``clipped_marcus_barrier`` instead of BEP (member-wise when dG has M members too).
    ``intrinsic_source`` names where it came from, for reports. ``electrode``: 'marcus' (the
    parabola, with its inverted region) or 'mhc' (``mhc_barrier``: Marcus-Hush-Chidsey, none).
    ``viscosity`` (Pa s, at 25 C; ``viscosity_activation`` in J/mol carries it to ``temperature``):
    the encounter limit of non-electrode steps with two species on a side (module docstring;
    ``encounter_limited``); None leaves TST rates unlimited."""

    temperature: float = 298.15
    bep: dict[str, tuple[float, float]] = field(default_factory=lambda: dict(DEFAULT_BEP))
    inner_reorganisation: float = 0.0
    redox_reorganisation: float | None = None
    dielectric: float = 18.5
    refractive_index: float = 1.415
    beta: float = 1.0
    film_thickness: float = 0.0
    intrinsic: np.ndarray | None = field(default=None, compare=False)
    intrinsic_source: str = ""
    electrode: str = "marcus"
    viscosity: float | None = DEFAULT_VISCOSITY
    viscosity_activation: float = VISCOSITY_ACTIVATION

    def __post_init__(self):
        if self.electrode not in ELECTRODE_MODELS:
            raise ValueError(f"electrode kinetics {self.electrode!r} is not valid; valid: {', '.join(ELECTRODE_MODELS)}")
        if self.viscosity is not None:
            self.encounter_rate_constant()

    def viscosity_here(self) -> float:
        """The viscosity (Pa s) at the model's temperature, carried from 25 C (``viscosity_at``);
        needs a ``viscosity``."""
        return viscosity_at(self.temperature, self.viscosity, self.viscosity_activation)

    def encounter_rate_constant(self) -> float:
        """The encounter rate constant k_D (L/(mol s)) at the model's temperature and viscosity."""
        return diffusion_limit(self.temperature, self.viscosity_here())

    def describe(self) -> str:
        """One line for reports: the models and their parameters."""
        lam = (f"lambda={self.redox_reorganisation} eV" if self.redox_reorganisation is not None
               else f"lambda=outer(eps={self.dielectric}, n={self.refractive_index})"
                    f"+{self.inner_reorganisation} eV")
        learned = ""
        if self.intrinsic is not None:
            n = int(np.isfinite(np.asarray(self.intrinsic).reshape(len(self.intrinsic), -1)[:, 0]).sum())
            learned = (f"learned intrinsic barriers (clipped Marcus) for {n} reactions from "
                       f"{self.intrinsic_source or 'a barrier model'}, else ")
        transfer = "Marcus" if self.electrode == "marcus" else "Marcus-Hush-Chidsey (Fermi-level integral)"
        return (f"Eyring TST at {self.temperature} K; {learned}BEP per kind {self.bep}; {transfer} for "
                f"electron transfer ({lam}; +4 E0 of the bond change's kind when one goes with it); "
                f"kappa=exp(-{self.beta}/Å*{self.film_thickness} Å); {self._encounter_text()}")

    def _encounter_text(self) -> str:
        if self.viscosity is None:
            return "no encounter limit"
        eta = self.viscosity_here()
        return (f"encounter-limited bimolecular steps (Collins-Kimball, "
                f"k_D=8RT/3eta={diffusion_limit(self.temperature, eta):.2g} L/(mol s) at eta={eta * 1e3:.3g} mPa s: "
                f"{self.viscosity * 1e3:g} mPa s at 25 C, Arrhenius {self.viscosity_activation / 1e3:g} kJ/mol)")

    def barriers(self, dG: np.ndarray, kinds: np.ndarray, electrons: np.ndarray,
                 radius: np.ndarray | None = None) -> np.ndarray:
        """Barrier (eV) of each reaction from its dG (eV; shape (R,) or (R, M) for members),
        its kind (str array) and electron count; ``radius`` (Å, shape (R,)) is the effective radius
        of the species that takes or gives the electron, needed for Marcus unless
        ``redox_reorganisation`` is set."""
        dG = np.asarray(dG, dtype=float)
        out = np.empty_like(dG)
        kinds = np.asarray(kinds, dtype=object)
        redox = np.asarray(electrons) != 0
        for kind in set(kinds[~redox].tolist()):
            sel = (~redox) & (kinds == kind)
            e0, alpha = self._bep(kind)
            out[sel] = bep_barrier(dG[sel], e0, alpha)
        if self.intrinsic is not None:
            self._learned(dG, out, redox)
        if redox.any():
            lam = self.reorganisation(radius, redox) + self.bond_change_reorganisation(kinds[redox])
            if dG.ndim == 2:
                lam = lam[:, None]
            out[redox] = (marcus_barrier(dG[redox], lam) if self.electrode == "marcus"
                          else mhc_barrier(dG[redox], lam, self.temperature))
        return out

    def _learned(self, dG: np.ndarray, out: np.ndarray, redox: np.ndarray) -> None:
        """Overwrite ``out`` with clipped-Marcus barriers where a learned lambda exists."""
        lam = np.asarray(self.intrinsic, dtype=float)
        if lam.shape[0] != dG.shape[0]:
            raise ValueError(f"intrinsic barriers for {lam.shape[0]} reactions, but {dG.shape[0]} reactions scored")
        if lam.ndim == 2 and (dG.ndim == 1 or lam.shape[1] != dG.shape[1]):
            lam = lam.mean(axis=1)          # no member pairing: the ensemble's mean lambda
        if lam.ndim == 1 and dG.ndim == 2:
            lam = lam[:, None]
        rows = ~redox & np.isfinite(lam.reshape(len(lam), -1)[:, 0])
        out[rows] = clipped_marcus_barrier(dG[rows], lam[rows])

    def _bep(self, kind: str) -> tuple[float, float]:
        """(E0 eV, alpha) of a reaction kind; one clear error for a kind without parameters."""
        if kind not in self.bep:
            raise ValueError(f"no BEP parameters for reaction kind {kind!r}: "
                             f"known kinds {', '.join(sorted(self.bep))}")
        return self.bep[kind]

    def bond_change_reorganisation(self, kinds: np.ndarray) -> np.ndarray:
        """Extra Marcus lambda (eV) of electron transfers concerted with a bond change (a kind other
        than 'redox', ``generate.dissociative``): 4 E0 of that kind's BEP, so the intrinsic barrier
        is the transfer's plus the bond change's (Saveant's concerted dissociative electron
        transfer); 0 for a plain electron transfer."""
        kinds = np.asarray(kinds, dtype=object)
        out = np.zeros(len(kinds))
        for kind in set(kinds.tolist()) - {"redox"}:
            out[kinds == kind] = 4.0 * self._bep(kind)[0]
        return out

    def reorganisation(self, radius: np.ndarray | None, redox: np.ndarray) -> np.ndarray:
        """Marcus lambda (eV) for the redox reactions selected by the mask ``redox``."""
        n = int(np.count_nonzero(redox))
        if self.redox_reorganisation is not None:
            return np.full(n, float(self.redox_reorganisation))
        if radius is None:
            raise ValueError("Marcus rates need the effective radius of each redox species "
                             "(or RateModel(redox_reorganisation=...))")
        radii = np.asarray(radius, dtype=float)[redox]
        outer = np.array([outer_reorganisation(a, dielectric=self.dielectric,
                                               refractive_index=self.refractive_index)
                          for a in radii])
        return outer + self.inner_reorganisation

    def rates(self, barrier: np.ndarray, electrons: np.ndarray) -> np.ndarray:
        """Rate constants from barriers (eV): Eyring, with the tunnelling factor on electrode steps."""
        barrier = np.asarray(barrier, dtype=float)
        kappa = np.where(np.asarray(electrons) != 0,
                         float(tunnelling_factor(self.film_thickness, self.beta)), 1.0)
        if barrier.ndim == 2:
            kappa = kappa[:, None]
        return eyring(barrier, self.temperature, kappa)

    def encounter_limited(self, rate: np.ndarray, barrier: np.ndarray, dG: np.ndarray, n_reactants: np.ndarray,
                          n_products: np.ndarray, electrons: np.ndarray) -> np.ndarray:
        """``rate`` times the Collins-Kimball factor (``encounter_factor``) on non-electrode steps; as
        it is without a ``viscosity``. Shapes as in ``barriers``; ``n_reactants``/``n_products`` (R,)
        count species with their coefficients."""
        rate = np.asarray(rate, dtype=float)
        if self.viscosity is None:
            return rate
        factor = encounter_factor(barrier, dG, n_reactants, n_products, self.temperature,
                                  self.encounter_rate_constant())
        electrode = np.asarray(electrons) != 0
        return rate * np.where(electrode[:, None] if rate.ndim == 2 else electrode, 1.0, factor)
