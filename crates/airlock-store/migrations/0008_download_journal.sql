-- Download journal segments already folded into `downloads` (see journal.rs): a
-- segment whose file outlived its fold (a kill between the commit and the removal)
-- is recognised and not inserted twice. Names are forgotten a day after the fold.
CREATE TABLE download_journal_folded (
    segment   TEXT PRIMARY KEY,
    folded_at INTEGER NOT NULL -- Unix milliseconds
);
