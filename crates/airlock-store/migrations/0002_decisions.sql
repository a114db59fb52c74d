-- Approvals (exceptions) and denials added through the admin API. Rows are never
-- deleted: revoking sets `revoked_at`, so the history of who allowed what stays.
CREATE TABLE exceptions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    spec        TEXT NOT NULL,    -- `name@1.2.3`, or a scope or glob
    reason      TEXT NOT NULL,
    author      TEXT NOT NULL,
    created_at  INTEGER NOT NULL, -- Unix milliseconds
    expires_at  INTEGER,
    revoked_at  INTEGER
);

CREATE TABLE denials (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    spec        TEXT NOT NULL,    -- `name`, `name@range`, a scope or a glob
    reason      TEXT NOT NULL,
    author      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

-- The latest decision for each version Airlock has evaluated, with its reasons and
-- the digest of the policy that made it.
CREATE TABLE decisions (
    name           TEXT NOT NULL,
    version        TEXT NOT NULL,
    verdict        TEXT NOT NULL,  -- allow | warn | quarantine | block
    until          INTEGER,        -- end of a quarantine, Unix milliseconds
    codes          TEXT NOT NULL,  -- comma-separated decision codes
    decision       TEXT NOT NULL,  -- the whole decision as JSON
    policy_digest  TEXT NOT NULL,
    decided_at     INTEGER NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE INDEX decisions_by_verdict ON decisions (verdict, until);

-- Every tarball request that named a version: who asked, when, and what Airlock
-- decided. Rows are appended in time order, so `id` ranges are time ranges. Append-only: the triggers refuse changes, so the log can answer "who
-- installed it?" long after the fact.
CREATE TABLE downloads (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    name        TEXT NOT NULL,
    version     TEXT NOT NULL,
    integrity   TEXT,
    verdict     TEXT NOT NULL,
    codes       TEXT NOT NULL,
    served      INTEGER NOT NULL,  -- 1 when the tarball was sent
    client      TEXT,
    user_agent  TEXT,
    token_name  TEXT,
    policy_digest TEXT            -- the policy (and advisories) that decided
);
CREATE INDEX downloads_by_package ON downloads (name, version);
CREATE TRIGGER downloads_append_only_update BEFORE UPDATE ON downloads
BEGIN SELECT RAISE(ABORT, 'the download log is append-only'); END;
CREATE TRIGGER downloads_append_only_delete BEFORE DELETE ON downloads
BEGIN SELECT RAISE(ABORT, 'the download log is append-only'); END;
