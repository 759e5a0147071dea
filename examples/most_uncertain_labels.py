"""Write the label records of the N species an energy model's members disagree on most, from label
files of a network it has not seen: the picks of a retrospective `sei-net adapt` run.

Candidates are the species of LABELS with their own 'ok' record (so each pick is one record), more
than ``ORACLE_MAX_HEAVY`` heavy atoms, and in none of the model's split parts (``fit.unseen_species``
with its test part excluded); they are ranked by calibrated sigma (eV), largest first.

    python examples/most_uncertain_labels.py sei_net/data/models/energy_gfn2.pt 200 picks.jsonl.gz \
        data/labels/gfn2_ec_vc_lipf6.jsonl.gz data/labels/gfn2_ec_vc_lipf6_gen4.jsonl.gz
"""

from __future__ import annotations

import argparse
import gzip
import json

import numpy as np

from sei_net.learn.ensemble import EnergyEnsemble
from sei_net.learn.fit import unseen_species


def main(argv: list[str] | None = None) -> list[str]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="energy model file (.pt)")
    parser.add_argument("n", type=int, help="species to pick")
    parser.add_argument("out", help="label file to write (.jsonl.gz)")
    parser.add_argument("labels", nargs="+", help="label files (.jsonl.gz) of a network the model has not seen")
    args = parser.parse_args(argv)
    model = EnergyEnsemble.load(args.model, device="cpu")
    _, _, other, index = unseen_species(model, args.labels, exclude_test=True)
    index = np.array([i for i in index if other.status[i] == "ok"], dtype=np.int64)
    if len(index) < args.n:
        raise SystemExit(f"{len(index)} candidate species in {', '.join(args.labels)}, fewer than {args.n}")
    sigma = model.predict([other.species[i] for i in index]).sigma
    chosen = [other.keys[i] for i in index[np.argsort(-sigma, kind="stable")[:args.n]]]
    wanted, lines = set(chosen), []
    for path in args.labels:
        with gzip.open(path, "rt") as f:
            lines += [line for line in f if (r := json.loads(line))["key"] in wanted and r["status"] == "ok"]
    with gzip.open(args.out, "wt") as f:
        f.writelines(lines)
    print(f"wrote {args.out}: {len(lines)} records of the {args.n} species with the largest sigma")
    return chosen


if __name__ == "__main__":
    main()
