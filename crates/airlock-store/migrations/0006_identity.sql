-- Which database this is: the data directory keeps the same id in a file beside
-- it (airlock.db.id), so that a database deleted, emptied or swapped for another
-- is noticed at start instead of silently starting over.
CREATE TABLE store_identity (
    id TEXT NOT NULL
);
