"""Write sei_net/data/models/README.md from the shipped random-split model's card, the hard-split
twin's card and a notes file (Markdown appended as is), then, with --barrier, the shipped barrier
model's card, its hard-split twin's test figures and its notes:

    python scripts/write_model_card.py sei_net/data/models/energy_gfn2.pt HARD_SPLIT.pt NOTES.md \
        --barrier sei_net/data/models/barrier_gfn2_neb.pt BARRIER_HARD.pt BARRIER_NOTES.md

After retraining only the barrier model, ``--barrier-only MODEL HARD NOTES`` keeps the energy
section of the README as it is and rewrites the barrier section; without ``--barrier`` the energy
section is rewritten and the barrier section kept.

The energy model's HARD may instead be the .json that ``examples/compare_energy_models.py`` wrote
for the shipped model on species of a network it has not seen (the issue's other hard split):
its "all unseen" rows become the hard-split table.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sei_net.learn.card import card_markdown, metrics_table
from sei_net.learn.ensemble import EnergyEnsemble

README = Path(__file__).resolve().parents[1] / "sei_net" / "data" / "models" / "README.md"


BARRIER_TITLE = "# Model card: barrier_gfn2_neb.pt (default barrier surrogate)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", help="the shipped model (.pt)")
    parser.add_argument("hard", nargs="?", help="the same recipe trained on the size split (.pt), or "
                        "compare_energy_models.py's .json of the model on an unseen network")
    parser.add_argument("notes", nargs="?", help="Markdown appended after the tables")
    parser.add_argument("--barrier", nargs=3, metavar=("MODEL", "HARD", "NOTES"),
                        help="the shipped barrier model, its hard-split twin and notes (Markdown)")
    parser.add_argument("--barrier-only", nargs=3, metavar=("MODEL", "HARD", "NOTES"),
                        help="keep the README's energy section and rewrite the barrier section from these")
    args = parser.parse_args()
    if args.barrier_only:
        energy = README.read_text().split(BARRIER_TITLE)[0].rstrip("\n") + "\n"
        README.write_text(energy + "\n" + barrier_section(*args.barrier_only))
        print(f"wrote {README}")
        return
    if not (args.model and args.hard and args.notes):
        parser.error("give MODEL HARD NOTES (or --barrier-only MODEL HARD NOTES)")
    shipped = EnergyEnsemble.load(args.model, device="cpu").card
    text = card_markdown(shipped, "Model card: energy_gfn2.pt (default energy surrogate)")
    text += unseen_network_section(args.hard) if args.hard.endswith(".json") else size_split_section(args.hard)
    text += Path(args.notes).read_text()
    if args.barrier:
        text += "\n" + barrier_section(*args.barrier)
    else:                                             # keep the barrier card as it is
        _, title, barrier = README.read_text().partition(BARRIER_TITLE)
        if title:
            text += "\n" + title + barrier
    README.write_text(text)
    print(f"wrote {README}")


def size_split_section(twin: str) -> str:
    """The hard-split twin's test table (the 10 % largest species held out)."""
    hard = EnergyEnsemble.load(twin, device="cpu").card
    clipped = hard.get("config", {}).get("clip_grad_norm") is not None
    text = (f"\n## Hard split (the 10 % largest species held out; a separately trained ensemble, "
            f"{'clipped' if clipped else 'unclipped'}, not shipped)\n\n")
    text += f"Sizes {hard['sizes']}; the same labels and seed.\n\n"
    text += "\n".join(metrics_table(hard["test"])) + "\n\n"
    check = hard.get("start_graph_bounds")
    if check and check.get("n"):
        text += (f"Start graphs whose relaxed graph is a test species ({check['n']:,}): {check['fraction_below']:.1%} "
                 f"predicted more than {check['margin_eV']} eV below their lower bound.\n\n")
    return text


def unseen_network_section(result: str) -> str:
    """The shipped model on species of a network it has not seen, from the .json of
    ``examples/compare_energy_models.py`` (its first model's "all unseen" rows)."""
    first = next(iter(json.loads(Path(result).read_text()).get("all unseen", {}).items()), None)
    if first is None:
        raise SystemExit(f"{result}: not a compare_energy_models.py result (no 'all unseen' rows); give the "
                         "hard-split twin (.pt) or that script's .json")
    name, report = first
    text = (f"\n## Hard split (species of a network the model has not seen; `{result}`, model "
            f"{name.split(' ', 1)[1]})\n\n")
    text += "\n".join(metrics_table(report)) + "\n\n"
    return text


def barrier_section(model: str, hard: str, notes: str) -> str:
    """Markdown of a barrier ensemble's card: data, split, test against both BEP baselines (eV),
    cross-validation when the card has it, the external DFT test, and the hard-split twin."""
    from sei_net.learn.barrier_ensemble import BarrierEnsemble

    shipped = BarrierEnsemble.load(model, device="cpu")
    card = shipped.card
    report, twin = card["report"], BarrierEnsemble.load(hard, device="cpu").card["report"]
    lines = [BARRIER_TITLE, "",
             f"- Predicts: the intrinsic barrier lambda/4 (eV) of a unimolecular non-redox reaction (or the "
             f"reverse of one) from its condensed graph of reaction; barrier = clipped Marcus(dG, lambda), never "
             f"below max(0, dG). Trained on free-energy barriers at **{shipped.level_of_theory}**.",
             f"- Data: {', '.join(card.get('datasets', []))} ({report['n_examples']:,} usable labels: "
             f"{report['statuses']}"
             + (f"; the lower saddle kept where {', '.join(card['repeats'])} repeat a reaction" if card.get("repeats")
                else "")
             + f"); trained on classes {', '.join(card.get('trained_classes', []))}; used for "
             f"**{', '.join(shipped.domain_classes or ['every class'])}** (`domain_classes`).",
             f"- Split `{report['split']}` (seed {report['seed']}): "
             + ", ".join(f"{k} {v:,}" for k, v in report["sizes"].items()) + ".", "",
             "## Held-out test (eV)", ""]
    lines += metrics_table({f"{k} ({report['split']} split)": v for k, v in report["test"].items()}
                           | {f"{k} (hard split)": v for k, v in twin["test"].items()})
    lines += ["", f"MAE below the fitted BEP: {report['mae_reduction_vs_bep']:.0%} (random split), "
              f"{twin['mae_reduction_vs_bep']:.0%} (hard split: the largest reactants held out).", ""]
    cv = report.get("cross_validation")
    if cv:
        lines += [f"{cv['folds']}-fold cross-validation over every label ({cv['members']} members), MAE eV:", "",
                  "| group | n | model | fitted BEP | default BEP |", "|---|---|---|---|---|"]
        lines += [f"| {g} | {m['n']} | {m['model']:.3f} | {m['bep_fitted']:.3f} | {m['bep_default']:.3f} |"
                  for g, m in cv["mae"].items()]
        lines.append("")
    ext = report.get("external")
    if ext:
        lines += [f"External: {ext['n']} RNMC DFT transition states ({ext['n_unmapped']} more could not be "
                  f"mapped): MAE model {ext['model']['mae']:.3f}, fitted BEP {ext['bep_fitted']['mae']:.3f}, "
                  f"default BEP {ext['bep_default']['mae']:.3f} eV (against DFT, so the oracle's own error is "
                  "in these).", ""]
    return "\n".join(lines) + "\n" + Path(notes).read_text()


if __name__ == "__main__":
    main()
