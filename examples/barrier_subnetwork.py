"""A network file holding only the reactions of barrier datasets: to relabel and rerun just those.

Reads NEB barrier datasets (``sei-net neb --export``; each line carries its reaction) and writes a
network file with the reactions of the chosen kinds and statuses and their species, so that
``sei-net label`` and ``sei-net neb`` can repeat exactly those reactions at another level (more
conformers, more images) without labelling the whole network they came from:

    python examples/barrier_subnetwork.py data/barriers/gfn2_neb_ec_lipf6.jsonl.gz \
        --kind ring_opening --kind ring_closing --status ok --status barrierless -o out/ring3c/ring.db
    sei-net label out/ring3c/ring.db --labels out/ring3c/labels.db --conformers 3
    sei-net neb out/ring3c/ring.db --labels out/ring3c/labels.db --conformers 3 --export out/ring3c/ring3c.jsonl.gz
    python examples/neb_repeat.py out/ring3c/ring3c.jsonl.gz data/barriers/gfn2_neb_ec_lipf6.jsonl.gz

``--keys FILE`` keeps only the reactions whose keys the file lists (``examples/neb_endpoint_screen.py``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sei_net.learn.barrier_data import dataset_lines, reaction_from_dict
from sei_net.store.db import NetworkStore


def dataset_reactions(paths: list[str], kinds: set[str] | None, statuses: set[str] | None,
                      keys: set[str] | None = None) -> list:
    """The reactions of the dataset lines whose kind, status and reaction key are chosen (None:
    any), by key."""
    out = {}
    for path in paths:
        for d in dataset_lines(path):
            if (not kinds or d["reaction"]["kind"] in kinds) and (not statuses or d["status"] in statuses):
                reaction = reaction_from_dict(d["reaction"])
                if not keys or reaction.key in keys:
                    out[reaction.key] = reaction
    return list(out.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="+", help="barrier datasets (.jsonl.gz)")
    parser.add_argument("--kind", action="append", help="reaction kind to keep (repeatable; default: all)")
    parser.add_argument("--status", action="append", help="record status to keep: ok, barrierless, failed "
                        "(repeatable; default: all)")
    parser.add_argument("--keys", help="file of reaction keys to keep, one per line (for instance from "
                        "examples/neb_endpoint_screen.py; default: all)")
    parser.add_argument("-o", "--out", required=True, help="network file to write (.db; must not exist)")
    args = parser.parse_args(argv)
    if Path(args.out).exists():
        raise SystemExit(f"{args.out} exists; give a new network file")
    keys = set(Path(args.keys).read_text().split()) if args.keys else None
    reactions = dataset_reactions(args.datasets, set(args.kind or ()), set(args.status or ()), keys)
    if not reactions:
        raise SystemExit(f"no reaction of kind {args.kind or 'any'} and status {args.status or 'any'}"
                         f"{' among the keys of ' + args.keys if args.keys else ''} in {', '.join(args.datasets)}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with NetworkStore.create(args.out, name=Path(args.out).stem) as store:
        store.add_reactions(reactions)
        n_species = len(store.species_ids)
    print(f"wrote {args.out}: {len(reactions)} reactions, {n_species} species")
    return len(reactions)


if __name__ == "__main__":
    main()
