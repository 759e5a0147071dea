"""Hybrid MD/MC growth of the SEI on an electrode (Takenaka et al. 2014 "Red Moon"; Biedermann,
Diddens & Heuer 2021): one-site-per-molecule Langevin dynamics in torch, interrupted by reactive Monte
Carlo steps that use the network's rate constants. See docs/growth.md.

Units: Å, eV, amu, K; MD time in fs, reactive (chemical) time in s.
"""

from sei_net.growth.engine import GrowthConfig, GrowthResult, grow, grow_network

__all__ = ["GrowthConfig", "GrowthResult", "grow", "grow_network"]
