"""Finished ensemble members on disk, so that a killed training resumes at the next member.

Training a 5-member energy ensemble on the full label set takes one to two hours on one CPU core;
a session that ends mid-way must not lose the members already trained. Each finished member is
written atomically to ``FOLDER/member_M.pt`` with its training summary. The folder is tied to one
training run by a fingerprint of the data (species keys and labels), the hyperparameters and the
seed: a folder from another run is refused, never mixed in.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from sei_net.learn.dataset import LabelledSpecies
from sei_net.learn.ensemble import write_model_file

FINGERPRINT_FILE = "fingerprint.txt"


def training_fingerprint(train: LabelledSpecies, val: LabelledSpecies, config: dict, seed: int,
                         bounds: LabelledSpecies | None = None) -> str:
    """sha256 of what decides a member: train/val (and lower-bound) keys and G (eV, rounded to
    1e-6), settings, seed."""
    digest = hashlib.sha256()
    for part in (train, val) + (() if bounds is None else (bounds,)):
        digest.update("\n".join(part.keys).encode())
        digest.update(np.round(np.asarray(part.G, dtype=float), 6).tobytes())
    digest.update(json.dumps({"config": config, "seed": seed}, sort_keys=True).encode())
    return digest.hexdigest()


class MemberCheckpoints:
    """The folder of one training run's finished members (created on first use)."""

    def __init__(self, folder: str | Path, fingerprint: str):
        self.folder, self.fingerprint = Path(folder), fingerprint
        stamp = self.folder / FINGERPRINT_FILE
        if stamp.exists() and stamp.read_text().strip() != fingerprint:
            raise ValueError(f"checkpoint folder {str(self.folder)!r} holds members of another training run "
                             "(different labels, split, settings or seed); remove it or give another folder")
        if self.folder.exists() and not stamp.exists() and any(self.folder.iterdir()):
            raise ValueError(f"checkpoint folder {str(self.folder)!r} exists and is not a sei_net checkpoint "
                             "folder; give an empty or new folder")
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp.write_text(fingerprint + "\n")

    def _path(self, member: int) -> Path:
        return self.folder / f"member_{member}.pt"

    def load(self, member: int) -> tuple[dict, dict] | None:
        """(state dict, training summary) of a finished member, or None if it has not finished."""
        path = self._path(member)
        if not path.exists():
            return None
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if payload.get("fingerprint") != self.fingerprint:
            return None
        return payload["state"], payload["summary"]

    def save(self, member: int, model: torch.nn.Module, summary: dict) -> None:
        """Write a finished member atomically (a killed write leaves no partial file)."""
        write_model_file(self._path(member), {"fingerprint": self.fingerprint, "summary": summary,
                                              "state": {k: v.detach().cpu() for k, v in model.state_dict().items()}})


def remove_checkpoints(folder: str | Path) -> None:
    """Delete a checkpoint folder's members and fingerprint, and the folder if nothing else is in
    it; once the ensemble is saved in its model file they are a copy."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    for path in folder.glob("member_*.pt*"):
        path.unlink()
    (folder / FINGERPRINT_FILE).unlink(missing_ok=True)
    if not any(folder.iterdir()):
        folder.rmdir()
