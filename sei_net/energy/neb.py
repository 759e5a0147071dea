"""Reaction barriers from climbing-image NEB on the GFN2-xTB surface (ASE NEB + tblite).

Scope: unimolecular reactions A -> B (+ C ...) that keep the total spin (ring openings,
fragmentations, concerted rearrangements of one species), the barrier labels of the barrier model.
Procedure:

1. Endpoints from the label cache: the reactant's optimised geometry, and a product complex in the
   reactant's atom order, relaxed at the reactant's charge and multiplicity. When a bond the
   reaction forms joins atoms that are far apart there (an H shift across a chain, a ring closure
   of an extended conformer), the start is a reactive conformer instead: the reactant relaxed with
   springs holding those atoms near each other, then freely (``reactive_reactant``). Product
   guesses, the first whose relaxation keeps the products' bond graphs (or the same graph with like
   atoms in other roles: 'equivalent atoms', ``product_complex_status``) wins: the start with the
   formed bonds pulled to their covalent length ('pulled', reactions that form bonds); the same
   with every broken bond also pushed to at least ``PUSH_MARGIN`` Å beyond its covalent length
   ('pulled and pushed', reactions that form and break bonds: a shifted atom pulled alone often
   falls back to its donor); the start with every broken bond stretched to 3 Å ('stretched');
   each product's optimised geometry placed onto the reactant atoms it comes from (the reaction's
   atom map, Kabsch alignment per fragment, fragments pushed 1.5 Å apart; 'aligned products').
   None kept: 'failed: no product complex'.
2. Images by IDPP interpolation, NEB (improved tangents) to 0.3 eV/Å, then climbing image
   to ``fmax`` (default 0.05 eV/Å), FIRE, at most ``max_steps`` steps each. A band whose SCF needs
   more than ``MAX_SCF_RESCUES`` retries is given up.
3. The climbing image must be an interior maximum and have exactly one imaginary mode (finite
   differences, as for the species); its quasi-RRHO free energy excludes that mode.

Barrier: dG_act = G(TS) - G(reactant) (eV, 1 mol/L, same quasi-RRHO treatment as the species), and
the electronic dE_act = E(TS) - E(reactant), both at the level of theory of the label cache and
both from the labelled reactant, also when the band starts from a reactive conformer.
"""

from __future__ import annotations

import functools
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable

import numpy as np

from sei_net.chem.reaction import Reaction
from sei_net.constants import NEB_IMAGES, NEB_MAX_STEPS


def neb_level(n_images: int = NEB_IMAGES) -> str:
    """Level-of-theory string of a CI-NEB run with ``n_images`` moving images. The count is part of
    it because it changes which saddle a band finds (docs/results/neb_images_probe.md: one shift
    0.77 eV with 7 images, 0.97 eV with 11), so results of different counts are kept apart. The step
    limit is not: it decides only whether a band converges (``data.max_steps`` records it)."""
    return (f"CI-NEB ({n_images} images, IDPP, improved tangent, k=1 eV/A^2, FIRE, fmax 0.05 eV/A) on "
            "GFN2-xTB/GBE(eps=18.5,Still); TS qRRHO without the imaginary mode")


NEB_LEVEL = neb_level()

#: a bond the reaction forms is "within reach" when its atoms are at most this far (Å) beyond the sum
#: of their covalent radii; farther pairs get a reactive reactant conformer (``reactive_reactant``)
REACH_MARGIN = 1.0
#: spring constant of the restraints that bring atoms together or push them apart (eV/Å^2)
RESTRAINT_K = 5.0
#: the 'pulled and pushed' product guess holds each broken bond at least this far (Å) beyond the
#: sum of its atoms' covalent radii while the formed bonds are pulled in
PUSH_MARGIN = 1.0
#: random displacement (Å, standard deviation, seeded) that takes a pushed geometry off a symmetric
#: stationary point before its free relaxation (``relax``)
PUSH_KICK = 0.05


@dataclass
class BarrierRecord:
    """One reaction's NEB result: status 'ok' or 'failed' with a reason; energies in eV."""

    reaction_key: str
    status: str
    dG_act: float | None = None
    dE_act: float | None = None
    dE_reaction: float | None = None
    n_images: int = 0
    ts_coords: list | None = None
    imaginary_cm: float | None = None
    seconds: float = 0.0
    reason: str = ""
    level_of_theory: str = NEB_LEVEL
    data: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def kabsch(mobile: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``mobile`` rotated and translated onto ``target`` (same atoms, least-squares fit)."""
    mc, tc = mobile.mean(axis=0), target.mean(axis=0)
    a, b = mobile - mc, target - tc
    if len(mobile) == 1:
        return target.copy()
    u, _, vt = np.linalg.svd(a.T @ b)
    d = np.sign(np.linalg.det(u @ vt))
    rot = u @ np.diag([1.0, 1.0, d]) @ vt
    return a @ rot + tc


def product_complex(reaction: Reaction, reactant_coords: np.ndarray, product_coords: list[np.ndarray],
                    push: float = 1.5) -> np.ndarray:
    """Product geometries placed on the reactant's atoms (reactant atom order, Å)."""
    amap = np.asarray(reaction.atom_map)
    out = np.zeros_like(reactant_coords)
    start = 0
    centroids, slices = [], []
    for sp, coords in zip(reaction.products, product_coords):
        idx = amap[start:start + sp.n_atoms]
        out[idx] = kabsch(np.asarray(coords), reactant_coords[idx])
        centroids.append(out[idx].mean(axis=0))
        slices.append(idx)
        start += sp.n_atoms
    if len(slices) > 1:
        centre = np.mean(centroids, axis=0)
        for idx, c in zip(slices, centroids):
            direction = c - centre
            norm = np.linalg.norm(direction)
            if norm > 1e-6:
                out[idx] += push * direction / norm
    return out


def mapped_product_bonds(reaction: Reaction) -> list[tuple[int, int, int]]:
    """Every product bond (i, j, kind) in reactant atom numbering, through the atom map."""
    amap = np.asarray(reaction.atom_map)
    bonds, start = [], 0
    for sp in reaction.products:
        for i, j, kind in sp.bonds:
            a, b = int(amap[start + i]), int(amap[start + j])
            bonds.append((min(a, b), max(a, b), kind))
        start += sp.n_atoms
    return sorted(bonds)


def broken_bonds(reaction: Reaction) -> list[tuple[int, int]]:
    """Reactant bonds (atom pairs, reactant order) that no product keeps."""
    kept = {(a, b) for a, b, _ in mapped_product_bonds(reaction)}
    return [(i, j) for i, j, _ in reaction.reactants[0].bonds if (i, j) not in kept]


def stretched_reactant(reaction: Reaction, reactant_coords: np.ndarray, length: float = 3.0) -> np.ndarray:
    """The reactant geometry with every broken bond pulled to ``length`` Å: the side of a bond that
    falls off moves as a whole; a bond inside a ring (nothing falls off) moves its two atoms."""
    from sei_net.chem.graph import connected_components

    xyz = np.array(reactant_coords, dtype=float)
    reactant = reaction.reactants[0]
    broken = broken_bonds(reaction)
    remaining = [b for b in reactant.bonds if (b[0], b[1]) not in broken]
    parts = connected_components(reactant.n_atoms, remaining)
    part_of = {a: k for k, part in enumerate(parts) for a in part}
    for i, j in broken:
        d = xyz[j] - xyz[i]
        shift = (length - np.linalg.norm(d)) * d / max(np.linalg.norm(d), 1e-9)
        if part_of[i] != part_of[j]:
            xyz[parts[part_of[j]]] += shift
        else:
            xyz[i] -= shift / 2
            xyz[j] += shift / 2
    return xyz


def formed_bonds(reaction: Reaction) -> list[tuple[int, int]]:
    """Covalent product bonds (atom pairs, reactant order) that the reactant lacks."""
    from sei_net.chem.lewis import COVALENT

    have = {(i, j) for i, j, _ in reaction.reactants[0].bonds}
    return [(a, b) for a, b, kind in mapped_product_bonds(reaction) if kind == COVALENT and (a, b) not in have]


def _covalent_length(elements, i: int, j: int) -> float:
    """Sum of the covalent radii of atoms i and j (Å)."""
    from sei_net.chem.elements import COVALENT_RADIUS

    return COVALENT_RADIUS[elements[i]] + COVALENT_RADIUS[elements[j]]


@functools.cache
def _push_apart_class():
    """The ``PushApart`` constraint class, built once on first use (ASE is imported lazily)."""
    from ase.constraints import Hookean

    class PushApart(Hookean):
        def _stretch(self, atoms):
            d = atoms.positions[self.indices[1]] - atoms.positions[self.indices[0]]
            return d, float(np.linalg.norm(d))

        def adjust_forces(self, atoms, forces):
            d, r = self._stretch(atoms)
            if r < self.threshold:
                push = self.spring * (self.threshold - r) * d / max(r, 1e-9)
                forces[self.indices[0]] -= push
                forces[self.indices[1]] += push

        def adjust_potential_energy(self, atoms):
            r = self._stretch(atoms)[1]
            return 0.5 * self.spring * (self.threshold - r) ** 2 if r < self.threshold else 0.0

    return PushApart


def _push_apart(i: int, j: int, k: float, r_min: float):
    """An ASE constraint: a spring of ``k`` eV/Å^2 pushing atoms i and j to at least ``r_min`` Å
    apart, no force beyond (the mirror image of ``ase.constraints.Hookean``)."""
    return _push_apart_class()(i, j, k=k, rt=r_min)


def relax(atoms, restraints: Iterable[tuple[int, int, float]] = (), fmax: float = 0.02, steps: int = 300,
          push: Iterable[tuple[int, int, float]] = ()):
    """BFGS on ``atoms`` (its calculator set), first with every restraint (i, j, r): a spring of
    ``RESTRAINT_K`` pulling atoms i and j within r Å, and every ``push`` (i, j, r): one holding
    them at least r Å apart; then without any; returns ``atoms``. After a push the atoms are
    displaced by ``PUSH_KICK`` Å (seeded) before the free relaxation: a pushed geometry can sit on a
    mirror plane (the OH of *CH2OH eclipsed, 0.26 eV up), a saddle that BFGS keeps by symmetry."""
    from ase.constraints import Hookean
    from ase.optimize import BFGS

    restraints, push = list(restraints), list(push)
    if restraints or push:
        atoms.set_constraint([Hookean(i, j, k=RESTRAINT_K, rt=r) for i, j, r in restraints]
                             + [_push_apart(i, j, RESTRAINT_K, r) for i, j, r in push])
        BFGS(atoms, logfile=None).run(fmax=0.05, steps=steps)
        atoms.set_constraint()
    if push:
        atoms.positions += np.random.default_rng(0).normal(scale=PUSH_KICK, size=atoms.positions.shape)
    BFGS(atoms, logfile=None).run(fmax=fmax, steps=steps)
    return atoms


def reactive_reactant(reaction: Reaction, start, make_calc: Callable):
    """A reactant minimum with the atoms of each bond the reaction forms within reach of each other,
    or None when the given geometry already has them so (or no such minimum is found).

    A concerted shift or a ring closure from a conformer where the two atoms are far apart makes
    the interpolated path drag groups through each other. Here the reactant (``start``, ASE atoms;
    ``make_calc()`` gives a calculator) is relaxed with springs holding every formed pair within
    ``REACH_MARGIN`` Å of bonding, then relaxed freely; the result must keep the reactant's graph
    and have the pairs nearer than before. Its energy is a conformer's: barriers stay measured from
    the labelled reactant."""
    from sei_net.energy.geometry import graph_check

    elements = reaction.reactants[0].elements
    xyz = start.get_positions()
    formed = formed_bonds(reaction)
    far = [(i, j) for i, j in formed
           if np.linalg.norm(xyz[i] - xyz[j]) > _covalent_length(elements, i, j) + REACH_MARGIN]
    if not far:
        return None
    before = sum(np.linalg.norm(xyz[i] - xyz[j]) for i, j in formed)
    for margin in (REACH_MARGIN, 1.5 * REACH_MARGIN):
        trial = start.copy()
        trial.calc = make_calc()
        relax(trial, [(i, j, _covalent_length(elements, i, j) + margin) for i, j in formed])
        pos = trial.get_positions()
        after = sum(np.linalg.norm(pos[i] - pos[j]) for i, j in formed)
        if graph_check(reaction.reactants[0], pos)[0] != "rearranged" and after < before - 0.5:
            return trial
    return None


def product_complex_status(reaction: Reaction, coords_reactant_order: np.ndarray) -> str:
    """``graph_check`` of the product complex against the union of the products' bonds, in
    reactant atom order: 'ok', 'coordination_changed', 'equivalent atoms' or 'rearranged'.

    'equivalent atoms': the covalent bonds are not the mapped ones but form the same graph up to a
    permutation of like atoms, so the complex holds the same products with the atoms in other
    roles (the shifted H on the other O of a carboxyl radical, whose two O are one by resonance).
    The band then runs the same reaction under an equivalent atom map."""
    from types import SimpleNamespace

    from sei_net.chem.lewis import COVALENT
    from sei_net.chem.species import _canonical_cached
    from sei_net.energy.geometry import graph_check

    elements = reaction.reactants[0].elements
    bonds = mapped_product_bonds(reaction)
    status, changed = graph_check(SimpleNamespace(elements=elements, bonds=bonds), coords_reactant_order)
    if status != "rearranged":
        return status
    wanted = {(i, j) for i, j, kind in bonds if kind == COVALENT}
    found = wanted.symmetric_difference(changed)  # a changed pair is a mapped bond broken or a new one formed
    # the same graph up to like atoms: the canonical skeleton that species keys are made of
    same = [_canonical_cached(elements, tuple((i, j, COVALENT) for i, j in sorted(pairs)))[0]
            for pairs in (wanted, found)]
    return "equivalent atoms" if same[0] == same[1] else "rearranged"


def neb_barrier(reaction: Reaction, reactant_coords: np.ndarray, product_coords: list[np.ndarray],
                reactant_G: float, reactant_E: float, temperature: float = 298.15,
                n_images: int = NEB_IMAGES, fmax: float = 0.05,
                max_steps: int = NEB_MAX_STEPS) -> BarrierRecord:
    """Run one CI-NEB (see the module docstring); never raises for chemistry problems. The record's
    level of theory is ``neb_level(n_images)``."""
    check_band_settings(n_images, max_steps)
    t0 = time.perf_counter()
    rec = BarrierRecord(reaction.key, "failed", n_images=n_images, level_of_theory=neb_level(n_images),
                        data={"max_steps": max_steps})
    try:
        _run(reaction, np.asarray(reactant_coords, float), product_coords, reactant_G, reactant_E, temperature,
             n_images, fmax, max_steps, rec)
    except Exception as err:  # noqa: BLE001 - SCF and optimiser failures are data here
        rec.status = "failed"
        rec.reason = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"[:300]
    rec.seconds = round(time.perf_counter() - t0, 3)
    return rec


def check_band_settings(n_images: int, max_steps: int) -> None:
    """Refuse a band that cannot locate a saddle (fewer than 3 moving images) or a step limit below 1."""
    if n_images < 3:
        raise ValueError(f"NEB images {n_images} is not valid; give 3 or more moving images (default {NEB_IMAGES})")
    if max_steps < 1:
        raise ValueError(f"NEB max_steps {max_steps} is not valid; give 1 or more (default {NEB_MAX_STEPS})")


#: a path whose highest image is within this of its higher end has no barrier beyond the
#: reaction energy (eV)
FLAT_TOLERANCE = 0.03
#: extra imaginary modes smaller than this (cm-1) are finite-difference noise or soft rotors at a
#: climbing image converged to ``fmax``, not a second reaction coordinate (qRRHO raises every
#: mode below 100 cm-1 to 100 cm-1 anyway)
NOISE_IMAGINARY_CM = 100.0
#: a climbing image whose reaction mode is softer than this (cm-1) sits on a plateau, not at a
#: resolved saddle point
MIN_REACTION_MODE_CM = 100.0
#: NEB spring constant (eV/Å^2): stiff enough that images do not slide into the end basins
SPRING = 1.0
#: a path whose largest gap between neighbouring images exceeds this multiple of the median gap
#: has images bunched in the end basins: a light atom jumps between two images unresolved
MAX_GAP_RATIO = 3.0
#: an image this far above both ends (eV) has left the electronic ground state (SCF trouble)
MAX_IMAGE_EXCESS = 4.0
#: a band whose images needed this many SCF retries (``energy.scf``) in one NEB run lies where
#: the SCF is unstable; it is given up rather than left running for hours at 1,000 cycles a step
MAX_SCF_RESCUES = 20


def _optimise_band(neb, images, fmax: float, steps: int) -> bool:
    """FIRE on the band to ``fmax`` (eV/Å); True when converged. Raises once the images' SCF
    retries exceed ``MAX_SCF_RESCUES``."""
    from ase.optimize import FIRE

    def scf_guard():
        rescues = sum(getattr(im.calc, "rescues", 0) for im in images[1:-1])
        if rescues > MAX_SCF_RESCUES:
            raise RuntimeError(f"SCF unstable along the band ({rescues} retries)")

    optimiser = FIRE(neb, logfile=None)
    optimiser.attach(scf_guard, interval=1)
    return bool(optimiser.run(fmax=fmax, steps=steps))


def _check_path(energies: np.ndarray, e_start: float, e_end: float, images=None, climbing: bool = False) -> None:
    """Raise when an image (energies in eV) has left the electronic ground state (or, after the
    climbing phase, the climbing image ran away up a poor tangent: the two look alike here), or
    when the images are bunched so that the path between two of them is not resolved."""
    if images is not None:
        gaps = np.array([np.linalg.norm(b.get_positions() - a.get_positions()) for a, b in zip(images, images[1:])])
        if gaps.max() > MAX_GAP_RATIO * np.median(gaps):
            raise RuntimeError(f"unresolved path: images bunched (largest gap {gaps.max() / np.median(gaps):.1f}x "
                               "the median)")
    excess = energies.max() - max(e_start, e_end)
    if excess > MAX_IMAGE_EXCESS:
        cause = "SCF state or runaway climbing image" if climbing else "SCF state"
        raise RuntimeError(f"an image is {excess:.1f} eV above both ends ({cause})")


def _barrierless(rec: BarrierRecord, e_start: float, e_end: float, e_label: float) -> None:
    """Record a path with no maximum beyond its ends (energies in eV). From a reactive conformer
    above the labelled reactant that is not a barrier of zero: the barrier lies in the
    conformational change to it, which the band does not contain, so the record fails."""
    if e_start - e_label > FLAT_TOLERANCE:
        raise RuntimeError(f"barrierless only from a reactive conformer {e_start - e_label:.2f} eV above the "
                           "labelled reactant: the barrier lies in the conformational change")
    rec.status, rec.dE_act = "barrierless", max(0.0, e_end - e_label)


def product_guesses(reaction: Reaction, start_coords: np.ndarray, product_coords: list[np.ndarray]) -> list[tuple]:
    """The product-complex guesses of the module docstring, in the order tried: (name, coordinates
    in reactant atom order (Å), pull restraints, push restraints), restraints as (i, j, r in Å)
    for ``relax``."""
    elements = reaction.reactants[0].elements
    guesses = [("stretched", stretched_reactant(reaction, start_coords), (), ()),
               ("aligned products", product_complex(reaction, start_coords, product_coords), (), ())]
    formed = formed_bonds(reaction)
    if formed:
        pull = [(i, j, _covalent_length(elements, i, j)) for i, j in formed]
        push = [(i, j, _covalent_length(elements, i, j) + PUSH_MARGIN) for i, j in broken_bonds(reaction)]
        guesses[:0] = [("pulled", start_coords, pull, ())] + ([("pulled and pushed", start_coords, pull, push)]
                                                              if push else [])
    return guesses


def product_endpoint(reaction: Reaction, start, product_coords: list[np.ndarray], make_calc: Callable):
    """The band's product end: the first of ``product_guesses`` from ``start`` (ASE atoms) whose
    relaxation holds the products (``product_complex_status`` not 'rearranged'), and its name;
    raises RuntimeError naming what each guess gave when none does."""
    problems = []
    for how, guess, restraints, push in product_guesses(reaction, start.get_positions(), product_coords):
        trial = start.copy()
        trial.set_positions(guess)
        trial.calc = make_calc()
        try:
            relax(trial, restraints, push=push)
        except Exception as err:  # noqa: BLE001 - an SCF failure on one guess: try the next
            problems.append(f"{how}: {type(err).__name__}")
            continue
        status = product_complex_status(reaction, trial.get_positions())
        if status != "rearranged":
            return trial, how + (" (equivalent atoms)" if status == "equivalent atoms" else "")
        problems.append(f"{how}: rearranged")
    raise RuntimeError("no product complex: " + "; ".join(problems))


def band_start(reaction: Reaction, reactant_coords: np.ndarray) -> tuple:
    """(labelled reactant, band start, calculator factory): the reactant at ``reactant_coords`` (Å,
    its label geometry) and the start the band runs from, the reactive conformer where there is
    one (``reactive_reactant``), else that same labelled reactant; both ASE atoms with GFN2
    calculators at the reactant's charge and spin, which ``make_calc()`` gives for more atoms."""
    from sei_net.energy.gfn2 import GFN2Oracle

    reactant = reaction.reactants[0]
    oracle = GFN2Oracle()
    make_calc = lambda: oracle._calculator(reactant)  # noqa: E731 - the complex keeps the reactant's charge and spin
    labelled = reactant.with_coords(reactant_coords).to_ase()
    labelled.calc = make_calc()
    start = reactive_reactant(reaction, labelled, make_calc)
    return labelled, (labelled if start is None else start), make_calc


def _run(reaction, r_coords, p_coords, reactant_G, reactant_E, temperature, n_images, fmax, max_steps, rec):
    from ase.mep import NEB

    from sei_net.energy.thermo import free_energy

    if len(reaction.reactants) != 1 or reaction.electrons != 0 or reaction.atom_map is None:
        raise ValueError("NEB here needs one reactant, no electrons and an atom map")
    reactant = reaction.reactants[0]
    if sum(p.radicals for p in reaction.products) != reactant.radicals:
        raise ValueError("spin-changing step (e.g. homolysis of a closed shell): not on one GFN2 spin surface")
    labelled, start, calc = band_start(reaction, r_coords)
    e_label = float(labelled.get_potential_energy())
    if start is not labelled:
        rec.data["reactive_conformer_dE"] = round(float(start.get_potential_energy()) - e_label, 4)
    e_start = float(start.get_potential_energy())
    end, rec.data["product_endpoint"] = product_endpoint(reaction, start, p_coords, calc)
    e_end = float(end.get_potential_energy())
    rec.dE_reaction = e_end - e_label

    images = [start] + [start.copy() for _ in range(n_images)] + [end]
    for im in images[1:-1]:
        im.calc = calc()
    neb = NEB(images, k=SPRING, climb=False, method="improvedtangent", allow_shared_calculator=False)
    neb.interpolate("idpp")
    _optimise_band(neb, images, 0.3, max_steps)
    energies = np.array([float(im.get_potential_energy()) for im in images])
    rec.data.update(image_energies=(energies - e_start).round(4).tolist())
    _check_path(energies, e_start, e_end, images)
    top = int(np.argmax(energies))
    if top in (0, len(images) - 1) or energies[top] - max(e_start, e_end) < FLAT_TOLERANCE:
        _barrierless(rec, e_start, e_end, e_label)
        return
    neb.climb = True
    converged = _optimise_band(neb, images, fmax, max_steps)
    energies = np.array([float(im.get_potential_energy()) for im in images])
    top = int(np.argmax(energies))
    rec.data.update(image_energies=(energies - e_start).round(4).tolist(), converged=converged)
    _check_path(energies, e_start, e_end, images, climbing=True)
    if top in (0, len(images) - 1) or energies[top] - max(e_start, e_end) < FLAT_TOLERANCE:
        _barrierless(rec, e_start, e_end, e_label)
        return
    if not converged:
        raise RuntimeError("climbing-image NEB did not converge")
    ts = images[top]
    thermo = free_energy(ts, energies[top], reactant.multiplicity, temperature, transition_state=True)
    imaginary = sorted(f for f in thermo["frequencies_cm"] if f < 0)
    rec.data["imaginary_cm"] = imaginary
    if not imaginary or (len(imaginary) > 1 and abs(imaginary[1]) > NOISE_IMAGINARY_CM):
        raise RuntimeError(f"climbing image has imaginary modes {imaginary} cm-1, not one")
    if abs(imaginary[0]) < MIN_REACTION_MODE_CM:
        raise RuntimeError(f"reaction mode {imaginary[0]:.0f} cm-1 is softer than {MIN_REACTION_MODE_CM:.0f}i: a plateau")
    rec.imaginary_cm = thermo["imaginary_cm"]
    rec.dE_act = float(energies[top] - e_label)
    rec.dG_act = float(thermo["G"] - reactant_G + (reactant_E - e_label))
    rec.ts_coords = ts.get_positions().round(6).tolist()
    rec.status = "ok"
