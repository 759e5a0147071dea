"""Label the species of a network with an oracle: serially, or on a Dask cluster (a LocalCluster
of N single-threaded worker processes, or an existing scheduler). Results go to the label cache
as each one completes, so an interrupted run loses at most the calculations in flight; the
network's ``energies`` table is then filled from the cache (source = the oracle's name, at the
run's level of theory only: energies of that source at another level are removed first)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable, Sequence

from sei_net.chem.species import Species
from sei_net.energy.labels import LabelStore
from sei_net.energy.record import EnergyRecord, make_oracle


def _label_one(species_dict: dict, oracle_name: str, settings: dict) -> dict:
    """Worker task: one species in, one record (as a dict) out."""
    os.environ["OMP_NUM_THREADS"] = "1"
    oracle = make_oracle(oracle_name, **settings)
    return oracle.compute(Species.from_dict(species_dict)).to_dict()


def label_network(network: str | Path, oracle: str = "gfn2", labels: str | Path | None = None,
                  workers: int = 1, scheduler: str | None = None, retry_failed: bool = False,
                  max_heavy_atoms: int | None = None, limit: int | None = None,
                  progress: Callable[[int, int, EnergyRecord], None] | None = None,
                  keys: list[str] | None = None, resume_from: Sequence[str | Path] = (), **settings) -> dict:
    """Label every species of ``network`` lacking a record; returns counts and timing.

    ``labels`` defaults to ``labels.db`` next to the network. ``workers`` > 1 or ``scheduler``
    (tcp://HOST:PORT) uses Dask; ``max_heavy_atoms`` skips larger species; ``limit`` labels at most
    that many (smallest first) in this call; ``keys`` restricts the run to those species (in that
    order; active learning picks them). ``resume_from``: label exports whose records the cache
    lacks are added first (records it holds are kept), so a fresh machine resumes from the
    committed files.
    """
    from sei_net.store import NetworkStore

    network = Path(network)
    oracle_obj = make_oracle(oracle, **settings)
    level = oracle_obj.level_of_theory
    store = NetworkStore.open(network)
    cache = LabelStore(labels or network.with_name("labels.db"))
    try:
        for path in resume_from:
            cache.import_jsonl(path, replace=False)
        species = store.all_species()
        by_key = {s.key: s for s in species.values()
                  if max_heavy_atoms is None or s.n_heavy <= max_heavy_atoms}
        if keys is not None:
            missing = [k for k in keys if k not in by_key]
            if missing:
                raise ValueError(f"species {missing[0]!r} is not in {network.name} (or exceeds max_heavy_atoms)")
            order = list(dict.fromkeys(keys))
        else:
            order = sorted(by_key, key=lambda k: (by_key[k].n_atoms, k))
        todo = cache.todo(order, level, retry_failed)
        if limit is not None:
            todo = todo[:limit]
        t0 = time.perf_counter()
        payloads = [by_key[k].to_dict() for k in todo]
        done = 0
        for rec in _run(payloads, oracle, oracle_obj.settings(), workers, scheduler):
            cache.put([rec])
            done += 1
            if progress:
                progress(done, len(todo), rec)
        seconds = time.perf_counter() - t0
        key_to_id = {s.key: sid for sid, s in species.items()}
        rows = [{"species_id": key_to_id[key], "source": oracle, "level_of_theory": level, "G": g, "E": e,
                 "temperature": t, "data": {"status": status, "n_imaginary": n_imag}}
                for key, status, e, g, t, n_imag in cache.usable(level) if key in key_to_id]
        replaced = store.drop_other_levels(oracle, level)   # the network's source holds one level
        store.set_energies(rows)
        other = {lv: sum(cache.counts(lv).values()) for lv in sorted(cache.levels() - {level})}
        return {"level_of_theory": level, "computed": done, "seconds": round(seconds, 3),
                "energies_written": len(rows), "cache": cache.counts(level),
                "skipped_by_size": len(species) - len(by_key), "other_levels": other,
                "dropped_other_level_energies": replaced}
    finally:
        cache.close()
        store.close()


def _run(payloads: list[dict], oracle: str, settings: dict, workers: int, scheduler: str | None):
    """Yield EnergyRecords as they complete."""
    if not payloads:
        return
    if scheduler is None and workers <= 1:
        for p in payloads:
            yield EnergyRecord.from_dict(_label_one(p, oracle, settings))
        return
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, env={"OMP_NUM_THREADS": "1"})
    client = Client(scheduler or cluster)
    futures = []
    try:
        futures = client.map(_label_one, payloads, oracle_name=oracle, settings=settings, pure=False)
        for fut in as_completed(futures):
            yield EnergyRecord.from_dict(fut.result())
    finally:
        # an interrupted run leaves tasks in flight: cancel them so that the workers are idle when
        # the connections close (otherwise they log CommClosedError on the way down)
        client.cancel([f for f in futures if not f.done()])
        client.close()
        if cluster is not None:
            cluster.close()
