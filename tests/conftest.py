import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SEI_NET_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data folder {SHARED_DATA} not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def mrnet_entries(shared_data):
    import json

    return json.loads((shared_data / "mrnet" / "ronalds_MoleculeEntry.json").read_text())


@pytest.fixture(scope="session")
def rnmc_entries(shared_data):
    import json

    return json.loads((shared_data / "rnmc_sei" / "20211130_mol_entries.json").read_text())


@pytest.fixture(scope="session")
def load_example():
    """Import a script of examples/ by name (examples/ is not a package)."""
    import importlib.util

    def load(name: str):
        spec = importlib.util.spec_from_file_location(name, REPO / "examples" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    return load


@pytest.fixture(scope="session")
def mapped_reactions(tmp_path_factory):
    """Atom-mapped reactions of a small generated EC network, one direction of each pair."""
    from sei_net.generate import build_network

    with build_network("ec_lipf6", tmp_path_factory.mktemp("b") / "ec.db", max_generations=2) as net:
        reactions = [r for r in net.reactions() if r.atom_map is not None]
    seen, out = set(), []
    for r in reactions:
        pair = frozenset([r.key, r.reversed().key])
        if pair not in seen:
            seen.add(pair)
            out.append(r)
    return out


@pytest.fixture(scope="session")
def class_barriers(mapped_reactions):
    """Synthetic barrier labels from a known lambda per class (eV): ``make(rng)`` gives 240 mapped
    reactions, their dG, barriers (clipped Marcus) and test/val/train indices (50/30/160)."""
    import numpy as np
    import torch

    from sei_net.learn.barrier_model import clipped_marcus
    from sei_net.learn.reaction_graph import reaction_class

    lam_true = {"ring": 1.2, "concerted": 4.0, "fragmentation": 0.3}
    sample = [r for r in mapped_reactions if reaction_class(r.kind) in lam_true][:240]

    def make(rng):
        dG = rng.uniform(-1.5, 1.5, len(sample))
        lam = np.array([lam_true[reaction_class(r.kind)] for r in sample])
        y = clipped_marcus(torch.from_numpy(dG), torch.from_numpy(lam)).numpy()
        order = rng.permutation(len(sample))
        return sample, dG, y, order[:50], order[50:80], order[80:]
    return make
