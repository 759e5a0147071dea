"""What happens at the cell's boundaries: insoluble sites deposit on the electrode or the deposit,
and the reservoir at the top keeps the bulk composition.

- Deposition: a mobile insoluble site (phases.INSOLUBLE) becomes immobile when its surface is within
  ``contact`` Å of the electrode (z = 0) or of a deposited site's surface, and it does not overlap any
  deposited site (centre distance >= ``overlap`` * sigma_ij); otherwise it keeps moving until it does.
  So deposits never overlap by more than (1 - overlap) sigma_ij.
- Reservoir: the top ``height`` Å of the cell is bulk electrolyte. Any other species entering it has
  left for the bulk (removed, counted); bulk species are topped up or thinned to their bulk counts
  c N_A V_reservoir with insertions that do not overlap (centre distance >= 0.9 sigma_ij).
"""

from __future__ import annotations

import numpy as np
import torch

from sei_net.constants import AVOGADRO
from sei_net.growth.neighbours import minimum_image
from sei_net.growth.phases import INSOLUBLE
from sei_net.growth.state import GrowthState, thermal_velocities


def deposit(state: GrowthState, contact: float = 0.5, overlap: float = 0.85) -> list[int]:
    """Freeze the mobile insoluble sites that touch the electrode or the deposit (module docstring);
    returns the species index of each new deposit."""
    insoluble = torch.as_tensor(state.sites.phase == INSOLUBLE, device=state.device)[state.species]
    cand = torch.nonzero(insoluble & state.mobile).flatten().tolist()
    new = []
    for i in cand:
        dep = torch.nonzero(~state.mobile).flatten()
        touches = float(state.positions[i, 2] - 0.5 * state.sigma[i]) < contact
        if len(dep):
            r = minimum_image(state.positions[dep] - state.positions[i], state.box).norm(dim=1)
            sij = 0.5 * (state.sigma[dep] + state.sigma[i])
            if bool((r < overlap * sij).any()):
                continue
            touches = touches or bool((r < sij + contact).any())
        if touches:
            state.mobile[i] = False
            state.velocities[i] = 0.0
            new.append(int(state.species[i]))
    return new


def reservoir_targets(bulk: dict[int, float], box: torch.Tensor, height: float) -> dict[int, int]:
    """Bulk molecule counts of the reservoir slab (``bulk``: species index -> mol/L)."""
    vol = float(box[0] * box[1]) * height * 1e-27
    return {s: int(round(c * AVOGADRO * vol)) for s, c in bulk.items()}


def refresh_reservoir(state: GrowthState, targets: dict[int, int], height: float, rng: np.random.Generator,
                      temperature: float, tries: int = 200) -> tuple[dict[int, int], int]:
    """Apply the reservoir rule; returns (escaped molecules per species, insertions that found no room)."""
    top = float(state.box[2]) - height
    sp = state.species.cpu().numpy()
    inres = ((state.positions[:, 2] > top) & state.mobile).cpu().numpy()
    escaped, remove = {}, []
    for i in np.flatnonzero(inres & ~np.isin(sp, list(targets))):
        escaped[int(sp[i])] = escaped.get(int(sp[i]), 0) + 1
        remove.append(i)
    add_sp, add_pos, failed = [], [], 0
    box = state.box.cpu().numpy()
    below = state.positions[:, 2] > top - 15.0
    near, near_sig = state.positions[below].cpu().numpy(), state.sigma[below].cpu().numpy()
    for s, want in targets.items():
        have = np.flatnonzero(inres & (sp == s))
        if len(have) > want:
            remove.extend(rng.choice(have, len(have) - want, replace=False).tolist())
        for _ in range(max(0, want - len(have))):
            sig = state.sites.sigma[s]
            for _ in range(tries):
                x = np.array([rng.random() * box[0], rng.random() * box[1],
                              top + 0.5 * sig + rng.random() * max(height - sig, 0.0)])
                d = near - x
                d[:, :2] -= box[:2] * np.round(d[:, :2] / box[:2])
                if not len(d) or (np.linalg.norm(d, axis=1) >= 0.9 * 0.5 * (near_sig + sig)).all():
                    near = np.vstack([near, x])
                    near_sig = np.append(near_sig, sig)
                    add_sp.append(s)
                    add_pos.append(x)
                    break
            else:
                failed += 1
    if remove or add_sp:
        add_sp = np.asarray(add_sp, dtype=np.int64)
        state.edit(np.asarray(remove, dtype=np.int64), add_sp, np.asarray(add_pos).reshape(-1, 3),
                   thermal_velocities(state.sites.mass[add_sp], temperature, rng))
    return escaped, failed
