-- Content analyses: one per tarball digest and analyser version. A newer analyser
-- version analyses again; older rows stay for the record.
CREATE TABLE analyses (
    integrity   TEXT    NOT NULL,
    analyzer    INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    version     TEXT    NOT NULL,
    analysed_at INTEGER NOT NULL,
    took_ms     INTEGER NOT NULL,
    -- The findings that decide (JSON array), and the whole analysis (JSON object)
    -- that later versions are compared with.
    findings    TEXT    NOT NULL,
    analysis    TEXT    NOT NULL,
    PRIMARY KEY (integrity, analyzer)
);
