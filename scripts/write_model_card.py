"""Write sei_net/data/models/README.md from the shipped random-split model's card, the hard-split
twin's card and a notes file (Markdown appended as is):

    python scripts/write_model_card.py sei_net/data/models/energy_gfn2.pt HARD_SPLIT.pt NOTES.md
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sei_net.learn.card import card_markdown, metrics_table
from sei_net.learn.ensemble import EnergyEnsemble

README = Path(__file__).resolve().parents[1] / "sei_net" / "data" / "models" / "README.md"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="the shipped model (.pt)")
    parser.add_argument("hard", help="the same recipe trained on the size split (.pt)")
    parser.add_argument("notes", help="Markdown appended after the tables")
    args = parser.parse_args()
    shipped = EnergyEnsemble.load(args.model, device="cpu").card
    hard = EnergyEnsemble.load(args.hard, device="cpu").card
    clipped = hard.get("config", {}).get("clip_grad_norm") is not None
    text = card_markdown(shipped, "Model card: energy_gfn2.pt (default energy surrogate)")
    text += (f"\n## Hard split (the 10 % largest species held out; a separately trained ensemble, "
             f"{'clipped' if clipped else 'unclipped'}, not shipped)\n\n")
    text += f"Sizes {hard['sizes']}; the same labels and seed.\n\n"
    text += "\n".join(metrics_table(hard["test"])) + "\n\n"
    check = hard.get("start_graph_bounds")
    if check and check.get("n"):
        text += (f"Start graphs whose relaxed graph is a test species ({check['n']:,}): {check['fraction_below']:.1%} "
                 f"predicted more than {check['margin_eV']} eV below their lower bound.\n\n")
    README.write_text(text + Path(args.notes).read_text())
    print(f"wrote {README}")


if __name__ == "__main__":
    main()
