"""Put a trained energy model's members back into a checkpoint folder, so that ``sei-net train``
with the model's own arguments resumes from them: members that pass the training checks
(``EnergyEnsemble.train``) are loaded, those that fail are trained again, and the ensemble is
recalibrated and re-tested. For a model trained before a check existed:

    python scripts/members_to_checkpoint.py out/models/energy_pinned3_size.pt out/models/fixed.members
    sei-net train <the card's label files> --network ... --split size --workers 2 \
        --checkpoint out/models/fixed.members -o out/models/fixed.pt
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sei_net.learn.checkpoint import MemberCheckpoints, training_fingerprint
from sei_net.learn.dataset import start_graph_bounds
from sei_net.learn.ensemble import EnergyEnsemble
from sei_net.learn.fit import split_of_card
from sei_net.learn.train import TrainConfig


def members_to_checkpoint(model_path: str | Path, folder: str | Path) -> int:
    """Write the members of the energy model at ``model_path`` into checkpoint ``folder`` under the
    fingerprint its training run had; returns how many. Raises ValueError when the model or its
    label files cannot be read, the labels changed since training, or ``folder`` holds another run."""
    model = EnergyEnsemble.load(model_path, device="cpu")
    card = model.card
    data, parts = split_of_card(card)
    train, val = data.subset(parts["train"]), data.subset(parts["val"])
    bounds = start_graph_bounds(data, train.keys) if card.get("lower_bounds") else None
    if bounds is not None and len(bounds) != card["lower_bounds"]:
        raise ValueError(f"{len(bounds)} lower bounds rebuilt, the card says {card['lower_bounds']}; "
                         "the label files changed since the model was trained")
    config = TrainConfig(**card["config"])
    saved = MemberCheckpoints(folder, training_fingerprint(train, val, config.to_dict(), card["seed"], bounds))
    for m, (member, summary) in enumerate(zip(model.members, card["members"])):
        saved.save(m, member, summary)
    return len(model.members)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a trained energy model (.pt) whose labels are still on disk")
    parser.add_argument("folder", help="checkpoint folder to create (new or empty)")
    args = parser.parse_args(argv)
    try:
        n = members_to_checkpoint(args.model, args.folder)
    except ValueError as err:
        raise SystemExit(f"error: {err}") from None
    print(f"{n} members of {args.model} in {args.folder}")


if __name__ == "__main__":
    main()
