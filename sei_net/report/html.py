"""The main job's report: one self-contained HTML file (inline CSS, PNG figures as data URIs) built
from the run's summary dict. Every section says where its numbers come from and how uncertain
they are."""

from __future__ import annotations

import base64
import html
from datetime import datetime, timezone
from pathlib import Path

from sei_net.kinetics.path_output import step_equation
from sei_net.kinetics.rates import DEFAULT_BEP_SOURCE
from sei_net.report import figures

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#1d2330;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #d8dde6;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}th,td{border:1px solid #d8dde6;padding:.25em .55em;
text-align:left;vertical-align:top}th{background:#f1f4f8}td.n{text-align:right;font-variant-numeric:tabular-nums}
code{font-size:.92em;background:#f4f6f9;padding:0 .2em;border-radius:3px;word-break:break-all}
.box{background:#f6f9fc;border-left:4px solid #3b6fb6;padding:.6em 1em;margin:1em 0}
.warn{background:#fff8ec;border-left:4px solid #d88a00;padding:.6em 1em;margin:1em 0}
img{max-width:100%;height:auto}small,.muted{color:#5a6473}
"""


def _e(value) -> str:
    return html.escape(str(value))


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _table(header: list[str], rows: list[list], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>"
                                    for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(x, spec: str = ".3f") -> str:
    return "–" if x is None else format(x, spec)


def _header(s: dict) -> str:
    e = s["energies"]
    settings = s["products"]["settings"]
    metrics = e.get("model_test_metrics_eV", {})
    mrows = [[_e(what), m["n"], _fmt(m["mae"]), _fmt(m["rmse"]), _fmt(m["coverage_95"], ".2f")]
             for what, m in metrics.items()]
    left = settings.get("left_out_outside_oracle_domain") or {}
    left_html = "".join(f"<li><code>{_e(k)}</code>: {_e(v)}</li>" for k, v in left.items())
    return f"""
<h1>sei_net report: {_e(s['recipe'])}</h1>
<p class="muted">Electrode potential {s['potential_V_vs_Li']:g} V vs Li/Li+, {s['temperature_K']:g} K.
Written {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; run took {s['wall_seconds']:.0f} s.
Stages: {_e(', '.join(s['stages_done']))}.</p>
<h2>Level of theory and uncertainty</h2>
<ul>
<li><b>Free energies</b> (eV): {_e(settings['level_of_theory'])}. Source <code>{_e(settings['energy_source'])}</code>;
{_scored_note(e)} The surrogate's held-out errors against the oracle (eV):</li>
</ul>
{_table(['test set', 'n', 'MAE', 'RMSE', '95 % coverage'], mrows, {1, 2, 3, 4}) if mrows else ''}
<ul>
<li><b>Electron</b>: free energy {settings['electron_free_energy_eV']:+.2f} eV at {settings['potential_V_vs_Li']:g} V vs Li/Li+
(the oracle's electron constant; <code>docs/energy.md</code>).</li>
<li><b>Rates</b>: {_e(settings['rate_model'])}. {_barrier_note(e.get('barriers'))}</li>
<li><b>Uncertainty</b>: {_e(settings['uncertainty'])}; probabilities below are frequencies over these members.
The surrogate's errors against its oracle are listed above; the oracle's own errors against experiment are not
included and are usually larger.</li>
{f'<li><b>Left out</b> (outside the oracle&#39;s domain; their reactions are not used):<ul>{left_html}</ul></li>' if left_html else ''}
</ul>"""


def _scored_note(energies: dict) -> str:
    """How many species have a free energy, how many keep their oracle label, how many the
    oracle found no minimum for (left without one), and how many lie outside the surrogate's
    applicability domain (labelled by the oracle, or predicted anyway)."""
    kept, none = energies.get("oracle_labels_kept", 0), energies.get("no_minimum_unscored", 0)
    text = (f"{energies['scored']} species have a free energy: {kept} their oracle label, "
            f"{energies['scored'] - kept} predicted by the surrogate ensemble.")
    if none:
        text += (f" {none} are left without one: the oracle found no minimum for them (rearranged from "
                 f"every starting geometry), so their reactions are not used; electron transfers that "
                 f"would make one are joined with what it falls apart into, as "
                 f"{energies.get('dissociative_transfers', {}).get('reactions', 0)} concerted steps.")
    labelled = (energies.get("outside_domain") or {}).get("usable", 0)
    if labelled:
        text += (f" The oracle labelled {labelled} species outside the surrogate's applicability domain (an atom "
                 "environment no training species has) instead of asking the surrogate.")
    outside = (energies.get("domain") or {}).get("outside", 0)
    if outside:
        text += (f" {outside} predicted species are outside that domain with no oracle label: their energies "
                 "are extrapolations, and their uncertainty is too narrow.")
    return _e(text)


def _barrier_note(barriers: dict | None) -> str:
    """One sentence on where the barriers come from and how good they are (eV)."""
    if not barriers:
        return (f"Non-redox barriers are BEP estimates, {_e(DEFAULT_BEP_SOURCE)}, not a transition state per "
                "reaction; electron-transfer barriers are Marcus estimates.")
    m = barriers.get("model_test_metrics_eV", {})
    errors = "; ".join(f"{what}: MAE {v['mae']:.2f} eV (n={v['n']})" for what, v in m.items() if "mae" in v)
    classes = barriers.get("domain_classes")
    cv = "".join(f"; cross-validated on class {c} (n={v['n']}): model MAE {v['model']:.3f} eV, BEP fitted on the "
                 f"same folds {v['bep_fitted']:.3f} eV" for c, v in barriers.get("cross_validation_mae_eV", {}).items())
    return (f"Non-redox barriers of {barriers['reactions']} reactions"
            + (f" (classes {_e(', '.join(classes))})" if classes else "") + f": {_e(barriers['level_of_theory'])}; "
            f"held-out errors against GFN2 CI-NEB barriers (one random test part): {_e(errors)}{_e(cv)}. "
            "Other barriers are the model defaults.")


def _answer(s: dict) -> str:
    ranks = s["products"]["known_product_ranks"]
    listed = len(s["products"]["likely_products"])
    prob = {p["known_as"]: p["probability_top_k"] for p in s["products"]["likely_products"] if p["known_as"]}
    rows = [[_e(n), r, _fmt(prob.get(n), ".2f")] for n, r in sorted(ranks.items(), key=lambda kv: kv[1])]
    paths = s["products"]["best_paths"]
    prow = []
    for name, p in paths.items():
        if p is None:
            prow.append([_e(name), "unreachable", "", "", "", ""])
            continue
        prow.append([_e(name), _fmt(p["cost"], ".3f"), sum(st["times"] for st in p["steps"]), p["electrons"], _fmt(p["dG_total"], "+.2f"),
                     _fmt(p.get("probability_best"), ".2f"),
                     _e(", ".join(f"{n} {k}" for k, n in p["byproducts"].items()) or "none")])
    return f"""
<h2>The answer</h2>
<div class="box">{(f"Known SEI products among the {listed} most likely products (the top 1 % of the network "
"by the mean energies, then any species most energy members put there) at "
f"{s['potential_V_vs_Li']:g} V vs Li/Li+, with the fraction of energy members that keep them in that list:"
+ _table(['known product', 'rank', 'P(in list)'], rows, {1, 2})) if rows else
f"No known SEI product (chem.known) is among the {listed} most likely products at {s['potential_V_vs_Li']:g} V vs Li/Li+."}</div>
<p>Best paths from the recipe's species (cost: mrnet's, dimensionless: each step costs exp(min(dG, 10 eV)/kT) + 1,
so every step counts 1 and an uphill step its Boltzmann factor; a cost far above the number of steps
means the path climbs, roughly kT ln(cost) for its highest step; dG in eV, summed over the path;
P(best): fraction of energy members for which this path stays the cheapest of the 5 best):</p>
{_table(['product', 'cost', 'steps', 'electrons', 'dG (eV)', 'P(best)', 'byproducts'], prow, {1, 2, 3, 4, 5})
 if prow else '<p>The network holds none of the known SEI products that paths are reported for.</p>'}"""


def _paths(s: dict) -> str:
    paths = {n: p for n, p in s["products"]["best_paths"].items() if p and n in ("LEDC", "Li2CO3", "C2H4", "LEMC")}
    if not paths:
        return ""
    parts = [f"<h2>Free-energy paths</h2>{_img(figures.path_diagram(paths), 'free-energy path diagram')}"]
    for name, p in paths.items():
        rows = []
        for st in p["steps"]:
            rows.append([f"<code>{_e(step_equation(st))}</code>", _e(st["kind"]),
                         _fmt(st["dG"], "+.2f") + (f" ± {st['dG_sigma']:.2f}" if st.get("dG_sigma") is not None else ""),
                         _fmt(st["barrier"], ".2f"), _fmt(st["rate"], ".2e")])
        parts.append(f"<h3>{_e(name)}</h3>" + _table(["step", "kind", "dG (eV, ± member std)", "barrier (eV)",
                                                      "k (s^-1 or L mol^-1 s^-1)"], rows, {2, 3, 4}))
    return "".join(parts)


def _products(s: dict) -> str:
    rows = [[i + 1, f"<code>{_e(p['species'])}</code>", _e(p["class"]), _e(p["known_as"] or ""),
             _fmt(p["cost"], ".3f"), _fmt(p["probability_top_k"], ".2f"), _e(p.get("ranked_by", "mean"))]
            for i, p in enumerate(s["products"]["likely_products"])]
    header = ["rank", "species", "class", "known as", "cost", "P(in list)", "ranked by"]
    rest = (f"<details><summary>ranks {SHOWN + 1}–{len(rows)}</summary>"
            + _table(header, rows[SHOWN:], {0, 4, 5}) + "</details>") if len(rows) > SHOWN else ""
    return ("<h2>Likely products</h2><p>Ranked by the cost of their cheapest derivation from the recipe's "
            "species, among species that are not quickly consumed (kinetics.products), with the mean "
            "energies; then any species that most energy members rank in the list but the mean does not.</p>"
            + _table(header, rows[:SHOWN], {0, 4, 5}) + rest)


#: likely products shown before the rest folds away
SHOWN = 20


def _sweep(s: dict) -> str:
    sw = s.get("sweep")
    if not sw:
        return ""
    names = sorted({n for r in sw["rows"] for n in r["known_product_ranks"]})
    rows = [[f"{r['potential_V_vs_Li']:g}", f"{r['temperature_K']:g}"]
            + [r["known_product_ranks"].get(n, f"> {r['listed']}") for n in names]
            + [_e(", ".join(t["species"] for t in r["top"][:3]))] for r in sw["rows"]]
    return (f"<h2>Potential and temperature sweep</h2><p>{_e(sw['note'])}.</p>"
            + (_img(figures.sweep_plot(sw), "ranks against potential") if names else "")
            + _table(["U (V vs Li/Li+)", "T (K)"] + names + ["top 3"], rows, set(range(2 + len(names)))))


def _acceleration(a: dict | None) -> str:
    if not a:
        return ("<p>Exact SSA: every event simulated; fast reversible steps use up the events, so generated "
                "networks reach microseconds.</p>")
    return (f"<p><b>Accelerated</b>: {_e(a['method'])}. Reversible pairs that were quasi-equilibrated "
            f"(|forward − reverse| ≤ {a['tolerance']:g} of ≥ {a['min_events']} firings per {a['window']:,}-event "
            f"window) had both rate constants divided by the same factor, keeping each pair {a['separation']:g} "
            f"times faster than the net slow chemistry; equilibrium constants are unchanged. At the end a median of "
            f"{a['pairs_scaled_at_end_median']:g} pairs per trajectory were slowed, by up to "
            f"{a['largest_factor_median']:.2g}. An approximation checked against the exact SSA and the "
            "mass-action ODE (docs/kinetics.md).</p>")


def _kinetics(s: dict) -> str:
    k = s.get("kinetics")
    if not k:
        return ""
    rows = []
    for y in k["yields"]:
        m = y.get("members")
        rows.append([f"<code>{_e(y['species'])}</code>", _e(y["known_as"] or ""), y["initial"],
                     f"{y['mean']:.1f} ± {y['standard_error']:.1f}",
                     _member_cell(m)])
    tr = k["time_reached_s"]
    return f"""
<h2>Kinetics</h2>
<p>{_e(k['method'])}; {k['trajectories']} trajectories from the recipe's composition in {k['volume_L']:.3g} L
({_e(k['initial_state'])}), rates as above. Every molecule sees electrons at the electrode potential (the
HiPRGen/RNMC convention): this is what an electrolyte element in contact with the electrode turns into.
Counts are at <b>{k['counts_at_s']:.3g} s</b>, the last recorded time every trajectory reached
({k['trajectories_reaching_time']} of {k['trajectories']} reached the {k['stop']['time_s']:g} s goal within
{k['stop']['max_events']:,} events; reached times {tr['min']:.2g}–{tr['max']:.2g} s).</p>
{_acceleration(k.get('acceleration'))}
{_img(figures.kinetics_plot(k), 'counts against time')}
<p>{_plot_caption(k)} Table: mean ± standard error over trajectories. The energy uncertainty: every run (mean rates and the
{k['members']['n']} energy members' rates) reached {_fmt(k['members'].get('counts_at_s'), '.2g')} s; the last column gives the
mean-rate count there, the median of the members' means and, in brackets, their range (the spread that the
energies put on the yields; the mean energies need not give a typical member).</p>
{_table(['species', 'known as', 'initial', 'count at ' + format(k['counts_at_s'], '.2g') + ' s',
         'at ' + _fmt(k['members'].get('counts_at_s'), '.2g') + ' s: mean rates; member median (range)'],
        rows, {2, 3, 4})}"""


def _plot_caption(k: dict) -> str:
    """What the kinetics plot shows, panel by panel."""
    if not k.get("member_series"):
        return "Plot: the run with the mean energies' rates."
    return ("Plot, left: the run with the mean energies' rates; right: the same trajectories (same seeds) under "
            f"each of the {k['member_series']['members']} energy members' rates, their median count and range, "
            "to the last time every member run reached.")


def _member_cell(m: dict | None) -> str:
    """Mean-rate count; member median (range), or a dash without members."""
    if not m:
        return "–"
    median = f"; median {m['median']:.1f}" if "median" in m else ""
    return f"{m['mean_rates']:.1f}{median} ({m['min']:.1f} – {m['max']:.1f})"


def _reactive_steps(g: dict) -> str:
    """How the growth's reactive steps ran, in one sentence."""
    sc = (g.get("events") or {}).get("rate_scaling")
    if not sc:
        return "Reactive steps: Metropolis (equilibrium only)."
    if not (sc["scaled_pairs"] or sc["truncated_steps"]):
        return "Reactive steps: kinetic MC over the cell."
    return (f"Reactive steps: kinetic MC over the cell; {sc['scaled_pairs']} fast reversible pairs slowed at "
            f"constant K (separation {g['settings']['separation']:g}; Dybeck et al. 2017), "
            f"{sc['truncated_steps']} steps cut at the event limit.")


def _growth(s: dict) -> str:
    g = s.get("growth")
    if not g:
        return ""
    png = Path(g["folder"]) / "growth.png"
    law = g.get("growth_law") or {}
    th = g["thickness_A"]
    lo = "; ".join(f"{k}: {v['count']} deposited at mean z {v['mean_z']:.1f} Å" for k, v in
                   (g.get("layer_order") or {}).items() if v["count"]) or "no deposit"
    step = _reactive_steps(g)
    return f"""
<h2>SEI growth</h2>
<p>{_e(g['level_of_theory']['model'])}; rates: {_e(g['level_of_theory']['rates'])}.
{g['steps']} reactive steps ({g['chemical_time_s']:.3g} s of chemical time). {_e(step)} Final thickness {th['final_mean']:.2f} Å
(max {th['final_max']:.2f} Å, coverage {th['coverage']:.2f}); deposited: {_e(g['deposited'] or 'nothing')};
gases released: {_e(g['gases_released'] or 'none')}. Growth law: {_e(law.get('best', 'not fitted (no deposit)'))}.
Layer order: {_e(lo)}. Files in <code>{_e(g['folder'])}</code>.</p>
{_img(png.read_bytes(), 'SEI growth') if png.exists() else ''}"""


def _network(s: dict) -> str:
    n, gen = s["network"], s["generation"]
    rows = [[g["generation"], f"{g['new_species']:,}", f"{g['new_reactions']:,}", _fmt(g.get("seconds"), ".1f")]
            for g in gen["generations"]]
    return (f"<h2>Network</h2><p>{n['species']:,} species and {n['reactions']:,} reactions "
            f"(<code>{_e(n['file'])}</code>), stopped by {_e(gen['stop_reason'])}. Known SEI species found: "
            f"{_e(', '.join(gen['known_sei_species_found']))}.</p>"
            + _table(["generation", "new species", "new reactions", "seconds"], rows, {0, 1, 2, 3}))


def write_report(summary: dict, path: str | Path) -> Path:
    """Write the report of a main-job ``summary`` to ``path`` (HTML, self-contained); returns it."""
    path = Path(path)
    body = "".join([_header(summary), _answer(summary), _paths(summary), _products(summary),
                    _sweep(summary), _kinetics(summary), _growth(summary), _network(summary)])
    path.write_text(f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>sei_net: "
                    f"{_e(summary['recipe'])}</title><style>{CSS}</style></head><body>{body}"
                    "<p class='muted'>Units: energies eV, time s, length Å, potential V vs Li/Li+. "
                    "Made by sei_net; the numbers are in summary.json next to this file.</p></body></html>")
    return path
