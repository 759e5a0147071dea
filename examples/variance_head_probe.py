"""Probe: the energy network's variance head on detached features, one member against the shipped one.

The variance head reads the pooled atom and global states that the mean's readout also uses; its
Gaussian NLL sees a detached mean, but its gradient still flows into the shared message-passing
layers. This probe trains one member (seed 0, the shipped model's labels, split, settings and lower
bounds) with the head's input detached, so the NLL can no longer move those layers, and compares it
with the shipped member 0 (eV against GFN2): species MAE, labels-kept reaction MAE and the Spearman
rank correlation of |error| with the member's own aleatoric sigma, on the test species and on the
calibration and test species together. The detached head is the library option
``TrainConfig(detach_variance=True)`` (``sei-net train --detach-variance``); the probe first ran
with a hook that did the same before the option existed.

    python examples/variance_head_probe.py      # ~25 min on one CPU core; member in out/hp/detach.members

The figures in docs/surrogates.md were measured against the model shipped until the evening of
2026-11-22; run now, the probe uses the labels and split of the model shipped today.
"""


import numpy as np
import torch
from member_screen import member_errors      # examples/, beside this script
from scipy.stats import spearmanr

from sei_net.learn.dataset import start_graph_bounds
from sei_net.learn.ensemble import EnergyEnsemble
from sei_net.learn.evaluate import labelled_reactions
from sei_net.learn.fit import split_of_card
from sei_net.learn.train import TrainConfig

torch.set_num_threads(1)
shipped = EnergyEnsemble.load("sei_net/data/models/energy_gfn2.pt", device="cpu")
data, parts = split_of_card(shipped.card)
train = data.subset(parts["train"])
ens = EnergyEnsemble.train(train, data.subset(parts["val"]), 1, TrainConfig(detach_variance=True), 0, "cpu",
                           checkpoint="out/hp/detach.members", bounds=start_graph_bounds(data, train.keys))
stoich = labelled_reactions(shipped.card["networks"], data.keys)
print("member", ens.card["members"])
held = np.concatenate([parts["test"], parts["cal"]])
for name, model in (("shipped member 0", shipped), ("detached variance", ens)):
    pred = model.predict(data.species)
    for pname, part in (("test", parts["test"]), ("held", held)):
        species_mae, reaction_mae = member_errors(pred, data, part, stoich)
        err = np.abs(pred.members[part, 0] - data.G[part])
        rho = spearmanr(err, pred.member_variance[part, 0])[0]
        print(name, pname, f"species MAE {species_mae[0]:.3f} kept rxn MAE {reaction_mae[0]:.3f} "
              f"Spearman(|err|, aleatoric sigma) {rho:.2f}")
