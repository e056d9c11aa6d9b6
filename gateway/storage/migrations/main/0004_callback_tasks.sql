-- Call-back tasks: she asked to be called (or a check-in plan reached voice_callback) and a
-- caseworker of her team calls her. Metadata only: her case code, times, where the request
-- came from, the state and the attempts. Never her number (it stays sealed in
-- gateway_sealed_addresses) and never any text of hers. `windows` holds "FROM-TO" pairs of
-- Unix ms separated by commas.
CREATE TABLE gateway_callback_tasks(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  case_code TEXT NOT NULL,
  source TEXT NOT NULL,
  channel TEXT NOT NULL,
  requested_at_ms INTEGER NOT NULL,
  windows TEXT NOT NULL,
  next_allowed_from_ms INTEGER,
  state TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  updated_at_ms INTEGER NOT NULL);
-- At most one open task per case, even when two nodes take a request at once.
CREATE UNIQUE INDEX gateway_callback_tasks_one_open ON gateway_callback_tasks(case_code)
  WHERE state IN ('open', 'not_reached', 'rescheduled');
CREATE TABLE gateway_callback_attempts(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id INTEGER NOT NULL REFERENCES gateway_callback_tasks(id),
  at_ms INTEGER NOT NULL,
  by_account TEXT NOT NULL,
  outcome TEXT NOT NULL);
CREATE INDEX gateway_callback_attempts_by_task ON gateway_callback_attempts(task_id, id);
