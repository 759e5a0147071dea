"""Network storage: one SQLite file per network (see ``sei_net.store.db``)."""

from sei_net.store.db import NetworkStore, NotANetworkError, UnknownSpeciesError

__all__ = ["NetworkStore", "NotANetworkError", "UnknownSpeciesError"]
