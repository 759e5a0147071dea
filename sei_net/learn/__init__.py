"""Surrogates: featurisation, graph-network energy models, deep ensembles, uncertainty calibration,
metrics and active learning. torch is imported by the modules that need it, not here."""
