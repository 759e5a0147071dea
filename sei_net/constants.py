"""Physical constants and documented settings (SI-derived; energies in eV)."""

BOLTZMANN_EV = 8.617333262e-5        # eV/K
PLANCK_EV = 4.135667696e-15          # eV s
AVOGADRO = 6.02214076e23             # 1/mol
HARTREE_EV = 27.211386245988         # eV (CODATA 2018)

#: Electron free energy at the electrode: G_e(U) = -(U + ELECTRON_FREE_ENERGY_OFFSET) eV for U in
#: V vs Li/Li+ (DESIGN.md: 1.40 eV, so 0 V vs Li/Li+ is -1.40 eV: the absolute Li/Li+ potential
#: of ~1.4 V on the scale that the DFT free energies of the reference networks use).
ELECTRON_FREE_ENERGY_OFFSET = 1.40


#: Offsets for energy sources whose absolute electron energies are on another scale (eV). GFN2-xTB's
#: absolute electron affinities are off by volts; its constant is fitted so that Li+(EC) + e- -> LiEC
#: reduces at the measured 0.7-0.8 V (``sei_net.energy.electrode_scale``, docs/energy.md; the fit
#: gives 5.833 eV on the shipped labels, and the fit to the RNMC DFT reductions 5.92 eV).
ELECTRON_OFFSETS: dict[str, float] = {"gfn2": 5.83}


#: Species of at most this many heavy (non-H) atoms are the oracle's, never the surrogate's: few
#: (102-152 in each network the shipped labels come from), seconds each to label, and hubs (CO2
#: sits in 479 labelled reactions of the training networks), so one mispredicted small species
#: moves hundreds of reaction energies. The main job labels those it lacks before scoring, and the
#: energy surrogate's splits train on them (docs/surrogates.md, "Small species are the oracle's").
ORACLE_MAX_HEAVY = 3

#: CI-NEB moving images per band unless a run asks for more (another count is another level of theory)
NEB_IMAGES = 7
#: FIRE steps per NEB phase (band to 0.3 eV/Å, then climbing image to fmax) unless a run asks for more
NEB_MAX_STEPS = 600

#: the barrier source of learned intrinsic barriers (``sei_net.learn.score.score_barriers``)
BARRIER_SOURCE = "neb-surrogate"

#: a surrogate trained on an oracle's labels stores its energies as source ``<oracle>-surrogate``
SURROGATE_SUFFIX = "-surrogate"


def oracle_of(source: str) -> str:
    """The oracle behind an energy source: ``gfn2`` for ``gfn2-surrogate``, the source itself else."""
    return source.removesuffix(SURROGATE_SUFFIX)


def electron_offset_for(source: str) -> float:
    """The electron free-energy offset (eV) that goes with energies from ``source``; a surrogate
    takes its oracle's."""
    return ELECTRON_OFFSETS.get(oracle_of(source), ELECTRON_FREE_ENERGY_OFFSET)


def electron_free_energy(potential: float, offset: float = ELECTRON_FREE_ENERGY_OFFSET) -> float:
    """Electron free energy (eV) at electrode potential ``potential`` (V vs Li/Li+)."""
    return -(potential + offset)
