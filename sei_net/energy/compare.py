"""Compare two energy sources of one network: reaction free energies (non-redox reactions) and the
electron free-energy constant that puts one source's reduction free energies on the other's
potential scale."""

from __future__ import annotations

import numpy as np

from sei_net.constants import ELECTRON_FREE_ENERGY_OFFSET


def _g_by_species(store, source: str) -> dict[int, float]:
    return {r["species_id"]: r["G"] for r in store.energies(source)}


def _reaction_dgs(store, source: str, reference: str, electrons: int):
    """(reaction id, reactant ids, product ids, dG source, dG reference) in eV for the reactions
    with ``electrons`` electrons whose species all have both energies."""
    g_src, g_ref = _g_by_species(store, source), _g_by_species(store, reference)
    table = store.reaction_table()
    rp, rs, pp, ps = (table[k] for k in ("reactant_ptr", "reactant_species", "product_ptr", "product_species"))
    for i in range(len(table["id"])):
        if table["electrons"][i] != electrons:
            continue
        reac, prod = rs[rp[i]:rp[i + 1]].tolist(), ps[pp[i]:pp[i + 1]].tolist()
        if not all(s in g_src and s in g_ref for s in reac + prod):
            continue
        yield (int(table["id"][i]), reac, prod,
               sum(g_src[s] for s in prod) - sum(g_src[s] for s in reac),
               sum(g_ref[s] for s in prod) - sum(g_ref[s] for s in reac))


def reaction_energy_errors(store, source: str, reference: str) -> dict:
    """dG (eV) of every electron-free reaction with both sources for all its species; returns
    n, MAE, RMSE, mean signed error (source - reference) and the five worst reactions."""
    rows = []
    seen = set()
    for rid, reac, prod, d_src, d_ref in _reaction_dgs(store, source, reference, 0):
        pair = (tuple(sorted(reac)), tuple(sorted(prod)))
        if pair[::-1] in seen:  # a reaction and its reverse count once
            continue
        seen.add(pair)
        rows.append((rid, d_src, d_ref))
    if not rows:
        return {"n": 0}
    err = np.array([a - b for _, a, b in rows])
    worst = sorted(rows, key=lambda r: -abs(r[1] - r[2]))[:5]
    return {"n": len(rows), "mae": float(np.mean(np.abs(err))), "rmse": float(np.sqrt(np.mean(err ** 2))),
            "mean_signed": float(np.mean(err)), "median_abs": float(np.median(np.abs(err))),
            "worst": [{"reaction_id": r, "dG_source": a, "dG_reference": b} for r, a, b in worst]}


def electron_offset(store, source: str, reference: str,
                    reference_offset: float = ELECTRON_FREE_ENERGY_OFFSET) -> dict:
    """Least-squares constant c such that U = -dG_red(source) - c matches the reference's
    U = -dG_red(reference) - reference_offset over the one-electron reductions of the network (V vs
    Li/Li+). Returns c, the residual RMSE (V) and the number of reductions used."""
    # the c that makes the two potentials equal, per reduction
    shifts = [d_ref - d_src + reference_offset
              for _, _, _, d_src, d_ref in _reaction_dgs(store, source, reference, 1)]
    if not shifts:
        return {"n": 0}
    shifts = np.array(shifts)
    c = float(shifts.mean())
    return {"n": len(shifts), "offset": c, "rmse_V": float(np.sqrt(np.mean((shifts - c) ** 2)))}
