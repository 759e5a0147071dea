"""coordination_changed labels belong to the graph the structure relaxed to: relaxed_species and the
'rekey' treatment of training labels."""

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from sei_net.chem.lewis import COVALENT
from sei_net.chem.species import Species
from sei_net.energy.geometry import graph_check, relaxed_species, starting_geometries
from sei_net.energy.labels import LabelStore
from sei_net.energy.record import EnergyRecord
from sei_net.learn.dataset import load_labels, start_graph_bounds

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "labels" / "gfn2_reference_species.jsonl.gz"
LEVEL = "test-level"


def _covalent(species: Species) -> set:
    return {(i, j) for i, j, k in species.bonds if k == COVALENT}


def _li_ec(oxygen: str) -> Species:
    """Li+EC with the Li on the carbonyl O ('carbonyl') or on a ring O ('ring')."""
    ec = Species.from_smiles("O=C1OCCO1")
    degree = {o: sum(o in (i, j) for i, j, _ in ec.bonds) for o, e in enumerate(ec.elements) if e == "O"}
    target = next(o for o, d in degree.items() if (d == 1) == (oxygen == "carbonyl"))
    return Species.from_graph(list(ec.elements) + ["Li"], [(i, j) for i, j, _ in ec.bonds] + [(target, ec.n_atoms)], 1)


def _li_donor(species: Species) -> int:
    return next(j if species.elements[i] == "Li" else i for i, j, k in species.bonds if k != COVALENT)


def _li_near(species: Species, oxygen: int, distance: float) -> np.ndarray:
    """The species' embedded geometry (Å) with its Li ``distance`` Å from atom ``oxygen``, pointing
    away from the heavy-atom centre."""
    xyz = np.array(starting_geometries(species, 1)[0])
    heavy = [a for a, e in enumerate(species.elements) if e not in ("H", "Li")]
    out = xyz[oxygen] - xyz[heavy].mean(axis=0)
    xyz[species.elements.index("Li")] = xyz[oxygen] + distance * out / np.linalg.norm(out)
    return xyz


def _in_order_of(start: Species, target: Species, xyz: np.ndarray) -> np.ndarray:
    """Coordinates given in ``target``'s atom order, rearranged into ``start``'s (same covalent graph)."""
    import networkx as nx
    from networkx.algorithms import isomorphism

    def graph(s):
        g = nx.Graph()
        g.add_nodes_from((a, {"e": e}) for a, e in enumerate(s.elements))
        g.add_edges_from((i, j) for i, j, k in s.bonds if k == COVALENT)
        return g
    mapping = next(isomorphism.GraphMatcher(graph(start), graph(target),
                                            node_match=lambda a, b: a["e"] == b["e"]).isomorphisms_iter())
    return xyz[[mapping[i] for i in range(start.n_atoms)]]


def test_relaxed_species_of_real_coordination_changed_records_passes_the_graph_check():
    with gzip.open(REFERENCE, "rt") as fh:
        records = [r for r in map(json.loads, fh) if r["status"] == "coordination_changed"]
    assert records
    for rec in records:
        start = Species.from_key(rec["key"])
        coords = np.array(rec["coords"])
        assert graph_check(start, coords)[0] == "coordination_changed"
        relaxed = relaxed_species(start, coords)
        assert relaxed is not None and relaxed.key != start.key
        # the structure has exactly the relaxed graph, and only the coordination moved
        assert graph_check(relaxed, relaxed.coords)[0] == "ok"
        assert (relaxed.formula, relaxed.charge, relaxed.multiplicity) == (start.formula, start.charge,
                                                                            start.multiplicity)
        assert _covalent_key(relaxed) == _covalent_key(start)


def _covalent_key(species: Species) -> str:
    covalent = [(i, j) for i, j, k in species.bonds if k == COVALENT
                and "Li" not in (species.elements[i], species.elements[j])]
    heavy = [a for a, e in enumerate(species.elements) if e != "Li"]
    index = {a: n for n, a in enumerate(heavy)}
    return Species.from_graph([species.elements[a] for a in heavy],
                              [(index[i], index[j]) for i, j in covalent], 0).key


def test_relaxed_species_moves_li_between_donors_and_refuses_an_ion_pair():
    on_carbonyl, on_ring = _li_ec("carbonyl"), _li_ec("ring")
    assert on_carbonyl.key != on_ring.key
    xyz = _in_order_of(on_carbonyl, on_ring, _li_near(on_ring, _li_donor(on_ring), 1.9))
    assert graph_check(on_carbonyl, xyz)[0] == "coordination_changed"
    assert relaxed_species(on_carbonyl, xyz).key == on_ring.key
    far = _in_order_of(on_carbonyl, on_ring, _li_near(on_ring, _li_donor(on_ring), 8.0))
    assert relaxed_species(on_carbonyl, far) is None


@pytest.mark.parametrize("g_moved", [-10.5, -9.5])
def test_rekey_moves_labels_to_the_relaxed_graph_and_keeps_the_lowest(tmp_path, g_moved):
    start, relaxed_to = _li_ec("carbonyl"), _li_ec("ring")
    xyz_ring = _li_near(relaxed_to, _li_donor(relaxed_to), 1.9)
    limc = Species.from_smiles("[Li]OC(=O)OC")          # its Li drifts away: an ion pair
    path = tmp_path / "labels.db"
    with LabelStore(path) as store:
        store.put([
            EnergyRecord(relaxed_to.key, LEVEL, "ok", E=-10.0, G=-10.0, coords=xyz_ring.tolist()),
            EnergyRecord(start.key, LEVEL, "coordination_changed", E=g_moved, G=g_moved,
                         coords=_in_order_of(start, relaxed_to, xyz_ring).tolist()),
            EnergyRecord(limc.key, LEVEL, "coordination_changed", E=-3.0, G=-3.0,
                         coords=_li_near(limc, _li_donor(limc), 8.0).tolist()),
        ])
    keep = load_labels([path], coordination="keep")
    assert dict(zip(keep.keys, keep.G)) == {relaxed_to.key: -10.0, start.key: g_moved, limc.key: -3.0}
    rekey = load_labels([path], coordination="rekey")
    assert rekey.keys == [relaxed_to.key]                # nothing stays on the graphs the records started from
    assert rekey.G[0] == min(-10.0, g_moved)             # the lowest minimum found for the graph
    assert rekey.status == ["rekeyed" if g_moved < -10.0 else "ok"]
    assert rekey.counts["rekey"] == {"coordination_changed": 2, "fell_apart": 1, "graphs": 1, "start_graph_bounds": 1}
    # the start graph keeps its record's G as a lower bound; the ion pair that fell apart sets none
    assert rekey.bounds == {start.key: (g_moved, relaxed_to.key)}
    assert start_graph_bounds(rekey, [relaxed_to.key]).keys == [start.key]
    assert len(start_graph_bounds(rekey, [])) == 0       # not when the relaxed graph is held out
    drop = load_labels([path], coordination="drop")
    assert dict(zip(drop.keys, drop.G)) == {relaxed_to.key: -10.0}
    with pytest.raises(ValueError, match="valid: keep, rekey, drop"):
        load_labels([path], coordination="move")
