"""Which NEB runs would today's product-endpoint guesses set up differently? A screen, no bands.

For every reaction of the chosen kind (default: concerted shifts) in barrier datasets (later files
win a reaction, as in training) whose record did not get its product end from the first guess
('pulled': the formed bonds pulled in; ``energy.neb``), this sets the band's ends up again with
today's code from the same labelled reactant (``neb.band_start``: the reactive conformer, then
``neb.product_endpoint``: the guesses in order) and names the guess that wins now. Reactions whose
end now comes from another guess than the record's (one the records' code did not have: 'pulled and pushed', or any
guess reaching the products with like atoms in other roles, 'equivalent atoms'; or 'pulled', where
the record predates the reactive conformer) are written to ``--keys``, one reaction key per line:
the ones worth a new band (``examples/barrier_subnetwork.py --keys``, then ``sei-net neb``).

    python examples/neb_endpoint_screen.py data/barriers/gfn2_neb_*.jsonl.gz \\
        --labels out/labelling/labels.db --keys out/concerted_push/keys.txt --shard 0/2

Level: GFN2-xTB/GBE(eps=18.5) relaxations (``energy.gfn2``); endpoint energies in eV.
"""

from __future__ import annotations

import argparse
import os
from collections import Counter
from pathlib import Path

import numpy as np

from sei_net.energy.neb import band_start, product_endpoint
from sei_net.learn.barrier_data import dataset_lines, reaction_from_dict


def latest_records(paths: list[str], kind: str) -> list[tuple]:
    """(reaction, record) of the last line per reaction of ``kind`` over the files, in file order."""
    latest: dict[str, tuple] = {}
    for path in paths:
        for d in dataset_lines(path):
            if d["reaction"]["kind"] == kind:
                reaction = reaction_from_dict(d["reaction"])
                latest[reaction.key] = (reaction, d)
    return list(latest.values())


def is_new_end(now: str, recorded: str | None) -> bool:
    """Whether today's product end (its guess's name) differs from the record's: a band worth
    running again. 'none: ...' (no end today) never is."""
    return not now.startswith("none") and now != recorded


def screen(reaction, record: dict, labels) -> str:
    """The name of the product end today's guesses give, or 'none: REASON'."""
    rec_r = labels.get(reaction.reactants[0].key, record["label_level"])
    rec_p = [labels.get(p.key, record["label_level"]) for p in reaction.products]
    if rec_r is None or any(p is None for p in rec_p):
        return "none: endpoint labels missing"
    try:
        _, start, make_calc = band_start(reaction, np.asarray(rec_r.coords))
        return product_endpoint(reaction, start, [np.asarray(p.coords) for p in rec_p], make_calc)[1]
    except Exception as err:  # noqa: BLE001 - SCF failures are data here
        return f"none: {type(err).__name__}"


def main(argv: list[str] | None = None) -> Counter:
    from sei_net.energy.labels import LabelStore

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="+", help="barrier datasets (.jsonl.gz), in data-card order")
    parser.add_argument("--labels", required=True, help="label cache holding the records' endpoint labels")
    parser.add_argument("--kind", default="concerted", help="reaction kind to screen (default: concerted)")
    parser.add_argument("--keys", required=True, help="append the keys of reactions with a new end here")
    parser.add_argument("--shard", default="0/1", help="K/N: screen every N-th reaction from the K-th")
    args = parser.parse_args(argv)
    k, n = (int(x) for x in args.shard.split("/"))
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    todo = [(r, d) for r, d in latest_records(args.datasets, args.kind)
            if (d.get("data") or {}).get("product_endpoint") != "pulled"][k::n]
    crossed: Counter = Counter()
    Path(args.keys).parent.mkdir(parents=True, exist_ok=True)
    with LabelStore(args.labels) as labels, open(args.keys, "a") as keys:
        for i, (reaction, d) in enumerate(todo, 1):
            now, recorded = screen(reaction, d, labels), (d.get("data") or {}).get("product_endpoint")
            before = f"{d['status']}, {recorded or 'no product end'}"
            crossed[(before, now)] += 1
            if is_new_end(now, recorded):
                keys.write(reaction.key + "\n")
                keys.flush()
            print(f"[{i}/{len(todo)}] {before} -> {now}", flush=True)
    print("\n| record (status, product end) | product end now | reactions |\n|---|---|---|")
    for (before, now), count in sorted(crossed.items()):
        print(f"| {before} | {now} | {count} |")
    return crossed


if __name__ == "__main__":
    main()
