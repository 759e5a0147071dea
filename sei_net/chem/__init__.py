"""Chemistry model: Species (molecule identity) and Reaction (balanced, atom-mapped)."""

from sei_net.chem.lewis import ValenceError
from sei_net.chem.reaction import BalanceError, Reaction
from sei_net.chem.species import Species

__all__ = ["BalanceError", "Reaction", "Species", "ValenceError"]
