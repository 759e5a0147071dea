"""Deep ensembles of species energy networks, with calibrated uncertainty.

A member m predicts, for species i, a free energy mu_im and an aleatoric variance s2_im (eV, eV^2):
mu = baseline(composition, charge) + mean + std * network_mean, s2 = std^2 * network_variance. The
ensemble's predictive distribution (Lakshminarayanan et al. 2017; Busk et al. 2022):
  mean      = mean_m mu_im
  epistemic = var_m mu_im            (disagreement of the members)
  aleatoric = mean_m s2_im           (noise the members expect in the labels)
  total     = epistemic + aleatoric, then recalibrated by an isotonic map fitted on held-out data
              (of the sum; optionally of a likelihood-fitted blend of the two parts: ``calibration``);
the recalibration scales both parts by the same factor, so they stay apart. Reaction uncertainties
come from member-wise reaction energies (``reaction_uncertainty``), never from summed variances.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from sei_net.chem.species import Species
from sei_net.learn.batching import collate
from sei_net.learn.calibration import IsotonicVarianceMap
from sei_net.learn.dataset import ElementBaseline, LabelledSpecies
from sei_net.learn.features import SpeciesGraph, featurise
from sei_net.learn.model import EnergyNet
from sei_net.learn.train import TrainConfig, largest_miss, train_member
from sei_net.parent_watch import exit_with_parent

FORMAT_VERSION = 1
#: a member that early-stopped (its validation error stopped improving before the epoch budget
#: ran out) with a best validation MSE above this (standardised residual units: 1.0 is a constant
#: prediction) explains less than half the label variance: a failed optimisation, retrained with
#: another seed (seen once: 0.96 beside siblings at 0.04-0.05). A member still improving when the
#: epochs ran out is under-trained by choice and kept.
FAILED_MEMBER_VAL_MSE = 0.5
#: a member that early-stopped with a kept state that misses a training label (or falls below a
#: lower bound) by more than this (eV) has broken on chemistry its validation part does not show,
#: and is retrained with another seed too. Seen once: a size-split member put PF6- 125 eV and four
#: other phosphorus fluorides (LiPF6, PF5, Li2PF6+, PF4) 10-68 eV off while its validation MSE
#: matched its siblings'. Healthy members miss no training label by more than 0.6-2.0 eV, and
#: one shipped member by 6.0 eV (a difluoro dicarbonate dianion that a sibling fits to 0.3 eV):
#: poor, not broken.
FAILED_MEMBER_TRAIN_MISS_EV = 10.0
#: retries of a failed member; attempt a uses seed + m + RETRY_SEED_STRIDE * a
MAX_MEMBER_RETRIES = 2
RETRY_SEED_STRIDE = 1000


def resolve_device(device: str = "auto") -> str:
    """'auto' is cuda when torch sees a GPU, else cpu; anything else is passed to torch."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        torch.device(device)
    except RuntimeError:
        raise ValueError(f"device {device!r} is not valid; use auto, cpu, cuda or cuda:N") from None
    return device


def write_model_file(path: str | Path, payload: dict) -> None:
    """Save a model payload (plain types and tensors) atomically: a killed save leaves the old file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def read_model_file(path: str | Path, kind: str, version: int, made_by: str) -> dict:
    """A model payload of ``kind`` and format ``version`` (weights_only load); one clear error otherwise."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"model file {str(path)!r} does not exist; give a file written by {made_by} or 'default'")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ValueError(f"{str(path)!r} is not a sei_net model file ({type(err).__name__})") from None
    if not isinstance(payload, dict) or payload.get("kind") != kind or payload.get("format") != version:
        raise ValueError(f"{str(path)!r} is not a sei_net {kind} model (format {version})")
    return payload


def load_members(net_class, payload: dict) -> list:
    """The member networks of a model payload, in evaluation mode (on the CPU)."""
    members = []
    for state in payload["states"]:
        model = net_class(**payload["config"])
        model.load_state_dict(state)
        model.eval()
        members.append(model)
    return members


def _member_from_state(state: dict, config: TrainConfig, device: str) -> EnergyNet:
    return load_members(EnergyNet, {"config": config.network_config(), "states": [state]})[0].to(device)


@dataclass
class _MemberJob:
    """What every member of one ensemble trains on (standardised targets), and its retry rule."""

    train_graphs: list
    train_y: np.ndarray
    val_graphs: list
    val_y: np.ndarray
    config: TrainConfig
    seed: int
    bound_graphs: list
    bound_y: np.ndarray | None
    y_scale: float
    train_keys: Sequence[str] = ()
    bound_keys: Sequence[str] = ()

    def run(self, m: int, device: str, log: Callable[[dict], None] | None = None,
            failed: Sequence[dict] = ()) -> tuple[EnergyNet, dict]:
        """Train member ``m`` (seed + m); a member that failed (``verdict``) is trained again with
        another seed, up to ``MAX_MEMBER_RETRIES`` times. ``failed``: attempts already made and
        failed (a member loaded from a checkpoint that failed the check). Returns the model and
        its summary (with ``failed_attempts`` when there were any)."""
        retried = list(failed)
        for attempt in range(len(retried), MAX_MEMBER_RETRIES + 1):
            member_seed = self.seed + m + RETRY_SEED_STRIDE * attempt
            model, hist = train_member(self.train_graphs, self.train_y, self.val_graphs, self.val_y, member_seed,
                                       self.config, device, log, self.bound_graphs, self.bound_y,
                                       self.y_scale)
            best = next((h for h in reversed(hist) if h["kept"]), hist[-1])
            summary, why = self.verdict(model, {"epochs": len(hist), "best_epoch": best["epoch"],
                                                "val_mse": best["val_mse"], "val_nll": best["val_nll"],
                                                "seed": member_seed}, device)
            if why is None or attempt == MAX_MEMBER_RETRIES:
                break
            retried.append(why)
        return model, {**summary, **({"failed_attempts": retried} if retried else {})}

    def verdict(self, model: EnergyNet, summary: dict, device: str) -> tuple[dict, dict | None]:
        """(``summary`` with the member's largest training miss added, why it failed or None).

        Failed: it early-stopped with a validation MSE above ``FAILED_MEMBER_VAL_MSE``, or with a
        state that misses a training label or falls below a lower bound by more than
        ``FAILED_MEMBER_TRAIN_MISS_EV``. A member still improving when the epochs ran out is
        under-trained by choice and never fails."""
        miss, where = largest_miss(model, self.train_graphs, self.train_y, device)
        bound_miss, bound_where = largest_miss(model, self.bound_graphs,
                                               np.asarray(self.bound_y if self.bound_y is not None else []),
                                               device, lower_bounds=True)
        keys = self.train_keys
        if bound_miss > miss:
            miss, where, keys = bound_miss, bound_where, self.bound_keys
        summary = {**summary, "max_train_miss_eV": round(miss * self.y_scale, 3)}
        if 0 <= where < len(keys):
            summary["max_train_miss_species"] = keys[where]
        if summary["epochs"] >= self.config.epochs:
            return summary, None
        if summary["val_mse"] > FAILED_MEMBER_VAL_MSE or summary["max_train_miss_eV"] > FAILED_MEMBER_TRAIN_MISS_EV:
            return summary, {k: summary[k] for k in ("seed", "val_mse", "max_train_miss_eV",
                                                      "max_train_miss_species") if k in summary}
        return summary, None


_WORKER_JOB: _MemberJob | None = None


def _start_member_worker(job: _MemberJob) -> None:
    global _WORKER_JOB
    exit_with_parent()                                       # no orphan left training if the run is killed
    torch.set_num_threads(1)
    _WORKER_JOB = job


def _train_member_in_worker(m: int, failed: Sequence[dict] = ()) -> tuple[int, dict, dict]:
    model, summary = _WORKER_JOB.run(m, "cpu", failed=failed)
    return m, {k: v.detach().cpu() for k, v in model.state_dict().items()}, summary


@dataclass
class EnsemblePrediction:
    """Member outputs for n species: ``members`` (n, M) free energies in eV, ``member_variance``
    (n, M) aleatoric variances in eV^2, and the recalibration map (None: uncalibrated)."""

    members: np.ndarray
    member_variance: np.ndarray
    calibration: IsotonicVarianceMap | None = None

    @property
    def mean(self) -> np.ndarray:
        return self.members.mean(axis=1)

    @property
    def epistemic(self) -> np.ndarray:
        return self.members.var(axis=1)

    @property
    def aleatoric(self) -> np.ndarray:
        return self.member_variance.mean(axis=1)

    @property
    def variance(self) -> np.ndarray:
        """Total predictive variance (eV^2), recalibrated when a map is attached."""
        if self.calibration is None:
            return self.epistemic + self.aleatoric
        return self.calibration.recalibrate(self.epistemic, self.aleatoric)

    @property
    def sigma(self) -> np.ndarray:
        return np.sqrt(self.variance)

    @property
    def calibrated_members(self) -> np.ndarray:
        """Members (n, M, eV) spread to carry the whole calibrated uncertainty: member m of species
        i is mean_i + k_i (mu_im - mean_i), with k_i^2 = variance_i / epistemic_i, so the spread
        over members (population variance) is the recalibrated total variance, aleatoric part
        included, and members still move together across species (a member that is high on one
        species is high on a related one, so shared errors still cancel in reaction energies).
        Where the members agree (to rounding) they are spread in a zero-mean pattern whose
        order is shuffled from species to species (fixed seed), so such species are not made to
        move together; a single member is returned as it is.
        This is what a scored network stores (``score.score_network``): path and product
        probabilities over members then see the calibrated uncertainty, not the raw disagreement."""
        M = self.members.shape[1]
        if M < 2:
            return self.members.copy()                   # one member cannot carry a spread
        mean = self.mean[:, None]
        deviation = self.members - mean
        epistemic = self.epistemic
        # agreeing members still differ from their mean by rounding (~1e-13 eV at 1,000 eV): count
        # a spread below 1e-9 of the energy as none
        flat = ~(np.sqrt(epistemic) > 1e-9 * np.maximum(1.0, np.abs(self.mean)))
        pattern = np.arange(M) - (M - 1) / 2.0
        order = np.random.default_rng(0).permuted(np.tile(np.arange(M), (int(flat.sum()), 1)), axis=1)
        deviation[flat] = (pattern / pattern.std())[order]
        scale = np.sqrt(self.variance / np.where(flat, 1.0, epistemic))
        return mean + scale[:, None] * deviation

    @property
    def calibration_factor(self) -> np.ndarray:
        """Recalibrated over raw total variance: multiply the epistemic and aleatoric parts by it."""
        raw = self.epistemic + self.aleatoric
        return np.ones_like(raw) if self.calibration is None else self.variance / raw


def reaction_uncertainty(stoichiometry, prediction: EnsemblePrediction,
                         calibration: IsotonicVarianceMap | None = None) -> EnsemblePrediction:
    """Reaction energies from species predictions, member by member.

    ``stoichiometry``: (n_reactions, n_species) matrix (scipy sparse or dense), +nu for products and
    -nu for reactants (electrons excluded: their energy is exact and adds the same to every member).
    Each member's reaction energy is nu @ mu_m, so an error shared by the species on both sides
    cancels within every member; the epistemic variance is the spread of those reaction energies.
    The aleatoric variance is nu^2 @ mean_m s2 (label noise independent between species)."""
    members = np.asarray(stoichiometry @ prediction.members)
    nu2 = stoichiometry.multiply(stoichiometry) if hasattr(stoichiometry, "multiply") else np.asarray(stoichiometry) ** 2
    aleatoric = np.asarray(nu2 @ prediction.member_variance)
    return EnsemblePrediction(members, aleatoric, calibration)


@dataclass
class EnergyEnsemble:
    """A trained ensemble: members, the per-element baseline, target scaling, recalibration maps
    (``species``, ``reaction``, ``reaction_labels_kept``) and a model card (data, splits, metrics)."""

    members: list[EnergyNet]
    baseline: ElementBaseline
    y_mean: float
    y_std: float
    level_of_theory: str
    calibration: dict[str, IsotonicVarianceMap] = field(default_factory=dict)
    card: dict = field(default_factory=dict)
    device: str = "cpu"

    # ------------------------------------------------------------------ training
    @classmethod
    def train(cls, train: LabelledSpecies, val: LabelledSpecies, n_members: int = 5,
              config: TrainConfig = TrainConfig(), seed: int = 0, device: str = "auto",
              log: Callable[[int, dict], None] | None = None,
              checkpoint: str | Path | None = None,
              bounds: LabelledSpecies | None = None, workers: int = 1) -> "EnergyEnsemble":
        """Fit the baseline on ``train`` and train ``n_members`` networks with seeds seed..seed+M-1
        (different initialisation and data order), early-stopped on ``val``. A member whose
        early stop says it failed (``_MemberJob.verdict``: it did not learn, ``FAILED_MEMBER_VAL_MSE``,
        or broke on training labels, ``FAILED_MEMBER_TRAIN_MISS_EV``) is trained again with another
        seed, up to ``MAX_MEMBER_RETRIES`` times; the card records each failed attempt.

        ``checkpoint``: a folder where each finished member is stored; members already there (from
        a killed run with the same data, settings and seed) are loaded instead of trained again,
        unless they fail the same check.
        ``bounds``: species whose G (eV) is only a lower bound (``dataset.start_graph_bounds``).
        ``workers`` > 1 (CPU only): members train in that many processes of one thread each, and
        ``log`` is not called; a member is the same as when trained alone (same seed, same data order)."""
        from sei_net.learn.checkpoint import MemberCheckpoints, training_fingerprint  # it imports this module

        if workers < 1:
            raise ValueError(f"workers={workers} is not valid; give 1 (train in this process) or more")
        device = resolve_device(device)
        if workers > 1 and device != "cpu":
            raise ValueError(f"workers={workers} trains members in CPU processes; with device "
                             f"{device!r} use workers=1")
        bounds = bounds if bounds is not None and len(bounds) else None
        saved = None if checkpoint is None else MemberCheckpoints(
            checkpoint, training_fingerprint(train, val, config.to_dict(), seed, bounds))
        train_graphs = [featurise(s) for s in train.species]
        val_graphs = [featurise(s) for s in val.species]
        def baseline_inputs(data: LabelledSpecies, graphs) -> tuple[np.ndarray, np.ndarray]:
            return np.stack([g.composition for g in graphs]), np.array([s.charge for s in data.species])

        train_inputs = baseline_inputs(train, train_graphs)
        baseline = ElementBaseline.fit(*train_inputs, train.G)
        resid = train.G - baseline(*train_inputs)
        y_mean, y_std = float(resid.mean()), float(resid.std()) or 1.0
        ty = (resid - y_mean) / y_std
        vy = (val.G - baseline(*baseline_inputs(val, val_graphs)) - y_mean) / y_std
        bound_graphs = [] if bounds is None else [featurise(s) for s in bounds.species]
        by = None if bounds is None else \
            (bounds.G - baseline(*baseline_inputs(bounds, bound_graphs)) - y_mean) / y_std
        job = _MemberJob(train_graphs, ty, val_graphs, vy, config, seed, bound_graphs, by, y_std,
                         list(train.keys), [] if bounds is None else list(bounds.keys))
        finished: dict[int, tuple[EnergyNet, dict]] = {}
        failed: dict[int, list[dict]] = {}             # saved members that fail the check: retrained
        for m in range(n_members):
            done = None if saved is None else saved.load(m)
            if done is not None:
                model = _member_from_state(done[0], config, device)
                summary, why = job.verdict(model, done[1], device)
                earlier = summary.get("failed_attempts", [])
                if why is None or len(earlier) >= MAX_MEMBER_RETRIES:
                    finished[m] = (model, summary)
                else:
                    failed[m] = [*earlier, why]
        todo = [m for m in range(n_members) if m not in finished]

        def keep(m: int, model: EnergyNet, summary: dict) -> None:
            finished[m] = (model, summary)
            if saved is not None:
                saved.save(m, model, summary)

        if workers > 1 and len(todo) > 1:
            context = multiprocessing.get_context("spawn")     # no fork of a process that holds torch threads
            with ProcessPoolExecutor(min(workers, len(todo)), mp_context=context,
                                     initializer=_start_member_worker, initargs=(job,)) as pool:
                for future in as_completed([pool.submit(_train_member_in_worker, m, failed.get(m, ()))
                                         for m in todo]):
                    m, state, summary = future.result()
                    keep(m, _member_from_state(state, config, device), summary)
        else:
            for m in todo:
                keep(m, *job.run(m, device, None if log is None else (lambda rec, m=m: log(m, rec)),
                                 failed.get(m, ())))
        members = [finished[m][0] for m in range(n_members)]
        histories = [finished[m][1] for m in range(n_members)]
        card = {"train_size": len(train), "val_size": len(val), "config": config.to_dict(), "seed": seed,
                "lower_bounds": 0 if bounds is None else len(bounds),
                "members": histories, "baseline_elements": list(baseline.elements),
                "residual_std_eV": y_std}
        return cls(members, baseline, y_mean, y_std, train.level_of_theory, {}, card, device)

    # ------------------------------------------------------------------ prediction
    def predict_graphs(self, graphs: Sequence[SpeciesGraph], charges: np.ndarray,
                       batch_size: int = 2048) -> EnsemblePrediction:
        """Member predictions for featurised species (NaN for species with elements the baseline
        never saw: the model knows nothing of them)."""
        n, M = len(graphs), len(self.members)
        mu = np.empty((n, M))
        s2 = np.empty((n, M))
        with torch.inference_mode():
            for start in range(0, n, batch_size):
                batch = collate(graphs[start:start + batch_size]).to(self.device)
                for m, model in enumerate(self.members):
                    mean, var = model(batch)
                    mu[start:start + len(mean), m] = mean.double().cpu().numpy()
                    s2[start:start + len(mean), m] = var.double().cpu().numpy()
        comp = np.stack([g.composition for g in graphs]) if n else np.zeros((0, len(self.baseline.coef) - 1))
        base = self.baseline(comp, np.asarray(charges, dtype=float)) + self.y_mean
        mu = base[:, None] + self.y_std * mu
        s2 = self.y_std ** 2 * s2
        unknown = ~self.baseline.knows(comp)
        mu[unknown] = np.nan
        s2[unknown] = np.nan
        return EnsemblePrediction(mu, s2, self.calibration.get("species"))

    def predict(self, species: Sequence[Species], batch_size: int = 2048) -> EnsemblePrediction:
        """Member free energies (eV) and aleatoric variances (eV^2) for species."""
        return self.predict_graphs([featurise(s) for s in species], np.array([s.charge for s in species]),
                                   batch_size)

    def calibrate(self, kind: str, prediction: EnsemblePrediction, target: np.ndarray,
                  blend: bool = False) -> IsotonicVarianceMap:
        """Fit and attach the ``kind`` ('species', 'reaction' or 'reaction_labels_kept')
        recalibration map on held-out predictions and their oracle values (eV), on the sum of the
        two variance parts (``blend=True``: on their likelihood-fitted blend, ``calibration``)."""
        self.calibration[kind] = IsotonicVarianceMap.fit_parts(prediction.epistemic, prediction.aleatoric,
                                                               prediction.mean - np.asarray(target), blend)
        return self.calibration[kind]

    def to(self, device: str) -> "EnergyEnsemble":
        self.device = resolve_device(device)
        for model in self.members:
            model.to(self.device)
        return self

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> None:
        """One torch file (float32 weights, plain-type metadata), loadable with weights_only."""
        payload = {
            "format": FORMAT_VERSION, "kind": "energy",
            "config": self.members[0].config,
            "states": [{k: v.detach().cpu() for k, v in m.state_dict().items()} for m in self.members],
            "baseline": {"coef": self.baseline.coef.tolist(), "elements": list(self.baseline.elements)},
            "y_mean": self.y_mean, "y_std": self.y_std, "level_of_theory": self.level_of_theory,
            "calibration": {k: v.to_dict() for k, v in self.calibration.items()},
            "card": self.card,
        }
        write_model_file(path, payload)

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> "EnergyEnsemble":
        payload = read_model_file(path, "energy", FORMAT_VERSION, "sei-net train")
        members = load_members(EnergyNet, payload)
        baseline = ElementBaseline(np.asarray(payload["baseline"]["coef"]), tuple(payload["baseline"]["elements"]))
        calibration = {k: IsotonicVarianceMap.from_dict(v) for k, v in payload["calibration"].items()}
        return cls(members, baseline, payload["y_mean"], payload["y_std"], payload["level_of_theory"],
                   calibration, payload["card"]).to(device)
