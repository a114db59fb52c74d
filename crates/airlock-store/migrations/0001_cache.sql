-- The metadata cache: the last full packument fetched from upstream for each package,
-- with the validators for revalidating it.
CREATE TABLE packuments (
    name          TEXT PRIMARY KEY NOT NULL,
    body          BLOB NOT NULL,
    etag          TEXT,
    last_modified TEXT,
    fetched_at    INTEGER NOT NULL -- Unix milliseconds of the last fetch or revalidation
);

-- One row per verified blob in the content-addressed store.
CREATE TABLE tarballs (
    integrity  TEXT PRIMARY KEY NOT NULL, -- `sha512/<hex>`, the blob's storage key
    name       TEXT NOT NULL,
    version    TEXT NOT NULL,
    size       INTEGER NOT NULL,
    stored_at  INTEGER NOT NULL -- Unix milliseconds
);
CREATE INDEX tarballs_by_package ON tarballs (name, version);
