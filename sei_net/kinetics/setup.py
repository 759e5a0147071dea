"""What a kinetics run starts from: its rate constants, initial counts and volume.

Rates come from a stored rate source (an imported RNMC network: source 'rnmc') or are made from the
network's energies at the electrode potential with the rate model of kinetics.rates (PathQuery).
Initial counts come from ``NAME=COUNT`` pairs, else from a stored initial state, else from the
recipe's concentrations; the volume (L) that turns counts into concentrations from the user, else
from those concentrations.
"""

from __future__ import annotations

import json

import numpy as np

from sei_net.chem.known import KNOWN_SEI_SPECIES
from sei_net.kinetics.mechanism import AVOGADRO, Mechanism, mechanism_from_query, mechanism_from_rates
from sei_net.store import UnknownSpeciesError

#: molecules given to the least concentrated recipe species when counts come from concentrations
DEFAULT_MIN_MOLECULES = 100


def find_species(store, query: str) -> int:
    """Species id from a name, SMILES or key, or a known SEI species name (chem.known) such as LEDC."""
    try:
        return store.find_species(query)
    except UnknownSpeciesError:
        if query not in KNOWN_SEI_SPECIES:
            raise
        return store.find_species(KNOWN_SEI_SPECIES[query])


def parse_counts(store, pairs: list[str]) -> dict[int, int]:
    """``NAME=COUNT`` strings -> species id -> molecules (one clear error per bad pair)."""
    out: dict[int, int] = {}
    for pair in pairs:
        name, sep, value = pair.rpartition("=")
        if not sep or not name:
            raise ValueError(f"--init {pair!r} is not valid: write NAME=COUNT, e.g. EC=1000")
        try:
            count = int(value)
        except ValueError:
            raise ValueError(f"--init {pair!r}: count {value!r} is not a whole number of molecules") from None
        if count < 0:
            raise ValueError(f"--init {pair!r}: the count must be >= 0")
        out[find_species(store, name)] = count
    return out


def recipe_concentrations(store) -> dict[int, float]:
    """Species id -> mol/L from the recipe the network was built from (empty if none stored)."""
    raw = json.loads(store.get_meta("concentrations", "{}") or "{}")
    ids = store.species_ids
    return {ids[k]: float(c) for k, c in raw.items() if k in ids and c}


def initial_state(store, pairs: list[str] | None = None, volume: float | None = None,
                  min_molecules: int = DEFAULT_MIN_MOLECULES) -> tuple[dict[int, int], float | None, str]:
    """(counts, volume in L or None, where they came from). Without ``pairs``: a stored initial state
    (the only one, or 'rnmc'), else the recipe's concentrations in ``volume`` (default: the volume that
    gives the least concentrated species ``min_molecules`` molecules)."""
    conc = recipe_concentrations(store)
    if pairs:
        counts, origin = parse_counts(store, pairs), "--init"
    else:
        names = store.initial_state_names()
        if len(names) == 1 or "rnmc" in names:
            name = names[0] if len(names) == 1 else "rnmc"
            counts, origin = store.initial_state(name), f"stored initial state {name!r}"
        elif conc:
            if volume is None:
                volume = min_molecules / (AVOGADRO * min(conc.values()))
            counts = {s: int(round(c * AVOGADRO * volume)) for s, c in conc.items()}
            origin = "recipe concentrations"
        else:
            raise ValueError(f"{store.path.name} has no initial state and no recipe concentrations: "
                             "give the starting counts with --init NAME=COUNT")
    if volume is None:
        known = [(s, n) for s, n in counts.items() if s in conc and n > 0]
        if known:
            s, n = known[0]
            volume = n / (AVOGADRO * conc[s])
    return counts, volume, origin


def load_mechanism(store, rates: str | None = None, energy_source: str | None = None,
                   potential: float | None = None, temperature: float | None = None):
    """(mechanism, query or None). ``rates`` names a stored rate source; without it, a network with
    exactly one stored rate source uses it, any other makes rates from its energies (PathQuery)."""
    from sei_net.kinetics.query import PathQuery

    stored = list(store.rate_sources())
    if rates is None and len(stored) == 1 and energy_source is None and potential is None:
        rates = stored[0]
    if rates is not None:
        if potential is not None or energy_source is not None:
            raise ValueError("stored rates fix the potential and energies: give --rates or "
                             "--potential/--source, not both")
        return mechanism_from_rates(store, rates), None
    query = PathQuery.prepare(store, source=energy_source, potential=potential, temperature=temperature)
    return mechanism_from_query(query), query


def member_mechanisms(query) -> list[Mechanism]:
    """One mechanism per energy member of a prepared query (ensemble members or Gaussian draws)."""
    if query is None or query.samples is None:
        raise ValueError("member-wise kinetics needs energies with ensemble members or a sigma "
                         "(a surrogate source, sei-net score); stored rates have none")
    return [mechanism_from_query(query, m) for m in range(query.samples.rate.shape[1])]


def member_statistics(finals: np.ndarray) -> dict[str, np.ndarray]:
    """Over energy members (axis 0) of counts ``finals`` (M, ...: species, or times x species): mean,
    std (ddof 1; 0 for one member), min, median and max, each of shape ``finals.shape[1:]``."""
    std = finals.std(axis=0, ddof=1) if len(finals) > 1 else np.zeros(finals.shape[1:])
    return {"mean": finals.mean(axis=0), "std": std, "min": finals.min(axis=0),
            "median": np.median(finals, axis=0), "max": finals.max(axis=0)}


def member_spread(finals: np.ndarray, names: list[str], min_mean: float = 0.5) -> dict:
    """Spread of mean final counts over energy members (``member_statistics``) by species name,
    for species whose member-mean exceeds ``min_mean``, the largest first."""
    stats = member_statistics(finals)
    order = np.argsort(-stats["mean"], kind="stable")
    return {names[s]: {k: float(v[s]) for k, v in stats.items()} for s in order if stats["mean"][s] > min_mean}
