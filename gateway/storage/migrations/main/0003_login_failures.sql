-- Recent failed logins, one row per failure and key, so that nodes sharing one database count
-- each other's failures. A key is a keyed hash (the server key's MAC) of what the attempt
-- named or of the client's address, never a name, code or address in clear. Rows older than
-- the longest throttling window are deleted as failures are written.
CREATE TABLE gateway_login_failures(
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  at_ms INTEGER NOT NULL);
CREATE INDEX gateway_login_failures_by_key ON gateway_login_failures(key, at_ms);
CREATE INDEX gateway_login_failures_by_age ON gateway_login_failures(at_ms);
