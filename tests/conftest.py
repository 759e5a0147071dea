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
