-- Retention of the download log (`airlock gc --downloads-older-than`,
-- `retention.downloads`). The log stays append-only, except that records older
-- than the cutoff recorded here may be deleted. The cutoff only moves forward, so
-- no one can delete a recent record by first moving it.
CREATE TABLE download_retention (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    cutoff INTEGER NOT NULL -- Unix milliseconds
);
INSERT INTO download_retention (id, cutoff) VALUES (1, 0);

CREATE TRIGGER download_retention_forward BEFORE UPDATE ON download_retention
WHEN NEW.cutoff < OLD.cutoff
BEGIN SELECT RAISE(ABORT, 'the retention cutoff only moves forward'); END;
CREATE TRIGGER download_retention_kept BEFORE DELETE ON download_retention
BEGIN SELECT RAISE(ABORT, 'the retention cutoff is kept'); END;

DROP TRIGGER downloads_append_only_delete;
CREATE TRIGGER downloads_append_only_delete BEFORE DELETE ON downloads
WHEN OLD.at >= (SELECT cutoff FROM download_retention WHERE id = 1)
BEGIN SELECT RAISE(ABORT, 'the download log is append-only'); END;
