"""Probe: the energy network's variance head on detached features, one member against the shipped one.

The variance head reads the pooled atom and global states that the mean's readout also uses; its
Gaussian NLL sees a detached mean, but its gradient still flows into the shared message-passing
layers. This probe trains one member (seed 0, the shipped model's labels, split, settings and lower
bounds) with the head's input detached, so the NLL can no longer move those layers, and compares it
with the shipped member 0 (eV against GFN2): species MAE, labels-kept reaction MAE and the Spearman
rank correlation of |error| with the member's own aleatoric sigma, on the test species and on the
calibration and test species together. The change is made here by replacing ``EnergyNet.forward``
for this process only; the library's model is not changed.

    python examples/variance_head_probe.py      # ~25 min on one CPU core; member in out/hp/detach.members
"""

import numpy as np
import torch
from scipy.stats import spearmanr

import sei_net.learn.model as model_module
from sei_net.learn.dataset import start_graph_bounds
from sei_net.learn.ensemble import EnergyEnsemble
from sei_net.learn.evaluate import labelled_reactions, labels_kept, reactions_touching
from sei_net.learn.fit import split_of_card
from sei_net.learn.train import TrainConfig

torch.set_num_threads(1)


def forward(self, batch):
    """EnergyNet.forward with the variance head's input detached."""
    h, u = self.embed(batch)
    n = u.shape[0]
    seg_sum, seg_mean = model_module._segment_sum, model_module._segment_mean
    per_atom = self.atom_readout(torch.cat([h, u[batch.atom_graph]], dim=1))[:, 0]
    mean = seg_sum(per_atom, batch.atom_graph, n)
    pooled = torch.cat([seg_sum(h, batch.atom_graph, n), seg_mean(h, batch.atom_graph, n), u], dim=1).detach()
    variance = torch.nn.functional.softplus(self.variance_readout(pooled)[:, 0]) + model_module.MIN_VARIANCE
    return mean, variance


model_module.EnergyNet.forward = forward

shipped = EnergyEnsemble.load("sei_net/data/models/energy_gfn2.pt", device="cpu")
data, parts = split_of_card(shipped.card)
train = data.subset(parts["train"])
ens = EnergyEnsemble.train(train, data.subset(parts["val"]), 1, TrainConfig(), 0, "cpu",
                           checkpoint="out/hp/detach.members", bounds=start_graph_bounds(data, train.keys))
torch.save(ens.members[0].state_dict(), "out/hp/detach_member0.pt")
stoich = labelled_reactions(["out/labelling/ec_lipf6.db", "out/labelling/ec_fec_lipf6.db"], data.keys)
print("member", ens.card["members"])
held = np.concatenate([parts["test"], parts["cal"]])
for name, model in (("shipped member 0", None), ("detached variance", ens)):
    pred = (shipped if model is None else model).predict(data.species)
    m = 0
    for pname, part in (("test", parts["test"]), ("held", held)):
        err = pred.members[part, m] - data.G[part]
        sig = np.sqrt(pred.member_variance[part, m])
        rxn = reactions_touching(stoich, part)
        kept = labels_kept(pred, data.G, part)
        rerr = np.asarray(stoich[rxn] @ kept.members[:, m]) - np.asarray(stoich[rxn] @ data.G)
        print(name, pname, f"species MAE {np.abs(err).mean():.3f} kept rxn MAE {np.abs(rerr).mean():.3f} "
              f"Spearman(|err|, aleatoric sigma) {spearmanr(np.abs(err), sig)[0]:.2f}")
