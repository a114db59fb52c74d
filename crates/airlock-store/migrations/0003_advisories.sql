-- Imported OSV records, verbatim, grouped by the source they were imported from. An
-- import replaces its source's rows in one transaction: all or nothing.
CREATE TABLE advisories (
    source       TEXT NOT NULL,
    id           TEXT NOT NULL,
    record       TEXT NOT NULL,
    imported_at  INTEGER NOT NULL,
    PRIMARY KEY (source, id)
);

-- Versions Airlock had stored that the upstream removed, and when Airlock noticed.
-- The blobs stay in the store for forensics.
CREATE TABLE takedowns (
    name        TEXT NOT NULL,
    version     TEXT NOT NULL,
    kind        TEXT NOT NULL,    -- removed | security-placeholder
    noticed_at  INTEGER NOT NULL,
    PRIMARY KEY (name, version)
);
