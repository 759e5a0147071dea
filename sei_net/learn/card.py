"""Model cards: the training report of an ensemble as Markdown (data, splits, metrics, units)."""

from __future__ import annotations

METRIC_COLUMNS = (("n", "n", "{:d}"), ("mae", "MAE eV", "{:.3f}"), ("rmse", "RMSE eV", "{:.3f}"),
                  ("median_ae", "median AE eV", "{:.3f}"), ("nll", "NLL", "{:.2f}"),
                  ("miscalibration_area", "miscal. area", "{:.3f}"), ("ence", "ENCE", "{:.2f}"),
                  ("coverage_95", "95% coverage", "{:.3f}"), ("spearman", "Spearman", "{:.2f}"),
                  ("spearman_reference", "Spearman if calibrated", "{:.2f}"), ("mean_sigma", "mean sigma eV", "{:.3f}"))


def metrics_table(rows: dict[str, dict]) -> list[str]:
    """Markdown table lines: one row per named metrics dict (``metrics.regression_report``)."""
    cols = [c for c in METRIC_COLUMNS if any(c[0] in m for m in rows.values())]
    lines = ["| | " + " | ".join(c[1] for c in cols) + " |", "|---|" + "---|" * len(cols)]
    for name, m in rows.items():
        lines.append(f"| {name} | " + " | ".join(fmt.format(m[k]) if k in m else "-" for k, _, fmt in cols) + " |")
    return lines


def failed_members(card: dict) -> list[str]:
    """One sentence per failed training attempt of an ensemble's members (``_MemberJob.verdict``):
    which seed failed, why, and the seed kept."""
    lines = []
    for m, member in enumerate(card.get("members", [])):
        for failed in member.get("failed_attempts", ()):
            why = [f"validation MSE {failed['val_mse']:.3f}"] if "val_mse" in failed else []
            if "max_train_miss_eV" in failed:
                why.append(f"training label {failed.get('max_train_miss_species', '?')} missed by "
                           f"{failed['max_train_miss_eV']:.1f} eV")
            lines.append(f"Member {m}: seed {failed['seed']} failed ({'; '.join(why)}); kept seed {member['seed']}.")
    return lines


def card_markdown(card: dict, title: str) -> str:
    """The card of an ``EnergyEnsemble`` (as ``fit_energy_surrogate`` fills it) in Markdown."""
    cfg = card.get("config", {})
    lines = [f"# {title}", "",
             f"- Predicts: free energy G (eV, 1 mol/L, 298.15 K) of a species from its 2D graph, with "
             f"calibrated uncertainty, trained on **{card.get('level_of_theory', '?')}** labels "
             f"(oracle `{card.get('oracle', '?')}`; energy source name `{card.get('oracle', '?')}-surrogate`).",
             f"- Labels: {', '.join(card.get('labels', []))}; reactions for calibration and testing from "
             f"{', '.join(card.get('networks', [])) or 'no network'} ({card.get('n_labelled_reactions', 0):,} "
             "labelled reactions).",
             f"- coordination_changed labels: `{card.get('coordination', 'keep')}` "
             "(rekey: on the graph the structure relaxed to; keep: on the species it started from); "
             f"label counts {card.get('label_counts', 'not recorded')}.",
             f"- Split `{card.get('split')}` (seed {card.get('seed')}"
             + ("; single atoms always train" if card.get("pin_atoms") else "")
             + (f"; so do species of at most {card['oracle_max_heavy']} heavy atoms, which the main job "
                "labels with the oracle" if card.get("oracle_max_heavy") is not None else "") + "): "
             + ", ".join(f"{k} {v:,}" for k, v in card.get("sizes", {}).items()) + ".",
             f"- Ensemble: {len(card.get('members', []))} members, {cfg.get('hidden')} wide, {cfg.get('layers')} "
             f"layers, up to {cfg.get('epochs')} epochs (early-stopped at "
             + ", ".join(str(m.get("best_epoch")) for m in card.get("members", [])) + ").",
             *[f"- {line}" for line in failed_members(card)],
             f"- Recalibration points: {card.get('calibration_points', {})}"
             + (f"; skipped: {card['calibration_skipped']}" if card.get("calibration_skipped") else "") + "; "
             + ("the species map reads a likelihood-fitted blend of the epistemic and aleatoric variances"
                if card.get("variance_blend") else "every map reads the total variance (epistemic + aleatoric)")
             + (f" (recalibrated {card['recalibrated']})" if card.get("recalibrated") else "") + ".",
             f"- Created {card.get('created', '?')}.", "",
             "## Held-out test metrics (calibrated uncertainty)", ""]
    lines += metrics_table(card.get("test", {}))
    lines += ["", "Errors are surrogate minus oracle. Reaction rows: labelled network reactions that involve "
              "at least one test species (a reaction and its reverse once); their uncertainty is member-wise.", ""]
    lines += resampled_table(card.get("test_resampled"))
    check = card.get("start_graph_bounds")
    if check and check.get("n"):
        lines += [f"Start graphs whose relaxed graph is a test species ({check['n']:,}; their record's G is a "
                  f"lower bound): {check['fraction_below']:.1%} predicted more than {check['margin_eV']} eV "
                  f"below it (median shortfall {check['median_shortfall_eV']:.2f} eV). Lower bounds in "
                  f"training: {card.get('lower_bounds', 0):,}.", ""]
    return "\n".join(lines)


RESAMPLED_COLUMNS = (("mae", "MAE eV"), ("coverage_95", "95% coverage"), ("miscalibration_area", "miscal. area"),
                     ("spearman", "Spearman"), ("spearman_reference", "Spearman if calibrated"))


def resampled_table(resampled: dict | None) -> list[str]:
    """Markdown lines for ``evaluate.resampled_held_out``: median [5th, 95th percentile] per metric."""
    if not resampled:
        return []
    lines = [f"Over {resampled['draws']} random re-splits of the held-out species into calibration "
             f"({resampled['n_cal']}) and test ({resampled['n_test']}) parts, maps refitted each time: "
             "median [5th, 95th percentile]. One draw, like the table above, can sit anywhere in that range.",
             "'Spearman if calibrated': what errors drawn exactly from N(0, sigma^2) would score with these "
             "sigma (``metrics.spearman_reference``), the value the measured Spearman is read against.", "",
             "| | " + " | ".join(c[1] for c in RESAMPLED_COLUMNS) + " |", "|---|" + "---|" * len(RESAMPLED_COLUMNS)]
    for what, m in resampled["metrics"].items():
        cells = [f"{m[k]['median']:.3f} [{m[k]['p05']:.3f}, {m[k]['p95']:.3f}]" if k in m else "-"
                 for k, _ in RESAMPLED_COLUMNS]
        lines.append(f"| {what} | " + " | ".join(cells) + " |")
    return lines + [""]
