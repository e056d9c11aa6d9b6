-- Replies her edge device acknowledged as kept for her web page (docs/protocol.md 4.6) and
-- she has not been shown yet: when the page shows her thread, each one whose history row it
-- showed (at_ms: the reply's server time, as in its history row) is acknowledged as read.
-- No content: the mailbox entry id only, under the account's keyed tag.
CREATE TABLE IF NOT EXISTS edge_unread(tag TEXT NOT NULL, server_id INTEGER NOT NULL, at_ms INTEGER NOT NULL, PRIMARY KEY(tag, server_id)) WITHOUT ROWID;
