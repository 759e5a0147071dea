"""Likely products under uncertain energies: the mean ranking, then what most members agree on."""

from types import SimpleNamespace

import numpy as np

from sei_net.kinetics.hypergraph import HyperGraph
from sei_net.kinetics.products import likely_products

A, P, R, Q = range(4)          # A the electrolyte; A -> P -> R and A -> Q


def query(member_dG_of_consuming_step):
    """A four-species network whose only knife edge is P -> R (barrier 0.1 eV, far under the
    0.98 eV stability barrier): P is consumed in a member exactly when that step's dG < 0."""
    graph = HyperGraph.from_lists([[A], [P], [A]], [[P], [R], [Q]], kinds=["other"] * 3, n_species=4)
    members = np.array([[-1.0] * 5, member_dG_of_consuming_step, [-1.0] * 5])
    cost = np.array([1.0, 1.0, 3.0])                      # dist: A 0, P 1, R 2, Q 3
    barrier = np.array([0.5, 0.1, 0.5])
    sample = SimpleNamespace(cost=np.repeat(cost[:, None], 5, axis=1), barrier=np.repeat(barrier[:, None], 5, axis=1),
                             dG=members)
    closed_shell = {s: SimpleNamespace(multiplicity=1, charge=0, elements=["C", "H"], bonds=[(0, 1, 1)],
                                       key=f"k{s}", smiles=f"S{s}") for s in range(4)}
    return SimpleNamespace(graph=graph, scores=SimpleNamespace(cost=cost, barrier=barrier, dG=members.mean(axis=1)),
                           samples=sample, species=closed_shell, known={"k1": "P"}, label=lambda s: f"S{s}",
                           rate_model=SimpleNamespace(temperature=298.15))


def test_a_product_most_members_keep_is_listed_after_the_mean_ranking():
    dG = [0.3, 0.2, 0.1, -0.3, -0.35]                     # mean -0.01 eV: consumed on the mean
    ranked = likely_products(query(dG), [A], top=2)
    assert [(p["species_id"], p["ranked_by"]) for p in ranked] == [(R, "mean"), (Q, "mean"), (P, "members")]
    assert ranked[2]["probability_top_k"] == 0.6 and ranked[2]["known_as"] == "P"
    assert ranked[1]["probability_top_k"] == 0.4            # Q drops out where P is stable


def test_a_product_only_a_minority_keeps_is_not_listed():
    ranked = likely_products(query([0.3, 0.2, -0.1, -0.3, -0.35]), [A], top=2)
    assert [p["species_id"] for p in ranked] == [R, Q]
    assert all(p["ranked_by"] == "mean" for p in ranked)


def test_without_a_knife_edge_the_mean_ranking_is_the_answer():
    ranked = likely_products(query([0.3, 0.2, 0.1, 0.3, 0.35]), [A], top=2)
    assert [(p["species_id"], p["probability_top_k"]) for p in ranked] == [(P, 1.0), (R, 1.0)]
