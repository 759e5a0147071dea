"""Refit a trained energy model's recalibration maps and re-measure it, members unchanged.

The card names the model's labels, split and seed; the calibration and test parts are rebuilt from
them (refused when the label files changed since training), the maps are fitted again with the
current rule (``sei_net.learn.calibration``) and the card's held-out figures, including the
re-drawn ``test_resampled`` ones of a random split, are measured again. The networks that gave the reaction figures
are rebuilt with ``sei-net build`` (the card names them; ec_fec_lipf6 and ec_vc_lipf6 with
``--max-generations 3``, the depth they were labelled at: data/labels/README.md).

    python examples/recalibrate.py sei_net/data/models/energy_gfn2.pt            # in place
    python examples/recalibrate.py MODEL.pt -o NEW.pt --network ec.db --network fec.db

Figures in eV (surrogate minus oracle).
"""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path

from sei_net.learn.ensemble import EnergyEnsemble
from sei_net.learn.evaluate import labelled_reactions
from sei_net.learn.fit import RESAMPLED_DRAWS, calibrate_and_test, split_of_card


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="energy model file (.pt)")
    parser.add_argument("-o", "--out", help="write here (default: replace MODEL)")
    parser.add_argument("--network", action="append", help="network(s) for the reaction figures "
                        "(default: those the card names)")
    args = parser.parse_args(argv)

    model = EnergyEnsemble.load(args.model, device="cpu")
    networks = args.network or model.card.get("networks", [])
    missing = [n for n in networks if not Path(n).is_file()]
    if missing:
        raise SystemExit(f"network {missing[0]} does not exist; build it with sei-net build (the card names "
                         f"{model.card.get('networks')}) or give --network")
    data, parts = split_of_card(model.card)
    stoich = labelled_reactions(networks, data.keys) if networks else None
    before = model.card.get("test", {})
    draws = RESAMPLED_DRAWS if model.card["split"] == "random" else 0   # a size split's test part is not a draw
    report = calibrate_and_test(model, data, parts, stoich, draws)
    model.card.update(report)
    model.card["recalibrated"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    model.save(args.out or args.model)
    for what, m in report["test"].items():
        old = before.get(what, {})
        print(f"{what}: coverage {old.get('coverage_95', float('nan')):.3f} -> {m['coverage_95']:.3f}, "
              f"miscalibration area {old.get('miscalibration_area', float('nan')):.3f} -> "
              f"{m['miscalibration_area']:.3f}, MAE {m['mae']:.3f} eV (unchanged: members are)")
    for what, m in report.get("test_resampled", {}).get("metrics", {}).items():
        print(f"{what}, {report['test_resampled']['draws']} re-drawn halves: MAE {m['mae']['median']:.3f} eV "
              f"[{m['mae']['p05']:.3f}, {m['mae']['p95']:.3f}], coverage {m['coverage_95']['median']:.3f} "
              f"[{m['coverage_95']['p05']:.3f}, {m['coverage_95']['p95']:.3f}]")
    return report


if __name__ == "__main__":
    main()
