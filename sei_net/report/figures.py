"""Figures of the main job's report, as PNG bytes (matplotlib, Agg backend): free-energy diagrams of
best paths, product ranks against potential, counts against time. Energies in eV, time in s."""

from __future__ import annotations

import io

import numpy as np

from sei_net.plotting import pyplot, save_png


def _png(fig) -> bytes:
    return save_png(fig, io.BytesIO(), dpi=110, tight=True).getvalue()


def path_levels(steps: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """(levels, peaks) in eV along a path, relative to its start: level i is the summed dG of the
    first i steps (a step taken n times counts n times), peak i = level i + barrier of step i+1."""
    levels, peaks = [0.0], []
    for s in steps:
        for _ in range(int(s.get("times", 1))):
            peaks.append(levels[-1] + max(float(s["barrier"]), float(s["dG"]), 0.0))
            levels.append(levels[-1] + float(s["dG"]))
    return np.array(levels), np.array(peaks)


def path_diagram(paths: dict[str, dict]) -> bytes:
    """Free-energy profiles (eV vs the starting species) of the best path to each named product:
    a level per intermediate state, a cusp at each step's barrier."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8.0, 4.2))
    for name, rec in paths.items():
        levels, peaks = path_levels(rec["steps"])
        x, y = [], []
        for i in range(len(peaks)):
            x += [i, i + 0.3, i + 0.5, i + 0.7]
            y += [levels[i], levels[i], peaks[i], levels[i + 1]]
        x.append(len(peaks))
        y.append(levels[-1])
        line, = ax.plot(x, y, lw=1.6, label=f"{name} ({len(peaks)} steps, {levels[-1]:+.2f} eV)")
        ax.plot(np.arange(len(levels)) + 0.15, levels, "_", ms=14, mew=2.5, color=line.get_color())
    ax.axhline(0.0, color="0.7", lw=0.8)
    ax.set_xlabel("reaction step")
    ax.set_ylabel("G - G(start) (eV)")
    ax.set_title("Best paths: free-energy profiles (cusps: barriers)")
    ax.legend(fontsize=8, loc="lower left")
    return _png(fig)


def sweep_plot(sweep: dict) -> bytes:
    """Rank of each known SEI product among the likely products against the electrode potential
    (one line per product and temperature; missing points: not among the listed products)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.0, 3.8))
    names = sorted({n for r in sweep["rows"] for n in r["known_product_ranks"]})
    for T in sweep["temperatures_K"]:
        rows = [r for r in sweep["rows"] if r["temperature_K"] == T]
        U = [r["potential_V_vs_Li"] for r in rows]
        for name in names:
            ranks = [r["known_product_ranks"].get(name, np.nan) for r in rows]
            style = "-o" if T == sweep["temperatures_K"][0] else "--s"
            ax.plot(U, ranks, style, ms=4, label=f"{name}" + (f", {T:g} K" if len(sweep["temperatures_K"]) > 1 else ""))
    ax.invert_yaxis()
    ax.set_xlabel("electrode potential (V vs Li/Li+)")
    ax.set_ylabel("rank among likely products")
    ax.set_title("Known SEI products against potential")
    ax.legend(fontsize=8, ncol=2)
    return _png(fig)


def kinetics_plot(kinetics: dict) -> bytes:
    """Molecule counts against time on a log axis: the mean-rate run (mean ±1 std over
    trajectories) and, where the energy members ran (``member_series``), beside it the median of the
    members' mean counts with their range, in the same colour per species and on the same count axis."""
    plt = pyplot()
    series, members = kinetics["series"], kinetics.get("member_series")
    panels = 2 if members else 1
    fig, axes = plt.subplots(1, panels, figsize=(8.0 + 4.5 * (panels - 1), 4.2), sharey=True, squeeze=False)
    t = np.array(series["time_s"])
    keep = t > 0
    colours = {}
    for i, (name, mean, std) in enumerate(zip(series["species"], series["mean"], series["std"])):
        m, s = np.array(mean)[keep], np.array(std)[keep]
        peak = m.max()
        if members:
            peak = max(peak, np.max(members["max"][i]))
        if peak <= 0:
            continue
        style = ("-", "--", ":")[min(len(colours) // 10, 2)]      # the colour cycle has 10 colours
        line, = axes[0, 0].plot(t[keep], m, style, lw=1.5, label=name if len(name) <= 28 else name[:26] + "…")
        axes[0, 0].fill_between(t[keep], np.maximum(m - s, 0), m + s, color=line.get_color(), alpha=0.15)
        colours[i] = (line.get_color(), style)
    axes[0, 0].set_title(f"Mean energies: mean of {kinetics['trajectories']} trajectories (±1 std)", fontsize=10)
    if members:
        tm = np.array(members["time_s"])
        keep_m = tm > 0
        for i, (colour, style) in colours.items():
            axes[0, 1].plot(tm[keep_m], np.array(members["median"][i])[keep_m], style, lw=1.5, color=colour)
            axes[0, 1].fill_between(tm[keep_m], np.array(members["min"][i])[keep_m],
                                    np.array(members["max"][i])[keep_m], color=colour, alpha=0.15)
        axes[0, 1].set_title(f"Median of the {members['members']} energy members (band: their range)", fontsize=10)
    for ax in axes[0]:
        ax.set_xscale("log")
        ax.set_xlabel("time (s)")
    axes[0, 0].set_ylabel("molecules in the volume element")
    axes[0, -1].legend(*axes[0, 0].get_legend_handles_labels(), fontsize=7, loc="upper left",
                       bbox_to_anchor=(1.01, 1.0))
    return _png(fig)
