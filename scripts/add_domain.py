"""Record an energy model's applicability domain in its card (``learn.domain``), for models
trained before 2026-11-25, which lack it; members and calibration maps stay exactly as they are
(``sei-net recalibrate`` adds it too, but refits the maps).

    python scripts/add_domain.py sei_net/data/models/energy_gfn2.pt

The model's label files must be here (its split is rebuilt from the card: ``fit.split_of_card``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sei_net.learn.ensemble import EnergyEnsemble
from sei_net.learn.fit import split_of_card, training_domain


def add_domain(model_path: str | Path, out: str | Path | None = None) -> int:
    """Write the model at ``model_path`` (or to ``out``) with ``card['domain']`` from its training
    part and any species it was fine-tuned on; returns the number of environments."""
    model = EnergyEnsemble.load(model_path, device="cpu")
    data, parts = split_of_card(model.card)
    model.card["domain"] = training_domain(data, parts, model.card).to_card()
    model.save(out or model_path)
    return len(model.card["domain"]["environments"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="energy model file (.pt)")
    parser.add_argument("-o", "--out", help="write here instead of in place")
    args = parser.parse_args()
    n = add_domain(args.model, args.out)
    print(f"wrote {args.out or args.model}: {n} atom environments in its domain")


if __name__ == "__main__":
    main()
