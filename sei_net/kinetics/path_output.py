"""Paths and products as JSON-ready dicts, readable text, and a free-energy diagram (PNG)."""

from __future__ import annotations

from pathlib import Path

from sei_net.chem.reaction import equation_text
from sei_net.kinetics.paths import HyperPath


def path_record(query, path: HyperPath, rank: int) -> dict:
    """One path in the documented JSON schema (energies in eV, rates in kinetics.rates units)."""
    return {
        "rank": rank, "cost": path.cost, "dG_total": path.dG_total,
        "hardest_step_dG": path.hardest_step_dG, "probability_best": path.probability_best,
        "electrons": path.electrons,
        "byproducts": {query.label(s): n for s, n in path.byproducts.items()},
        "consumed": {query.label(s): n for s, n in path.consumed.items()},
        "steps": [query.step(r, n) for r, n in path.steps],
    }


def step_equation(step: dict) -> str:
    """One path step as text, e.g. ``[2x] EC + Li+ -> LiEC`` (a step taken twice)."""
    times = f"[{step['times']}x] " if step["times"] > 1 else ""
    return times + equation_text(step["reactants"], step["products"], step["electrons"])


def path_text(record: dict) -> str:
    """A path as readable lines."""
    prob = record["probability_best"]
    head = (f"path {record['rank']}: cost {record['cost']:.4f}, dG {record['dG_total']:+.3f} eV, "
            f"hardest step {record['hardest_step_dG']:+.3f} eV"
            + (f", P(best) {prob:.2f}" if prob is not None else ""))
    lines = [head]
    for s in record["steps"]:
        lines.append(f"  {step_equation(s):<70} dG {s['dG']:+.3f}  barrier {s['barrier']:.3f} eV  "
                     f"k {s['rate']:.2e}")
    if record["byproducts"]:
        lines.append("  byproducts: " + ", ".join(f"{n} {k}" for k, n in record["byproducts"].items()))
    return "\n".join(lines)


def plot_path(record: dict, out: str | Path, title: str = "") -> Path:
    """Free-energy diagram of one path: cumulative G (eV) after each step (a step fired n times
    counts n times), barriers drawn as bumps. Writes a PNG."""
    from sei_net.plotting import pyplot, save_png

    g = [0.0]
    fig, ax = pyplot().subplots(figsize=(max(6.0, 1.4 * len(record["steps"]) + 2), 4.0))
    for i, s in enumerate(record["steps"]):
        start, end = g[-1], g[-1] + s["times"] * s["dG"]
        top = start + s["barrier"]
        ax.plot([i + 0.25, i + 0.5, i + 0.75], [start, top, end] if s["barrier"] > 0 else [start, start, end],
                color="0.5", lw=1, ls="--")
        ax.plot([i + 0.75, i + 1.25], [end, end], color="C0", lw=2.5)
        label = step_equation(s)
        ax.annotate(label if len(label) < 40 else label[:37] + "...", (i + 1, end), textcoords="offset points",
                    xytext=(0, 6 if i % 2 == 0 else -14), ha="center", fontsize=7)
        g.append(end)
    ax.plot([-0.25, 0.25], [0, 0], color="C0", lw=2.5)
    ax.set_xticks(range(len(g)))
    ax.set_xlabel("step")
    ax.set_ylabel("cumulative free energy (eV)")
    ax.set_title(title or f"path {record['rank']}: dG {record['dG_total']:+.2f} eV")
    return save_png(fig, out)
