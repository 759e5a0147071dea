"""Energy oracles (GFN2-xTB through tblite), thermochemistry, the label cache and labelling runs."""

from sei_net.energy.record import EnergyRecord, Oracle

__all__ = ["EnergyRecord", "Oracle"]
