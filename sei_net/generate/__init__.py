"""Network generation from rule libraries (reactions/*.yaml)."""

from sei_net.generate.driver import build_network, expand
from sei_net.generate.rules import RuleError, RuleSet, load_rules

__all__ = ["RuleError", "RuleSet", "build_network", "expand", "load_rules"]
