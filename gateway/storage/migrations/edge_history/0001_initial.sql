-- Migration 1 of the edge history database (edge/history.db): the schema of the release
-- of 2026-12-07, the last one without migrations, adopted in place (IF NOT EXISTS). Never
-- edit this file: add a new numbered one (docs/architecture.md, "Migrations").

-- Sealed conversation rows, indexed by a keyed tag of the account id.
CREATE TABLE IF NOT EXISTS edge_history(id INTEGER PRIMARY KEY AUTOINCREMENT, tag TEXT NOT NULL, at_ms INTEGER NOT NULL, sealed BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS edge_history_tag ON edge_history(tag, id);
-- A reply decrypted but not yet acknowledged (the SMS adapter waits for the delivery
-- report): its text, sealed, so that after a restart the redelivered entry (whose Signal
-- message key is used up) is handed on again, not lost.
CREATE TABLE IF NOT EXISTS edge_pending(tag TEXT NOT NULL, server_id INTEGER NOT NULL, sealed BLOB NOT NULL, PRIMARY KEY(tag, server_id)) WITHOUT ROWID;
-- Every account with an edge device (sealed id), attached again at start-up so that
-- replies queued for her are delivered without waiting for her next text.
CREATE TABLE IF NOT EXISTS edge_accounts(tag TEXT PRIMARY KEY, sealed BLOB NOT NULL) WITHOUT ROWID;
-- The old page-only duress records: one duress mechanism now (the enrolment duress code,
-- a second account), so any left are removed.
DROP TABLE IF EXISTS edge_duress;
