"""Network: the Python-API handle on a stored reaction network."""

from __future__ import annotations

from pathlib import Path

from sei_net.chem.reaction import Reaction
from sei_net.chem.species import Species
from sei_net.recipe import Recipe
from sei_net.store import NetworkStore


class Network:
    """A reaction network backed by one SQLite file (``sei_net.store.NetworkStore``).

    Example
    -------
    >>> net = Network.open("ec_lipf6.db")            # doctest: +SKIP
    >>> net.info()["species"]                        # doctest: +SKIP
    """

    def __init__(self, store: NetworkStore):
        self.store = store

    @classmethod
    def open(cls, path: str | Path, readonly: bool = False) -> "Network":
        return cls(NetworkStore.open(path, readonly=readonly))

    @property
    def path(self) -> Path:
        return self.store.path

    def info(self) -> dict:
        """Counts of species, reactions by kind and energies by source."""
        return self.store.info()

    def species(self) -> dict[int, Species]:
        """id -> Species."""
        return self.store.all_species()

    def find(self, query: str) -> Species:
        """A species by name, SMILES or key."""
        return self.store.get_species(self.store.find_species(query))

    def reactions(self) -> list[Reaction]:
        """All reactions as Reaction objects (for small networks; use ``store.reaction_table()``
        for array access to large ones)."""
        species = self.store.all_species()
        return [self.store.get_reaction(int(rid), species) for rid in self.store.reaction_table()["id"]]

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "Network":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def seed_network(recipe: Recipe, path: str | Path, overwrite: bool = False) -> Network:
    """A network holding just the recipe's species (generation 0), with the recipe recorded."""
    store = NetworkStore.create(path, overwrite=overwrite, name=recipe.name)
    prov = store.provenance_id("recipe", recipe.name, str(recipe.path or ""))
    with store.transaction():
        store.add_species([s.species for s in recipe.species], provenance=prov, generation=0)
        store.set_meta({
            "recipe": recipe.name, "potential": recipe.potential, "temperature": recipe.temperature,
            "concentrations": {s.species.key: s.concentration for s in recipe.species},
        })
    return Network(store)
