"""Export a network as GraphML (networkx bipartite graph) or Parquet tables."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sei_net.store import NetworkStore


def to_networkx(store: NetworkStore):
    """Bipartite DiGraph: species nodes ``s<id>`` and reaction nodes ``r<id>``; edges
    species -> reaction for reactants and reaction -> species for products, with ``stoich``.
    Species carry key, name, smiles, formula, charge, multiplicity and ``G_<source>`` (eV)."""
    import networkx as nx

    g = nx.DiGraph()
    energies: dict[int, dict[str, float]] = {}
    for row in store.energies():
        energies.setdefault(row["species_id"], {})[f"G_{row['source']}"] = row["G"]
    for sid, key, name, smiles, formula, q, m in store.conn.execute(
            "SELECT id, key, name, smiles, formula, charge, multiplicity FROM species ORDER BY id"):
        g.add_node(f"s{sid}", bipartite=0, key=key, name=name or "", smiles=smiles, formula=formula,
                   charge=q, multiplicity=m, **energies.get(sid, {}))
    table = store.reaction_table()
    for t, rid in enumerate(table["id"]):
        node = f"r{rid}"
        g.add_node(node, bipartite=1, kind=str(table["kind"][t]), electrons=int(table["electrons"][t]))
        rs = table["reactant_species"][table["reactant_ptr"][t]:table["reactant_ptr"][t + 1]]
        ps = table["product_species"][table["product_ptr"][t]:table["product_ptr"][t + 1]]
        for s, n in zip(*np.unique(rs, return_counts=True)):
            g.add_edge(f"s{s}", node, stoich=int(n))
        for s, n in zip(*np.unique(ps, return_counts=True)):
            g.add_edge(node, f"s{s}", stoich=int(n))
    return g


def export_graphml(store: NetworkStore, path: str | Path) -> Path:
    """Write the bipartite graph of ``to_networkx`` as GraphML."""
    import networkx as nx

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nx.write_graphml(to_networkx(store), path)
    return path


def export_parquet(store: NetworkStore, out_dir: str | Path) -> list[Path]:
    """Write species, reactions, participants, energies and rates tables as Parquet files."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    queries = {
        "species": "SELECT id, key, name, smiles, formula, charge, multiplicity, n_atoms, n_heavy, "
                   "graph, generation FROM species ORDER BY id",
        "reactions": "SELECT id, key, kind, electrons, n_reactants, n_products, generation FROM reactions "
                     "ORDER BY id",
        "participants": "SELECT reaction_id, side, position, species_id FROM participants "
                        "ORDER BY reaction_id, side, position",
        "energies": "SELECT species_id, source, level_of_theory, G, E, sigma, temperature, data "
                    "FROM energies ORDER BY species_id, source",
        "rates": "SELECT reaction_id, source, rate, dG, barrier, temperature, potential, data FROM rates "
                 "ORDER BY reaction_id, source",
    }
    written = []
    for name, sql in queries.items():
        cur = store.conn.execute(sql)
        cols = [c[0] for c in cur.description]
        rows = cur.fetchall()
        table = pa.table({c: [r[i] for r in rows] for i, c in enumerate(cols)})
        path = out_dir / f"{name}.parquet"
        pq.write_table(table, path)
        written.append(path)
    (out_dir / "README.json").write_text(json.dumps({
        "format": "sei_net network tables", "units": {"G": "eV", "E": "eV", "temperature": "K",
                                                       "potential": "V vs Li/Li+"},
        "side": "0 reactant, 1 product"}, indent=1))
    return written
