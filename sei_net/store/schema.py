"""SQLite schema of a network store, as ordered migrations.

Each entry of MIGRATIONS moves the schema from version i to i + 1; ``meta.schema_version`` records
the version a file is at. Energies are in eV, temperatures in K, potentials in V vs Li/Li+.
"""

FORMAT_NAME = "sei_net-network"

MIGRATIONS: list[str] = [
    # version 1: the foundation schema
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE provenance (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,              -- 'rule', 'importer', 'user', 'recipe'
        name TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        UNIQUE (kind, name, detail)
    );
    CREATE TABLE species (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,        -- canonical species key (sei_net.chem.species)
        name TEXT,
        smiles TEXT NOT NULL,
        formula TEXT NOT NULL,
        charge INTEGER NOT NULL,
        multiplicity INTEGER NOT NULL,
        n_atoms INTEGER NOT NULL,
        n_heavy INTEGER NOT NULL,
        graph TEXT NOT NULL,             -- JSON {"elements": [...], "bonds": [[i, j, kind], ...]}
        coords BLOB,                     -- float64 (n_atoms, 3), Å, canonical atom order
        generation INTEGER NOT NULL DEFAULT 0,
        provenance_id INTEGER REFERENCES provenance(id)
    );
    CREATE INDEX species_name ON species(name);
    CREATE INDEX species_smiles ON species(smiles);
    CREATE TABLE reactions (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,        -- direction-aware reaction key
        kind TEXT NOT NULL,
        electrons INTEGER NOT NULL,      -- electrons consumed (+1 reduction, -1 oxidation)
        n_reactants INTEGER NOT NULL,
        n_products INTEGER NOT NULL,
        atom_map BLOB,                   -- int32 product atom -> reactant atom
        generation INTEGER NOT NULL DEFAULT 0,
        provenance_id INTEGER REFERENCES provenance(id)
    );
    CREATE TABLE participants (
        reaction_id INTEGER NOT NULL REFERENCES reactions(id) ON DELETE CASCADE,
        side INTEGER NOT NULL CHECK (side IN (0, 1)),   -- 0 reactant, 1 product
        position INTEGER NOT NULL,       -- order within the side; a repeated species repeats
        species_id INTEGER NOT NULL REFERENCES species(id),
        PRIMARY KEY (reaction_id, side, position)
    ) WITHOUT ROWID;
    CREATE INDEX participants_species ON participants(species_id, side);
    CREATE TABLE energies (
        species_id INTEGER NOT NULL REFERENCES species(id) ON DELETE CASCADE,
        source TEXT NOT NULL,            -- e.g. 'mrnet', 'rnmc', 'gfn2', 'surrogate'
        level_of_theory TEXT NOT NULL,
        G REAL NOT NULL,                 -- free energy, eV
        E REAL,                          -- electronic energy, eV
        sigma REAL,                      -- 1-sigma uncertainty, eV
        members BLOB,                    -- float64 ensemble-member free energies, eV
        temperature REAL,                -- K at which G applies
        data TEXT,                       -- JSON extras (enthalpy, entropy, ...)
        PRIMARY KEY (species_id, source)
    ) WITHOUT ROWID;
    CREATE TABLE barriers (
        reaction_id INTEGER NOT NULL REFERENCES reactions(id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        level_of_theory TEXT NOT NULL,
        value REAL NOT NULL,             -- free-energy barrier, eV
        sigma REAL,
        members BLOB,
        data TEXT,
        PRIMARY KEY (reaction_id, source)
    ) WITHOUT ROWID;
    CREATE TABLE rates (
        reaction_id INTEGER NOT NULL REFERENCES reactions(id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        rate REAL NOT NULL,              -- rate constant; units in data.units
        dG REAL,                         -- reaction free energy, eV
        barrier REAL,                    -- free-energy barrier, eV
        temperature REAL,
        potential REAL,                  -- V vs Li/Li+
        data TEXT,
        PRIMARY KEY (reaction_id, source)
    ) WITHOUT ROWID;
    CREATE TABLE initial_states (
        name TEXT NOT NULL,
        species_id INTEGER NOT NULL REFERENCES species(id) ON DELETE CASCADE,
        count INTEGER NOT NULL,
        PRIMARY KEY (name, species_id)
    ) WITHOUT ROWID;
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,            -- 'running', 'done', 'failed'
        started REAL NOT NULL,           -- unix time, s
        finished REAL,
        params TEXT,                     -- JSON
        results TEXT                     -- JSON
    );
    """,
    # version 2: generator decisions, so that every kept or discarded candidate can be explained
    """
    CREATE TABLE decisions (
        key TEXT NOT NULL,               -- species key or reaction key
        kind TEXT NOT NULL CHECK (kind IN ('species', 'reaction')),
        kept INTEGER NOT NULL,
        reason TEXT NOT NULL,
        rule TEXT,
        generation INTEGER,
        PRIMARY KEY (key, kind)
    ) WITHOUT ROWID;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
