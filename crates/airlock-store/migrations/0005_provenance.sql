-- Verified provenance: one row per version and tarball digest. `outcome` is
-- `verified`, `invalid` or `unavailable`; `detail` is the JSON the verifier wrote
-- (the provenance facts, or the reason it failed).
CREATE TABLE provenance (
    name       TEXT    NOT NULL,
    version    TEXT    NOT NULL,
    integrity  TEXT    NOT NULL,
    outcome    TEXT    NOT NULL,
    detail     TEXT    NOT NULL,
    checked_at INTEGER NOT NULL,
    PRIMARY KEY (name, version, integrity)
);
