"""sei_net: reaction networks of the battery solid electrolyte interphase (SEI).

Units throughout: energy eV, length Å, temperature K, time s, concentration mol/L,
potential V vs Li/Li+. Heavy dependencies are imported lazily.
"""

__version__ = "0.1.0"

__all__ = ["Network", "Reaction", "Species", "__version__"]


def __getattr__(name):  # lazy: `import sei_net` stays fast
    if name in ("Species", "Reaction"):
        from sei_net import chem

        return getattr(chem, name)
    if name == "Network":
        from sei_net.network import Network

        return Network
    raise AttributeError(f"module 'sei_net' has no attribute {name!r}")
