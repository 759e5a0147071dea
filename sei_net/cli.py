"""The ``sei-net`` command line (typer). Heavy modules are imported inside commands so that
``sei-net --help`` stays instant. User mistakes give one line on stderr and exit code 2."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Optional

import typer

from sei_net.constants import NEB_IMAGES, NEB_MAX_STEPS, ORACLE_MAX_HEAVY

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="sei_net: SEI reaction networks. Units: eV, Å, K, s, mol/L, V vs Li/Li+.")
import_app = typer.Typer(no_args_is_help=True, help="Import networks from other tools.")
app.add_typer(import_app, name="import")

BAD_INPUT_EXIT = 2


def _user_errors() -> tuple[type[BaseException], ...]:
    from sei_net.store import UnknownSpeciesError

    # RuleError, RecipeError and NotANetworkError are ValueErrors
    return (ValueError, FileNotFoundError, FileExistsError, IsADirectoryError, UnknownSpeciesError)


def user_command(func):
    """Turn user mistakes (bad input) into one clear stderr line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except _user_errors() as err:
            msg = str(err).splitlines()[0] if str(err) else err.__class__.__name__
            typer.echo(f"error: {msg}", err=True)
            raise typer.Exit(BAD_INPUT_EXIT) from None

    return wrapper


def _quiet(as_json: bool) -> bool:
    """No progress output with --json. Without it progress goes to stderr as plain lines, also
    when stderr is a log file (a nohup or batch run of a long labelling, NEB or training job)."""
    return as_json


def _emit_json(obj) -> None:
    typer.echo(json.dumps(obj, indent=1, default=float))


def _table(headers: list[str], rows: list[list]) -> None:
    """A plain aligned table on stdout."""
    cells = [[str(c) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    typer.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    typer.echo("  ".join("-" * w for w in widths))
    for r in cells:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)))


def _open(path: Path, readonly: bool = True):
    from sei_net.store import NetworkStore

    return NetworkStore.open(path, readonly=readonly)


@app.command()
@user_command
def info(net: Path = typer.Argument(..., help="network file (.db)"),
         as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Counts of species, reactions by kind, and energies by source."""
    with _open(net) as store:
        data = store.info()
    if as_json:
        _emit_json(data)
        return
    typer.echo(f"network   {net} ({data['name']}, schema v{data['schema_version']})")
    typer.echo(f"species   {data['species']}")
    typer.echo(f"reactions {data['reactions']}")
    for kind, n in data["kinds"].items():
        typer.echo(f"  {kind:<16}{n}")
    for what in ("energy_sources", "barrier_sources", "rate_sources"):
        if data[what]:
            typer.echo(f"{what.replace('_', ' ')}: " + ", ".join(f"{k} ({v})" for k, v in data[what].items()))


def species_records(store, query: Optional[str] = None) -> list[dict]:
    """Species with their energies, as the documented JSON records."""
    import numpy as np

    energies: dict[int, dict] = {}
    for row in store.energies():
        energies.setdefault(row["species_id"], {})[row["source"]] = {
            "G": row["G"], "sigma": row["sigma"],
            "members": None if row["members"] is None else np.asarray(row["members"]).tolist(),
            "level_of_theory": row["level_of_theory"],
        }
    sql = "SELECT id, key, name, smiles, formula, charge, multiplicity FROM species"
    args: tuple = ()
    if query is not None:
        sql += " WHERE id = ?"
        args = (store.find_species(query),)
    return [{"key": key, "name": name, "smiles": smi, "formula": f, "charge": q, "multiplicity": m,
             "energies": energies.get(sid, {})}
            for sid, key, name, smi, f, q, m in store.conn.execute(sql + " ORDER BY id", args)]


@app.command()
@user_command
def species(net: Path = typer.Argument(..., help="network file (.db)"),
            query: Optional[str] = typer.Option(None, "--species", "-s",
                                                help="one species by name, SMILES or key"),
            as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """List species (name, SMILES, formula, charge, multiplicity, free energies in eV)."""
    with _open(net) as store:
        records = species_records(store, query)
    if as_json:
        _emit_json({"species": records})
        return
    rows = []
    for r in records:
        g = "; ".join(f"{src} {e['G']:.4f}" + (f"±{e['sigma']:.3f}" if e["sigma"] else "")
                      for src, e in r["energies"].items())
        rows.append([r["name"] or "", r["smiles"], r["formula"], f"{r['charge']:+d}", r["multiplicity"], g])
    _table(["name", "smiles", "formula", "q", "mult", "G / eV"], rows)


def _explain_from_filters(store, key: str) -> dict:
    """A species without a decision row: the generator skips pairs whose adduct its filters reject
    on composition alone, before the species is built; say so when the filters reject it."""
    from sei_net.chem.species import Species
    from sei_net.generate.driver import stored_filter

    never = (f"{key!r} was never generated or considered in {store.path.name}; give a reaction key, "
             "species key, name or SMILES")
    flt = stored_filter(store)
    if flt is None:
        raise ValueError(never)
    try:
        sp = Species.from_key(key) if "|" in key else Species.from_smiles(key)
    except ValueError:
        raise ValueError(never) from None
    why = flt.reason(sp)
    if why is None:
        raise ValueError(never + " (the build's filters would accept it: no rule made it)")
    return {"key": sp.key, "kind": "species", "kept": False,
            "reason": f"{why} (rejected from its composition before it was built; no decision row)",
            "rule": None, "generation": None}


def explain(store, key: str) -> dict:
    """Why a reaction or species (by key, or species by name/SMILES) is in the network or not."""
    def decisions(k: str) -> list[tuple]:
        return store.conn.execute("SELECT kind, kept, reason, rule, generation FROM decisions WHERE key = ?",
                                  (k,)).fetchall()

    rows = decisions(key)
    if not rows:
        try:
            sid = store.find_species(key)
        except KeyError:
            sid = None
        if sid is not None:
            key = store.conn.execute("SELECT key FROM species WHERE id = ?", (sid,)).fetchone()[0]
            rows = decisions(key)
            if not rows:
                return {"key": key, "kind": "species", "kept": True, "reason": "listed in the recipe "
                        "or imported", "rule": None, "generation": 0}
    if not rows:
        return _explain_from_filters(store, key)
    kind, kept, reason, rule, gen = rows[0]
    return {"key": key, "kind": kind, "kept": bool(kept), "reason": reason, "rule": rule, "generation": gen}


@app.command()
@user_command
def reactions(net: Path = typer.Argument(..., help="network file (.db)"),
              involving: Optional[str] = typer.Option(None, "--species", "-s",
                                                      help="only reactions involving this species"),
              limit: int = typer.Option(50, "--limit", "-n", help="rows to show (0: all)"),
              why: Optional[str] = typer.Option(None, "--why", help="explain why a reaction or species "
                                                "key was kept or discarded"),
              as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """List reactions: equation, kind, electrons, provenance."""
    if why is not None:
        with _open(net) as store:
            record = explain(store, why)
        if as_json:
            _emit_json(record)
        else:
            verdict = "kept" if record["kept"] else "discarded"
            typer.echo(f"{record['kind']} {record['key']}: {verdict} ({record['reason']}); rule "
                       f"{record['rule']}, generation {record['generation']}")
        return
    with _open(net) as store:
        sql = ("SELECT r.id, r.key, r.kind, r.electrons, p.name FROM reactions r "
               "LEFT JOIN provenance p ON p.id = r.provenance_id")
        args: tuple = ()
        if involving is not None:
            sid = store.find_species(involving)
            sql += " WHERE r.id IN (SELECT reaction_id FROM participants WHERE species_id = ?)"
            args = (sid,)
        sql += " ORDER BY r.id"
        if limit > 0:
            sql += f" LIMIT {int(limit)}"
        rows = store.conn.execute(sql, args).fetchall()
        names = {sid: (n or s) for sid, n, s in store.conn.execute("SELECT id, name, smiles FROM species")}
        sides: dict[int, tuple[list, list]] = {r[0]: ([], []) for r in rows}
        if rows:
            q = ",".join(str(r[0]) for r in rows)
            for rid, side, sid in store.conn.execute(
                    f"SELECT reaction_id, side, species_id FROM participants WHERE reaction_id IN ({q}) "
                    "ORDER BY reaction_id, side, position"):
                sides[rid][side].append(names[sid])
    records = [{"id": rid, "key": key, "kind": kind, "electrons": e, "reactants": sides[rid][0],
                "products": sides[rid][1], "provenance": prov} for rid, key, kind, e, prov in rows]
    if as_json:
        _emit_json({"reactions": records})
        return
    from sei_net.chem.reaction import equation_text

    _table(["id", "reaction", "kind", "provenance"],
           [[r["id"], equation_text(r["reactants"], r["products"], r["electrons"]), r["kind"],
             r["provenance"] or ""] for r in records])


@import_app.command("mrnet")
@user_command
def import_mrnet_cmd(entries: Path = typer.Argument(..., help="mrnet/LIBE MoleculeEntry JSON"),
                     out: Path = typer.Option(..., "-o", "--out", help="network file to create"),
                     temperature: float = typer.Option(298.15, help="K, for the free energies"),
                     reactions: bool = typer.Option(False, "--reactions",
                                                    help="also enumerate mrnet's reactions among them"),
                     force: bool = typer.Option(False, "--force", help="replace an existing file")) -> None:
    """Import mrnet/LIBE entries: species named by entry_id, DFT free energies (eV)."""
    from sei_net.io.mrnet import import_mrnet

    with import_mrnet(entries, out, temperature=temperature, overwrite=force,
                      reactions=reactions) as store:
        data = store.info()
    typer.echo(f"{out}: {data['species']} species, {data['reactions']} reactions, "
               f"energies: {data['energy_sources']}")


@import_app.command("rnmc")
@user_command
def import_rnmc_cmd(rn: Path = typer.Argument(..., help="RNMC rn.sqlite"),
                    state: Optional[Path] = typer.Option(None, "--state", help="RNMC initial_state.sqlite"),
                    names: Path = typer.Option(..., "--names", help="mol-entries JSON in RNMC species order"),
                    out: Path = typer.Option(..., "-o", "--out", help="network file to create"),
                    force: bool = typer.Option(False, "--force", help="replace an existing file")) -> None:
    """Import an RNMC network with its rates, initial state and species structures."""
    from sei_net.io.rnmc import import_rnmc

    with import_rnmc(rn, out, state, names, overwrite=force) as store:
        data = store.info()
        warnings = json.loads(store.get_meta("import_warnings", "[]"))
    for w in warnings:
        typer.echo(f"warning: {w}", err=True)
    typer.echo(f"{out}: {data['species']} species, {data['reactions']} reactions")


@app.command()
@user_command
def export(net: Path = typer.Argument(..., help="network file (.db)"),
           fmt: str = typer.Option(..., "--format", "-f", help="rnmc | graphml | parquet | cantera"),
           out: Path = typer.Option(..., "-o", "--out", help="folder (rnmc, parquet) or file (graphml, cantera)"),
           rate_source: Optional[str] = typer.Option(None, help="stored rates to export (default: 'rnmc' for the "
                                                     "rnmc format; for cantera the only stored source, "
                                                     "else rates from energies)"),
           initial_state: Optional[str] = typer.Option(None, help="named initial state (rnmc format)")) -> None:
    """Export to RNMC SQLite, GraphML, Parquet or Cantera YAML (the mass-action mechanism)."""
    formats = ("rnmc", "graphml", "parquet", "cantera")
    if fmt not in formats:
        raise ValueError(f"format {fmt!r} is not valid; valid formats: {', '.join(formats)}")
    with _open(net) as store:
        if fmt == "rnmc":
            from sei_net.io.rnmc import export_rnmc

            if initial_state is None and "rnmc" in store.initial_state_names():
                initial_state = "rnmc"
            paths = export_rnmc(store, out, rate_source=rate_source or "rnmc", initial_state=initial_state)
        elif fmt == "graphml":
            from sei_net.io.graph_export import export_graphml

            paths = [export_graphml(store, out)]
        elif fmt == "cantera":
            from sei_net.kinetics.cantera_export import write_cantera
            from sei_net.kinetics.setup import load_mechanism

            mech, _ = load_mechanism(store, rate_source)
            paths = [write_cantera(mech, store.all_species(), out)]
        else:
            from sei_net.io.graph_export import export_parquet

            paths = export_parquet(store, out)
    for p in paths:
        typer.echo(str(p))


@app.command()
@user_command
def build(recipe: str = typer.Argument(..., help="recipe file or shipped recipe name"),
          out: Path = typer.Option(..., "-o", "--out", help="network file (.db) to build or resume"),
          max_generations: Optional[int] = typer.Option(None, help="override the recipe's limit"),
          max_species: Optional[int] = typer.Option(None, help="override the recipe's limit"),
          max_reactions: Optional[int] = typer.Option(None, help="override the recipe's limit"),
          force: bool = typer.Option(False, "--force", help="start over instead of resuming"),
          as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Generate the reaction network of a recipe (resumes an interrupted build)."""
    from sei_net.generate import build_network

    if as_json or not sys.stderr.isatty():   # a log gets a line per generation, a terminal a live bar
        net = build_network(recipe, out, max_generations, max_species, max_reactions, overwrite=force,
                            progress=None if as_json else (lambda m: typer.echo(m, err=True)))
    else:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=Console(stderr=True), transient=False) as bar:
            task = bar.add_task("starting", total=None)

            def tick(c: dict) -> None:
                bar.update(task, description=f"generation {c['generation']}: {c['candidates']:,} candidates, "
                                             f"+{c['new_species']:,} species, +{c['new_reactions']:,} reactions")

            net = build_network(recipe, out, max_generations, max_species, max_reactions, overwrite=force,
                                progress=bar.console.print, tick=tick)
            bar.update(task, description="done")
    with net:
        data = net.info()
        state = json.loads(net.store.get_meta("build_state"))
    if as_json:
        _emit_json({**data, "build_state": state})
    else:
        typer.echo(f"{out}: {data['species']} species, {data['reactions']} reactions after "
                   f"{state['generation_done']} generation(s) (stopped: {state.get('stop_reason')})")


@app.command()
@user_command
def label(network: Path = typer.Argument(..., help="network file (.db)"),
          oracle: str = typer.Option("gfn2", help="energy oracle: gfn2 | pyscf (DFT single points on the "
                                     "GFN2 geometry; the dft extra)"),
          labels: Optional[Path] = typer.Option(None, help="label cache (default: labels.db beside NETWORK)"),
          workers: int = typer.Option(1, help="Dask LocalCluster worker processes (1: no Dask)"),
          scheduler: Optional[str] = typer.Option(None, help="existing Dask scheduler, tcp://HOST:PORT"),
          max_heavy_atoms: Optional[int] = typer.Option(None, help="skip larger species"),
          limit: Optional[int] = typer.Option(None, help="label at most this many in this call"),
          conformers: int = typer.Option(3, help="starting geometries per species"),
          retry_failed: bool = typer.Option(False, "--retry-failed", help="recompute failed records"),
          resume_from: list[Path] = typer.Option([], "--resume-from", help="label export (.jsonl.gz) whose "
                                                 "records the cache lacks are added first (repeatable)"),
          as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Compute free energies of the network's species with an oracle (resumable, cached)."""
    from sei_net.energy.labelling import label_network

    _check_exports(resume_from)

    if workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    quiet = _quiet(as_json)

    def progress(done: int, total: int, rec) -> None:
        if not quiet:
            typer.echo(f"[{done}/{total}] {rec.status:20s} {rec.seconds:6.2f} s  {rec.key}", err=True)

    result = label_network(network, oracle, labels, workers=workers, scheduler=scheduler,
                           retry_failed=retry_failed, max_heavy_atoms=max_heavy_atoms, limit=limit,
                           progress=progress, n_conformers=conformers, resume_from=resume_from)
    if as_json:
        _emit_json(result)
    else:
        typer.echo(f"{network}: {result['computed']} computed in {result['seconds']} s; cache {result['cache']}; "
                   f"{result['energies_written']} energies written ({result['level_of_theory']})")
        for level, n in result["other_levels"].items():
            typer.echo(f"note: the cache also holds {n} records at {level}, which this run neither reads nor "
                       "extends (--conformers N labels at the GFN2 level with N conformers)", err=True)


def _gfn2_label_level(labels: Path, conformers: int | None) -> str:
    """The GFN2 species-label level a command reads from the cache ``labels``: the one made with
    ``conformers`` starting geometries, or, when None, the only GFN2 level the cache holds."""
    from sei_net.energy.gfn2 import GFN2Oracle
    from sei_net.energy.labels import LabelStore

    if conformers is not None:
        if conformers < 1:
            raise ValueError(f"--conformers must be >= 1, got {conformers}")
        return GFN2Oracle(n_conformers=conformers).level_of_theory
    if not labels.is_file():
        raise FileNotFoundError(f"label cache {labels} does not exist; make it with sei-net label")
    with LabelStore(labels) as cache:
        found = sorted(lv for lv in cache.levels() if lv.startswith("GFN2-xTB/"))
    if len(found) != 1:
        raise ValueError(f"{labels} holds {len(found)} GFN2 label levels {found}; pick one with --conformers N")
    return found[0]


def _check_exports(paths: list[Path]) -> None:
    """One clear error for a --resume-from file that is not there, before any store is touched."""
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"--resume-from {path} does not exist; give a committed export "
                                    "(.jsonl or .jsonl.gz), e.g. data/labels/gfn2_ec_lipf6.jsonl.gz")


def _echo_test_metrics(test: dict) -> None:
    """One line per test set: MAE and RMSE (eV), and the uncertainty metrics where there are some."""
    for what, m in test.items():
        typer.echo(f"test {what} (n={m['n']}): MAE {m['mae']:.3f} eV, RMSE {m['rmse']:.3f} eV"
                   + (f", miscalibration area {m['miscalibration_area']:.3f}, 95% coverage {m['coverage_95']:.3f}, "
                      f"Spearman {m['spearman']:.2f} ({m['spearman_reference']:.2f} if calibrated)"
                      if "coverage_95" in m else ""))


def _check_training(out: Path, force: bool, split: str, splits: tuple, members: int, epochs: int) -> None:
    """One clear error for a training command's bad arguments, before any work."""
    if out.exists() and not force:
        raise FileExistsError(f"{out} exists; give --force to replace it or choose another -o")
    if split not in splits:
        raise ValueError(f"--split {split!r} is not valid; valid splits: {', '.join(splits)}")
    if members < 1 or epochs < 2:
        raise ValueError("--members must be >= 1 and --epochs >= 2")


@app.command()
@user_command
def neb(network: Path = typer.Argument(..., help="network file (.db)"),
        labels: Path = typer.Option(..., "--labels", help="label cache (.db) with the species' oracle geometries"),
        barriers: Optional[Path] = typer.Option(None, help="barrier store (default: barriers.db beside NETWORK)"),
        limit: Optional[int] = typer.Option(None, help="run at most this many reactions in this call"),
        seed: int = typer.Option(0, help="order in which the eligible reactions are sampled"),
        shard: str = typer.Option("0/1", help="K/N: run every N-th reaction from the K-th (N processes)"),
        retry_failed: bool = typer.Option(False, "--retry-failed", help="rerun failed reactions"),
        kind: list[str] = typer.Option([], "--kind", help="run only reactions of this kind (repeatable): "
                                       "ring_opening, ring_closing, concerted, fragmentation"),
        export: Optional[Path] = typer.Option(None, help="then write the barrier dataset (.jsonl.gz)"),
        resume_from: list[Path] = typer.Option([], "--resume-from", help="barrier dataset (.jsonl.gz) whose "
                                               "reactions the store lacks are added first (repeatable)"),
        conformers: Optional[int] = typer.Option(None, help="read the species labels made with this many "
                                                 "conformers (default: the cache's only GFN2 level)"),
        images: int = typer.Option(NEB_IMAGES, help="moving images per band; another count is another level of theory, "
                                   "run only for reactions no stored level settled (e.g. 11 with --failed-reason)"),
        max_steps: int = typer.Option(NEB_MAX_STEPS, help="FIRE steps per NEB phase at most"),
        failed_reason: str = typer.Option("", help="run only reactions stored as failed with a reason that "
                                          "contains this, e.g. 'did not converge' (implies --retry-failed)"),
        as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Climbing-image NEB barriers (GFN2-xTB) for the network's unimolecular reactions (resumable)."""
    from sei_net.energy.barrier_labels import NEB_KINDS, label_barriers
    from sei_net.learn.barrier_data import export_barrier_dataset

    try:
        k, n = (int(x) for x in shard.split("/"))
        if not 0 <= k < n:
            raise ValueError
    except ValueError:
        raise ValueError(f"--shard {shard!r} is not valid; give K/N with 0 <= K < N, e.g. 0/2") from None
    barriers = barriers or network.with_name("barriers.db")
    _check_exports(resume_from)
    level = _gfn2_label_level(labels, conformers)
    quiet = _quiet(as_json)
    result = label_barriers(network, labels, barriers, level, limit, seed, retry_failed, (k, n),
                            echo=(lambda m: None) if quiet else (lambda m: typer.echo(m, err=True)),
                            resume_from=resume_from, kinds=kind or NEB_KINDS, n_images=images,
                            max_steps=max_steps, failed_reason=failed_reason)
    result["label_level"] = level
    if export is not None:
        result["exported"], result["export_left_out"] = export_barrier_dataset(barriers, network, labels, level,
                                                                               export)
    if as_json:
        _emit_json(result)
    else:
        typer.echo(f"{barriers}: {result['run']} run of {result['eligible']} eligible; stored {result['counts']}"
                   + (f"; {result['exported']} written to {export}" if export is not None else "")
                   + (f" ({result['export_left_out']} records of reactions not in {network.name} left out)"
                      if result.get("export_left_out") else ""))


@app.command("train-barriers")
@user_command
def train_barriers(datasets: list[Path] = typer.Argument(..., help="barrier datasets (.jsonl.gz) from sei-net neb"),
                   out: Path = typer.Option(..., "-o", "--out", help="model file to write (.pt)"),
                   split: str = typer.Option("random", help="random | hard (test on the largest reactants)"),
                   members: int = typer.Option(5, help="ensemble members"),
                   epochs: int = typer.Option(300, help="epochs per member"),
                   seed: int = typer.Option(0, help="split and first member seed"),
                   device: str = typer.Option("auto", help="auto | cpu | cuda"),
                   external: Optional[Path] = typer.Option(None, help="folder with 20211130_ts.json and "
                                                           "20211130_mol_entries.json: external DFT test"),
                   cv: int = typer.Option(0, "--cv", help="also K-fold cross-validate (K >= 2; 0: no)"),
                   loss: str = typer.Option("absolute", help="absolute | squared error of the barrier (absolute measured better)"),
                   anchored: bool = typer.Option(False, "--anchored", help="start from the per-class Marcus fit and "
                                                 "learn departures from it"),
                   architecture: str = typer.Option("cgr", help="cgr (message passing on each reaction's condensed "
                                                    "graph) | species_embedding (species encoded once, reactions "
                                                    "read from their centre atoms)"),
                   domain: Optional[list[str]] = typer.Option(None, "--domain", help="reaction class the model is "
                                                              "used for (repeatable; default: every trained class)"),
                   lowest_of: Optional[list[Path]] = typer.Option(None, "--lowest-of", help="repeat runs of the same "
                                                                  "reactions (repeatable): keep the lower saddle"),
                   force: bool = typer.Option(False, "--force", help="replace an existing model file"),
                   as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Train, calibrate and test a barrier-surrogate ensemble on NEB labels, against BEP (eV)."""
    from sei_net.learn.barrier_ensemble import BarrierTrainConfig
    from sei_net.learn.barrier_fit import SPLITS, fit_barrier_surrogate

    _check_training(out, force, split, SPLITS, members, epochs)
    config = BarrierTrainConfig(epochs=epochs, loss=loss, anchored=anchored, architecture=architecture)
    if cv == 1 or cv < 0:
        raise ValueError(f"--cv {cv} is not valid; give 0 (none) or a number of folds >= 2")
    externals = ()
    if external is not None:
        from sei_net.learn.external_barriers import load_external_barriers

        externals = load_external_barriers(external / "20211130_ts.json", external / "20211130_mol_entries.json")
    ensemble, report = fit_barrier_surrogate(datasets, split, members, config, seed, device, externals, cv, domain,
                                             lowest_of or ())
    ensemble.save(out)
    if as_json:
        _emit_json(report)
        return
    typer.echo(f"wrote {out}: {members} members, {report['sizes']} ({split} split)")
    _echo_test_metrics(report["test"])
    typer.echo(f"MAE reduction vs fitted BEP: {100 * report['mae_reduction_vs_bep']:.0f} %")
    ext = report.get("external", {})
    if ext.get("n"):
        typer.echo(f"external DFT transition states (n={ext['n']}, {ext['n_unmapped']} unmapped): MAE model "
                   f"{ext['model']['mae']:.3f}, fitted BEP {ext['bep_fitted']['mae']:.3f}, RNMC-like BEP "
                   f"{ext['bep_default']['mae']:.3f} eV")
    for group, m in report.get("cross_validation", {}).get("mae", {}).items():
        typer.echo(f"{report['cross_validation']['folds']}-fold CV MAE, {group} (n={m['n']}): model {m['model']:.3f}, "
                   f"fitted BEP {m['bep_fitted']:.3f}, RNMC-like BEP {m['bep_default']:.3f} eV")


@app.command("electrode-scale")
@user_command
def electrode_scale(labels: list[Path] = typer.Argument(..., help="label caches (.db) or exports (.jsonl.gz)"),
                    level: Optional[str] = typer.Option(None, help="level of theory, when the labels hold several"),
                    as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Calibrate the oracle's electron free-energy constant c (eV) on measured reduction potentials
    of electrolyte carbonates, and predict the others (V vs Li/Li+)."""
    from sei_net.energy.electrode_scale import calibrate_electron_offset
    from sei_net.learn.dataset import label_energies

    seen, chosen = label_energies(labels, level)
    scale = calibrate_electron_offset({key: g for key, (_status, g) in seen.items()})
    if as_json:
        _emit_json({"level_of_theory": chosen, **scale.to_dict()})
        return
    span = (f"{scale.offset_range[0]:.3f}..{scale.offset_range[1]:.3f}" if scale.offset_range
            else "none: the fitted windows disagree")
    typer.echo(f"c = {scale.offset:.3f} eV (windows allow {span}); G_e(U) = -(U + c) eV; {chosen}")
    _table(["couple", "U (V vs Li/Li+)"], [[name, f"{u:+.2f}"] for name, u in scale.potentials.items()])
    typer.echo("")
    _table(["couple", "measured (V)", "predicted", "holds", "fitted", "source"],
           [[c["couple"], "..".join("" if v is None else str(v) for v in (c["low_V"], c["high_V"])),
             "" if c["predicted_V"] is None else f"{c['predicted_V']:+.2f}", c["holds"], c["fitted"],
             c["source"][:60]] for c in scale.checks])
    if scale.missing:
        typer.echo(f"no labels for: {', '.join(scale.missing)}")


def _path_query(store, potential, electron_free_energy, temperature, cost, source):
    from sei_net.kinetics.query import PathQuery

    if potential is not None and electron_free_energy is not None:
        raise ValueError("give --potential or --electron-free-energy, not both")
    return PathQuery.prepare(store, source=source, potential=potential,
                             electron_free_energy=electron_free_energy, temperature=temperature,
                             cost=cost)


_FROM = typer.Option(..., "--from", help="starting species (name, SMILES or key); repeat")
_POTENTIAL = typer.Option(None, "--potential", help="electrode potential, V vs Li/Li+ (default: recipe's)")
_ELECTRON = typer.Option(None, "--electron-free-energy", help="electron free energy, eV (instead of --potential)")
_TEMPERATURE = typer.Option(None, "--temperature", help="K (default: recipe's, else 298.15)")
_COST = typer.Option("mrnet", "--cost", help="mrnet | softplus | kinetic")
_SOURCE = typer.Option(None, "--source", help="energy source (default: the one covering most species)")
_LABELS = typer.Option([], "--labels", help="oracle label files (.db, .jsonl.gz): labelled species keep "
                       "their oracle G; repeat")
_SHIPPED_LABELS = typer.Option(True, "--shipped-labels/--no-shipped-labels", help="species in the shipped "
                               "GFN2-xTB label files (data/labels/) keep their oracle G (after --labels); "
                               "--no-shipped-labels scores every other species with the surrogate")


@app.command()
@user_command
def train(labels: list[Path] = typer.Argument(..., help="label caches (.db) or exports (.jsonl.gz)"),
          out: Path = typer.Option(..., "-o", "--out", help="model file to write (.pt)"),
          network: list[Path] = typer.Option([], "--network", help="network(s) whose labelled reactions "
                                             "calibrate and test reaction energies; repeat"),
          split: str = typer.Option("random", help="random | size (test on the largest 10 % of species)"),
          members: int = typer.Option(5, help="ensemble members"),
          epochs: int = typer.Option(300, help="epochs per member"),
          hidden: int = typer.Option(64, help="hidden width"),
          layers: int = typer.Option(4, help="message-passing layers"),
          seed: int = typer.Option(0, help="split and first member seed"),
          device: str = typer.Option("auto", help="auto | cpu | cuda"),
          level: Optional[str] = typer.Option(None, help="level of theory, when the labels hold several"),
          coordination: str = typer.Option("rekey", help="coordination_changed labels: rekey (on the graph "
                                           "they relaxed to) | keep (on the species they started from) | drop"),
          bounds: bool = typer.Option(True, "--bounds/--no-bounds", help="with rekey: train the start graphs "
                                      "of re-keyed records as lower bounds (G >= the relaxed record's G)"),
          checkpoint: Optional[Path] = typer.Option(None, help="folder for finished members, so that a killed "
                                                    "run resumes there (default: OUT with suffix .members; "
                                                    "removed once OUT is written)"),
          workers: int = typer.Option(1, help="members trained at once, each in a one-thread CPU process "
                                      "(no per-epoch progress)"),
          huber: Optional[float] = typer.Option(None, help="Huber loss with this delta (eV) instead of the "
                                                "squared error"),
          ema: Optional[float] = typer.Option(None, help="validate and keep an exponential moving average "
                                              "of the weights with this decay per step (e.g. 0.999)"),
          detach_variance: bool = typer.Option(False, "--detach-variance/--shared-variance",
                                               help="train the variance head on detached features, so "
                                               "its loss leaves the layers the mean uses alone"),
          pin_small: bool = typer.Option(True, "--pin-small/--no-pin-small",
                                         help=f"species of at most {ORACLE_MAX_HEAVY} heavy atoms (which the main "
                                         "job labels with the oracle) always train; --no-pin-small splits as "
                                         "models trained before that rule did (the shipped energy model)"),
          force: bool = typer.Option(False, "--force", help="replace an existing model file"),
          as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Train, calibrate and test an energy-surrogate ensemble on oracle labels (eV); rerun the same
    command after an interruption and it goes on from the last finished member."""
    from sei_net.learn.card import failed_members
    from sei_net.learn.checkpoint import remove_checkpoints
    from sei_net.learn.fit import SPLITS, fit_energy_surrogate
    from sei_net.learn.train import TrainConfig

    _check_training(out, force, split, SPLITS, members, epochs)
    if hidden < 1 or layers < 1:
        raise ValueError("--hidden and --layers must be >= 1")
    if huber is not None and not huber > 0:
        raise ValueError(f"--huber {huber} is not valid; give a delta > 0 eV, or leave it out for the squared error")
    if ema is not None and not 0 < ema < 1:
        raise ValueError(f"--ema {ema} is not valid; give a decay between 0 and 1 (e.g. 0.999), or leave it out")
    quiet = _quiet(as_json)
    checkpoint = checkpoint or out.with_suffix(".members")

    def progress(member: int, rec: dict) -> None:
        if not quiet and rec["epoch"] % 10 == 0:
            typer.echo(f"member {member} epoch {rec['epoch']}: train mse {rec['train_mse']:.4f} "
                       f"val mse {rec['val_mse']:.4f}", err=True)

    ensemble, report = fit_energy_surrogate(labels, network, split, members,
                                            TrainConfig(epochs=epochs, hidden=hidden, layers=layers,
                                                        huber_delta=huber, ema_decay=ema,
                                                        detach_variance=detach_variance), seed,
                                            device, level, progress, coordination, checkpoint, bounds,
                                            workers, ORACLE_MAX_HEAVY if pin_small else None)
    ensemble.save(out)
    remove_checkpoints(checkpoint)
    if as_json:
        _emit_json(report)
        return
    typer.echo(f"wrote {out}: {members} members, {report['sizes']} ({split} split), {report['level_of_theory']}")
    for line in failed_members(ensemble.card):
        typer.echo(line)
    _echo_test_metrics(report["test"])
    check = report["start_graph_bounds"]
    if check["n"]:
        typer.echo(f"test start graphs (n={check['n']}): {check['fraction_below']:.1%} predicted more than "
                   f"{check['margin_eV']} eV below their lower bound")


@app.command()
@user_command
def recalibrate(model: Path = typer.Argument(..., help="energy model file (.pt) from sei-net train, or 'default'"),
                out: Path = typer.Option(..., "-o", "--out", help="model file to write (.pt)"),
                blend: bool = typer.Option(False, "--blend/--sum", help="species map on the likelihood-fitted "
                                           "blend of the epistemic and aleatoric variances, or on their sum "
                                           "(the default; the blend is overconfident on chemistry the model "
                                           "has not seen: docs/surrogates.md)"),
                force: bool = typer.Option(False, "--force", help="replace an existing model file"),
                as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Fit an energy model's recalibration maps again on its own calibration part and measure its
    test part again (eV); the members are not retrained. The card's label files and networks must
    be where it names them."""
    from sei_net.learn.fit import recalibrate_energy_surrogate
    from sei_net.learn.score import model_path

    if out.exists() and not force:
        raise FileExistsError(f"{out} exists; give --force to replace it (-o may name the model itself)")
    ensemble, report = recalibrate_energy_surrogate(model_path(model), blend)
    ensemble.save(out)
    if as_json:
        _emit_json(report)
        return
    typer.echo(f"wrote {out}: species map on the {'blend' if blend else 'sum'} of the variance parts, "
               f"{report['calibration_points']} calibration points")
    _echo_test_metrics(report["test"])


@app.command()
@user_command
def adapt(model: Path = typer.Argument(..., help="energy model file (.pt) from sei-net train, or 'default'"),
          labels: list[Path] = typer.Argument(..., help="oracle labels of the new species (.db or .jsonl.gz)"),
          out: Path = typer.Option(..., "-o", "--out", help="model file to write (.pt)"),
          epochs: int = typer.Option(10, help="fine-tuning epochs over the new labels and the replay"),
          lr: float = typer.Option(5e-4, help="peak learning rate (cosine decay to 0)"),
          replay: Optional[int] = typer.Option(None, help="species of the model's training part replayed per "
                                               "member (default: all of them)"),
          seed: int = typer.Option(0, help="replay draw and data order seed"),
          workers: int = typer.Option(1, help="members fine-tuned at once, each in a one-thread CPU process"),
          force: bool = typer.Option(False, "--force", help="replace an existing model file"),
          as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Fine-tune an energy model on oracle labels of new species (a new electrolyte's network) in
    minutes, refit its recalibration maps on its own calibration part and measure its test part
    again (eV). The card's label files and networks must be where it names them."""
    from sei_net.learn.adapt import AdaptConfig, adapt_energy_surrogate
    from sei_net.learn.score import model_path

    if out.exists() and not force:
        raise FileExistsError(f"{out} exists; give --force to replace it")
    ensemble, report = adapt_energy_surrogate(model_path(model), labels, AdaptConfig(epochs=epochs, lr=lr, replay=replay),
                                              seed, workers)
    ensemble.save(out)
    if as_json:
        _emit_json({**report, "adapted": ensemble.card["adapted"]})
        return
    adapted = ensemble.card["adapted"]
    typer.echo(f"wrote {out}: fine-tuned on {len(adapted['keys'])} new species "
               f"({adapted['left_out_known']} labels left out: already in the model's split)")
    _echo_test_metrics(report["test"])


@app.command()
@user_command
def learn(net: Path = typer.Argument(..., help="network file (.db), built by sei-net build"),
          labels: Path = typer.Option(..., "--labels", help="label cache (.db); new labels are added to it"),
          out: Path = typer.Option(..., "-o", "--out", help="folder for round models and learning_curve.json"),
          rounds: int = typer.Option(3, "--rounds", help="acquisition rounds (a last training round measures)"),
          batch: int = typer.Option(50, "--batch", help="species labelled per round"),
          extra_labels: list[Path] = typer.Option([], "--extra-labels", help="more label files (.jsonl.gz)"),
          members: int = typer.Option(5, help="ensemble members"),
          epochs: int = typer.Option(300, help="epochs per member"),
          potential: Optional[float] = typer.Option(None, help="V vs Li/Li+ (default: the recipe's)"),
          conformers: int = typer.Option(3, help="GFN2 starting geometries per species (1: the level of the "
                                         "committed labels)"),
          device: str = typer.Option("auto", help="auto | cpu | cuda"),
          fine_tune: Optional[str] = typer.Option(None, "--fine-tune", help="model file or 'default': round 0 "
                                                  "is this model, and each later round fine-tunes it on the "
                                                  "labels so far (minutes; sei-net adapt) instead of training "
                                                  "from scratch (hours)"),
          as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Active learning: label the most uncertain species on the best paths, retrain, repeat."""
    from sei_net.learn.active import learn as run_learning
    from sei_net.learn.score import model_path
    from sei_net.learn.train import TrainConfig

    if rounds < 0 or batch < 1 or members < 1 or epochs < 2:
        raise ValueError("--rounds must be >= 0, --batch and --members >= 1, --epochs >= 2")
    if not net.exists():
        raise FileNotFoundError(f"network {net} does not exist; build it with sei-net build")
    base = None if fine_tune is None else model_path(fine_tune)
    quiet = _quiet(as_json)
    results = run_learning(net, labels, out, rounds, batch, members, TrainConfig(epochs=epochs), extra_labels,
                           potential=potential, device=device, oracle_settings={"n_conformers": conformers},
                           echo=(lambda m: None) if quiet else (lambda m: typer.echo(m, err=True)),
                           base_model=base)
    curve = [{"round": r.round, "labels": r.n_labels, "picked": len(r.picked), "on_best_paths": r.picked_relevant,
              **{f"{what}_mae": m["mae"] for what, m in r.report["test"].items()}} for r in results]
    if as_json:
        _emit_json({"learning_curve": curve, "folder": str(out)})
    else:
        _table(["round", "labels", "test species MAE eV", "test reaction MAE eV", "picked", "on best paths"],
               [[c["round"], c["labels"], f"{c['species_mae']:.3f}",
                 f"{c['reactions_mae']:.3f}" if "reactions_mae" in c else "-", c["picked"], c["on_best_paths"]]
                for c in curve])


@app.command()
@user_command
def score(net: Path = typer.Argument(..., help="network file (.db)"),
          model: str = typer.Option("default", help="model file (.pt) or 'default' (shipped GFN2 surrogate)"),
          labels: list[Path] = _LABELS,
          shipped_labels: bool = typer.Option(True, "--shipped-labels/--no-shipped-labels", help="with the "
                                              "default model: species in the shipped GFN2-xTB label files "
                                              "(its level of theory) keep their oracle G, after --labels"),
          oracle_small: bool = typer.Option(False, "--oracle-small", help=f"first label the species of at most "
                                            f"{ORACLE_MAX_HEAVY} heavy atoms that no label file has with the "
                                            "model's oracle (into labels.db beside NET; as sei-net run does)"),
          oracle_outside: bool = typer.Option(False, "--oracle-outside", help="first label the species outside "
                                              "the model's applicability domain (an atom environment no training "
                                              "species has) that no label file has with the model's oracle (into "
                                              "labels.db beside NET; as sei-net run does)"),
          barrier_model: Optional[str] = typer.Option(None, "--barrier-model", help="barrier model file (.pt) "
                                                      "or 'default': also store learned intrinsic barriers"),
          device: str = typer.Option("auto", help="auto | cpu | cuda"),
          as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Predict free energies with uncertainties (eV) for every species of a network and store them
    (species with oracle labels keep those); with --barrier-model, intrinsic barriers (eV) for the
    non-redox reactions of its domain too."""
    from sei_net.learn.domain import describe_domain
    from sei_net.learn.novelty import describe
    from sei_net.learn.score import load_barrier_model, score_barriers, score_file
    from sei_net.store import NetworkStore

    barrier_ensemble = None if barrier_model is None else load_barrier_model(barrier_model, device)
    cache = net.with_name("labels.db")
    result, _ = score_file(net, model, labels, device, shipped_labels, cache if oracle_small else None,
                           outside_domain_cache=cache if oracle_outside else None)
    if barrier_ensemble is not None:
        with NetworkStore.open(net) as store:
            result["barriers"] = score_barriers(store, barrier_ensemble)
    if as_json:
        _emit_json(result)
    else:
        typer.echo(f"{net}: {result['scored']} of {result['species']} species scored as {result['source']!r} "
                   f"({result['oracle_labels_kept']} at their oracle labels) "
                   f"in {result['seconds']['total']} s on {result['device']} "
                   f"({result['skipped_unknown_elements']} with unknown elements skipped)")
        if novelty_line := describe(result["novelty"]):
            typer.echo(novelty_line)
        if result["no_minimum_unscored"] or result["dissociative_transfers"]["removed"]:
            d = result["dissociative_transfers"]
            typer.echo(f"{result['no_minimum_unscored']} species have no oracle minimum and are left unscored; "
                       f"{d['reactions']} concerted dissociative electron transfers through them "
                       f"({d['added']} added, {d['removed']} removed)")
        for what, done in (("small species", result["small_species"]),
                           ("species outside the model's domain", result["outside_domain"])):
            if done:
                typer.echo(f"{what} not labelled: {done['skipped']}" if "skipped" in done else
                           f"{done['unlabelled']} {what} had no label: {done['computed']} computed now, "
                           f"{done['usable']} usable, in {done['cache']}")
        if domain_line := describe_domain(result["domain"]):
            typer.echo(domain_line)
        if "barriers" in result:
            b = result["barriers"]
            typer.echo(f"intrinsic barriers of {b['reactions']} reactions stored as {b['source']!r} in {b['seconds']} s")


@app.command()
@user_command
def paths(net: Path = typer.Argument(..., help="network file (.db)"),
          sources: list[str] = _FROM,
          target: str = typer.Option(..., "--to", help="target species (name, SMILES or key)"),
          k: int = typer.Option(5, "-k", help="number of paths"),
          potential: Optional[float] = _POTENTIAL, electron_free_energy: Optional[float] = _ELECTRON,
          temperature: Optional[float] = _TEMPERATURE, cost: str = _COST,
          source: Optional[str] = _SOURCE,
          plot: Optional[Path] = typer.Option(None, "--plot", help="PNG of the best path's free-energy diagram"),
          as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """The k cheapest reaction paths (hyperpaths) from the starting species to a target."""
    from sei_net.kinetics.path_output import path_record, path_text, plot_path

    with _open(net) as store:
        q = _path_query(store, potential, electron_free_energy, temperature, cost, source)
        start = [q.species_id(x) for x in sources]
        goal = q.species_id(target)
        if goal in start:
            raise ValueError(f"target {target!r} is one of the starting species")
        found = q.paths(start, goal, k)
        records = [path_record(q, p, i + 1) for i, p in enumerate(found)]
    if plot is not None:
        plot_path(records[0], plot)
    if as_json:
        _emit_json({"settings": q.describe(), "paths": records})
        return
    d = q.describe()
    typer.echo(f"{d['energy_source']} energies ({d['level_of_theory']}); G_e = "
               f"{d['electron_free_energy_eV']:.3f} eV; {d['temperature_K']} K; cost {d['cost']}; "
               f"uncertainty: {d['uncertainty']}")
    for rec in records:
        typer.echo(path_text(rec))


@app.command()
@user_command
def products(net: Path = typer.Argument(..., help="network file (.db)"),
             sources: list[str] = _FROM,
             top: int = typer.Option(20, "--top", help="how many products"),
             potential: Optional[float] = _POTENTIAL, electron_free_energy: Optional[float] = _ELECTRON,
             temperature: Optional[float] = _TEMPERATURE, cost: str = _COST,
             source: Optional[str] = _SOURCE,
             as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Likely products: reachable, kinetically stable species ranked by path cost (the mean energies'
    top N, then any species most energy members put in their top N)."""
    from sei_net.kinetics.products import likely_products

    with _open(net) as store:
        q = _path_query(store, potential, electron_free_energy, temperature, cost, source)
        start = [q.species_id(x) for x in sources]
        ranked = likely_products(q, start, top)
    if as_json:
        _emit_json({"settings": q.describe(), "products": ranked})
        return
    _table(["rank", "species", "class", "cost", "P(top)", "ranked by", "smiles"],
           [[i + 1, p["species"], p["class"], "-" if p["cost"] is None else f"{p['cost']:.4g}",
             "-" if p["probability_top_k"] is None else f"{p['probability_top_k']:.2f}", p["ranked_by"], p["smiles"]]
            for i, p in enumerate(ranked)])


_INIT = typer.Option([], "--init", help="starting molecules NAME=COUNT; repeat (default: the stored initial "
                     "state, else the recipe's concentrations)")
_VOLUME = typer.Option(None, "--volume", help="volume in L (default: from the recipe's concentrations)")
_RNMC = typer.Option(False, "--rnmc", help="RNMC's propensities and unscaled time (side-by-side runs)")
_RATES = typer.Option(None, "--rates", help="stored rate source (default: the only one, else rates from energies)")


def _print_counts(title: str, finals: dict, top: int = 15, std: bool = True) -> None:
    typer.echo(title)
    rows = list(finals.items())[:top]
    _table(["species", "mean", "std"] if std else ["species", "final"],
           [[k, f"{v['mean']:.1f}", f"{v['std']:.1f}"] if std else [k, f"{v:.4g}"] for k, v in rows])


_SEPARATION = typer.Option(100.0, "--separation", help="with acceleration: firings of each slowed pair "
                           "per net slow event (larger: more exact, slower)")


@app.command()
@user_command
def kmc(net: Path = typer.Argument(..., help="network file (.db)"),
        init: list[str] = _INIT,
        trajectories: int = typer.Option(100, "--trajectories", help="number of trajectories"),
        steps: Optional[int] = typer.Option(None, "--steps", help="stop after this many events"),
        time: Optional[float] = typer.Option(None, "--time", help="stop at this simulated time (s; RNMC units "
                                             "with --rnmc)"),
        seed: int = typer.Option(0, "--seed", help="seed of the first trajectory (trajectory i: seed + i)"),
        rnmc: bool = _RNMC, volume: Optional[float] = _VOLUME, rates: Optional[str] = _RATES,
        source: Optional[str] = _SOURCE, potential: Optional[float] = _POTENTIAL,
        workers: int = typer.Option(1, help="threads running trajectory batches"),
        scheduler: Optional[str] = typer.Option(None, help="Dask scheduler tcp://HOST:PORT for the batches"),
        members: bool = typer.Option(False, "--members", help="also run every energy member's rates and "
                                     "report the spread of final counts"),
        events: bool = typer.Option(False, "--events", help="record every event (needs --steps; with --out)"),
        accelerate: bool = typer.Option(False, "--accelerate", help="slow fast quasi-equilibrated reversible "
                                        "pairs at constant K (approximate; docs/kinetics.md)"),
        separation: float = _SEPARATION,
        kernel: str = typer.Option("auto", "--kernel", help="auto, tree (sum tree, any network) or dense "
                                   "(species-factorised, few species); both exact (docs/kinetics.md)"),
        out: Optional[Path] = typer.Option(None, "-o", "--out", help="folder for Parquet tables"),
        plot: Optional[Path] = typer.Option(None, "--plot", help="PNG of mean counts against time"),
        as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Stochastic kinetics (Gillespie direct method) over many trajectories."""
    from sei_net.kinetics.acceleration import Acceleration
    from sei_net.kinetics.runs import kmc as run_kmc

    if steps is None and time is None:
        raise ValueError("give --steps N or --time T (or both) to say when trajectories stop")
    scaling = Acceleration(separation=separation) if accelerate else None
    with _open(net, readonly=False) as store:
        summary = run_kmc(store, init=init, trajectories=trajectories, steps=steps, time=time, seed=seed,
                          rnmc=rnmc, volume=volume, rates=rates, energy_source=source, potential=potential,
                          workers=workers, scheduler=scheduler, members=members, record_events=events,
                          out=out, plot=plot, accelerate=scaling, kernel=kernel)
    if as_json:
        _emit_json(summary)
        return
    typer.echo(f"{summary['trajectories']} trajectories, {summary['events']} events in "
               f"{summary['wall_seconds']:.2f} s ({summary['events_per_second']:.3g} events/s, "
               f"{summary['kernel']} kernel); {summary['settings']['mode']} mode, rates "
               f"{summary['settings']['rates']}")
    _print_counts("final counts (mean, std over trajectories):", summary["final_counts"])
    if "member_spread" in summary:
        _print_counts(f"spread over {summary['settings']['members']} energy members (mean, std of the "
                      "trajectory mean):", summary["member_spread"])


@app.command()
@user_command
def ode(net: Path = typer.Argument(..., help="network file (.db)"),
        time: float = typer.Option(..., "--time", help="end time (s; RNMC units with --rnmc)"),
        init: list[str] = _INIT, rnmc: bool = _RNMC, volume: Optional[float] = _VOLUME,
        rates: Optional[str] = _RATES, source: Optional[str] = _SOURCE, potential: Optional[float] = _POTENTIAL,
        method: str = typer.Option("BDF", help="BDF | Radau | LSODA"),
        plot: Optional[Path] = typer.Option(None, "--plot", help="PNG of concentrations against time"),
        as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Mean-field mass-action kinetics (stiff ODE, sparse Jacobian)."""
    from sei_net.kinetics.runs import ode as run_ode

    with _open(net, readonly=False) as store:
        summary = run_ode(store, time=time, init=init, rnmc=rnmc, volume=volume, rates=rates,
                          energy_source=source, potential=potential, method=method, plot=plot)
    if as_json:
        _emit_json(summary)
        return
    typer.echo(f"{summary['method']} to t = {summary['time']:.4g} in {summary['wall_seconds']:.2f} s "
               f"({summary['rhs_evaluations']} right-hand sides); {summary['units']}")
    _print_counts("final amounts:", summary["final"], std=False)


@app.command()
@user_command
def run(recipe: str = typer.Argument(..., help="recipe file or shipped recipe name"),
        out: Path = typer.Option(Path("out"), "-o", "--out", help="output folder"),
        labels: list[Path] = _LABELS, shipped_labels: bool = _SHIPPED_LABELS,
        oracle_small: bool = typer.Option(True, "--oracle-small/--no-oracle-small", help="label the species of "
                                          f"at most {ORACLE_MAX_HEAVY} heavy atoms that no label file has with the oracle "
                                          "(GFN2-xTB, OUT/labels.db) instead of predicting them"),
        oracle_outside: bool = typer.Option(True, "--oracle-outside/--no-oracle-outside", help="label the species "
                                            "outside the surrogate's applicability domain (an atom environment no "
                                            "training species has) that no label file has with the oracle "
                                            "(GFN2-xTB, OUT/labels.db) instead of predicting them"),
        max_generations: Optional[int] = typer.Option(None, "--max-generations", help="network depth: "
                                                      "override the recipe's limit (a built network is extended)"),
        potential: Optional[str] = typer.Option(None, "--potential", help="potentials to sweep, V vs Li/Li+, "
                                                "comma-separated (default 0,0.3,...,1.5; the recipe's is added)"),
        temperature: Optional[str] = typer.Option(None, "--temperature", help="temperatures to sweep, K, "
                                                  "comma-separated (default: the recipe's)"),
        trajectories: int = typer.Option(8, "--trajectories", help="kinetics trajectories per rate set (0: no kinetics)"),
        kinetics_time: float = typer.Option(1.0, "--kinetics-time", help="simulated time to aim for (s)"),
        kinetics_events: int = typer.Option(2_000_000, "--kinetics-events", help="most events per trajectory"),
        separation: float = _SEPARATION,
        exact_kinetics: bool = typer.Option(False, "--exact-kinetics", help="exact SSA: do not slow fast "
                                            "equilibrated pairs (reaches ~us on generated networks)"),
        grow: int = typer.Option(0, "--grow", help="reactive steps of an SEI growth run in OUT/growth (0: none)"),
        electrode: str = typer.Option("marcus", "--electrode-kinetics", help="barriers of electrode steps: "
                                      "marcus (parabola, inverted region) or mhc (Marcus-Hush-Chidsey, none)"),
        viscosity: Optional[float] = typer.Option(None, "--viscosity", help="electrolyte shear viscosity at 25 C, "
                                                  "mPa s (Arrhenius, 15 kJ/mol, at other temperatures), for the "
                                                  "encounter limit of bimolecular rates (default 3, 1 M LiPF6 in "
                                                  "carbonates; 0: TST rates unlimited)"),
        force: bool = typer.Option(False, "--force", help="start over instead of resuming")) -> None:
    """The main job: build, score, rank products and paths, sweep potentials, run kinetics (and
    with --grow an SEI growth); write OUT/summary.json and OUT/report.html. Resumable."""
    from sei_net.kinetics.acceleration import Acceleration
    from sei_net.workflow import run_main_job

    def values(text: Optional[str], what: str, unit: str) -> Optional[list[float]]:
        if text is None:
            return None
        try:
            return [float(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise ValueError(f"--{what} {text!r} is not valid: give comma-separated numbers in {unit}, "
                             "e.g. 0.0,0.5,1.0") from None

    for name, value, low in (("trajectories", trajectories, 0), ("grow", grow, 0), ("kinetics-events", kinetics_events, 1),
                             ("max-generations", 1 if max_generations is None else max_generations, 1)):
        if value < low:
            raise ValueError(f"--{name} {value} is not valid: give a whole number >= {low}")
    if not kinetics_time > 0:
        raise ValueError(f"--kinetics-time {kinetics_time} is not valid: give a positive time in s")
    from sei_net.kinetics.rates import DEFAULT_VISCOSITY, ELECTRODE_MODELS
    if viscosity is not None and not viscosity >= 0:
        raise ValueError(f"--viscosity {viscosity} is not valid: give the electrolyte's shear viscosity in mPa s "
                         "(about 3 for 1 M LiPF6 in carbonates), or 0 for no encounter limit")
    # mPa s -> Pa s; 0 turns the limit off
    viscosity_pa_s = DEFAULT_VISCOSITY if viscosity is None else (viscosity * 1e-3 if viscosity > 0 else None)
    if electrode not in ELECTRODE_MODELS:
        raise ValueError(f"--electrode-kinetics {electrode!r} is not valid; valid: {', '.join(ELECTRODE_MODELS)}")
    temperatures = values(temperature, "temperature", "K")
    if temperatures and min(temperatures) <= 0:
        raise ValueError(f"--temperature {temperature!r} is not valid: temperatures are in K and positive")
    kinetics = ({"trajectories": trajectories, "time": kinetics_time, "max_steps": kinetics_events,
                 "accelerate": None if exact_kinetics else Acceleration(separation=separation)}
                if trajectories else None)
    summary = run_main_job(recipe, out, force=force, labels=labels, echo=lambda m: typer.echo(m, err=True),
                           potentials=values(potential, "potential", "V vs Li/Li+"), temperatures=temperatures,
                           kinetics=kinetics, grow_steps=grow, shipped_labels=shipped_labels,
                           max_generations=max_generations, electrode=electrode,
                           viscosity=viscosity_pa_s, oracle_small=oracle_small, oracle_outside=oracle_outside)
    typer.echo(json.dumps(summary["network"], indent=1))
    typer.echo(f"wrote {Path(out) / 'summary.json'} and {summary['report']}", err=True)


@app.command()
@user_command
def grow(recipe: str = typer.Argument(..., help="recipe file or shipped recipe name"),
         net: Optional[Path] = typer.Option(None, "--net", help="network file (.db) with energies or rates "
                                            "(default: build and score the recipe's network in OUT, the "
                                            "shipped GFN2 labels kept, as sei-net run does)"),
         steps: int = typer.Option(200, "--steps", help="reactive MC steps, each after --md-steps MD steps"),
         seed: int = typer.Option(0, "--seed", help="random seed (initial cell, noise, MC)"),
         out: Path = typer.Option(Path("out/growth"), "-o", "--out", help="folder for results and the checkpoint"),
         box: float = typer.Option(40.0, help="cell edge in x and y (Å)"),
         height: float = typer.Option(60.0, help="electrode-to-top distance (Å)"),
         md_steps: int = typer.Option(100, help="MD steps (5 fs each) between reactive steps"),
         reactive_dt: float = typer.Option(1e-9, help="chemical time per reactive step (s)"),
         beta: float = typer.Option(1.0, help="electron tunnelling decay through the deposit (1/Å)"),
         metropolis: bool = typer.Option(False, "--metropolis", help="Metropolis acceptance (equilibrium "
                                         "studies; no kinetics) instead of kinetic MC within each step"),
         separation: float = typer.Option(10.0, help="rate scaling of quasi-equilibrated reversible pairs: "
                                          "pair firings kept per slow event"),
         exact: bool = typer.Option(False, "--exact", help="no rate scaling (every event of fast pairs; slow)"),
         rates: Optional[str] = _RATES, source: Optional[str] = _SOURCE,
         device: str = typer.Option("auto", help="auto | cpu | cuda"),
         force: bool = typer.Option(False, "--force", help="start over instead of resuming the checkpoint in OUT"),
         as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Grow an SEI on the electrode: Langevin MD of one site per molecule, interrupted by reactive
    Monte Carlo steps with the network's rates (hybrid MD/MC). Resumes from OUT/checkpoint.npz."""
    from sei_net.growth import GrowthConfig, grow_network
    from sei_net.recipe import load_recipe

    rec = load_recipe(recipe)
    config = GrowthConfig(box_xy=box, height=height, md_steps=md_steps, reactive_dt=reactive_dt, beta=beta,
                          acceptance="metropolis" if metropolis else "rate", temperature=rec.temperature,
                          seed=seed, device=device, separation=separation, accelerate=not exact)
    echo = (lambda m: None) if _quiet(as_json) else (lambda m: typer.echo(m, err=True))
    if net is None:
        from sei_net.workflow import network_with_energies

        net = network_with_energies(rec, out, echo=echo)[0]
    progress = None if _quiet(as_json) else (
        lambda k, n, th: typer.echo(f"step {k}/{n}: SEI {th['mean']:.2f} Å mean, {th['max']:.2f} Å max, "
                                    f"{100 * th['coverage']:.0f} % covered", err=True) if k % 10 == 0 else None)
    result = grow_network(rec, net, config, steps, out, source=source, rates=rates, force=force, progress=progress)
    s = result.summary
    if as_json:
        _emit_json({**s, "out": str(out)})
        return
    law = s["growth_law"]
    typer.echo(f"{s['steps']} reactive steps, {s['chemical_time_s']:.3g} s of chemical time, "
               f"{s['wall_seconds']:.1f} s wall; SEI {s['thickness_A']['final_mean']:.2f} Å mean "
               f"({100 * s['thickness_A']['coverage']:.0f} % covered), porosity {s['porosity']}")
    if "best" in law:
        best = law[law["best"]]
        typer.echo(f"growth law: {law['best']} " + ", ".join(f"{k}={v:.3g}" for k, v in best.items() if v is not None))
    _table(["deposited", "count"], sorted(s["deposited"].items(), key=lambda kv: -kv[1]))
    typer.echo(f"wrote {out}/growth.json, growth.png, final.extxyz, trajectory.extxyz", err=True)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
