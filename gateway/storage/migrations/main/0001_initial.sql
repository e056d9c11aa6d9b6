-- Migration 1: the schema of the release of 2026-12-07, the last one without migrations.
-- Every statement says IF NOT EXISTS so that a data directory written by that release is
-- adopted in place (the runner first checks that its tables have these columns). Never edit
-- this file: add a new numbered one (docs/architecture.md, "Migrations").

-- Accounts, credentials, devices, the key directory and the mailbox.
CREATE TABLE IF NOT EXISTS settings(
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS accounts(
  key INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  role INTEGER NOT NULL,
  created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS caseworkers(
  account INTEGER PRIMARY KEY REFERENCES accounts(key),
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  totp_sealed BLOB NOT NULL,
  last_totp_step INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS disabled_accounts(
  account INTEGER PRIMARY KEY REFERENCES accounts(key),
  since_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS survivors(
  account INTEGER PRIMARY KEY REFERENCES accounts(key),
  locator BLOB NOT NULL UNIQUE,
  auth_public_key BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS devices(
  account INTEGER NOT NULL REFERENCES accounts(key),
  device INTEGER NOT NULL,
  identity_key BLOB NOT NULL,
  registration_id INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY(account, device)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS survivor_installations(
  account INTEGER PRIMARY KEY REFERENCES accounts(key),
  installation_key BLOB NOT NULL,
  since_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS assignments(
  survivor INTEGER NOT NULL REFERENCES accounts(key),
  caseworker INTEGER NOT NULL REFERENCES accounts(key),
  PRIMARY KEY(survivor, caseworker)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS assignments_by_caseworker ON assignments(caseworker, survivor);
CREATE TABLE IF NOT EXISTS signed_pre_keys(
  account INTEGER NOT NULL,
  device INTEGER NOT NULL,
  key_id INTEGER NOT NULL,
  public_key BLOB NOT NULL,
  signature BLOB NOT NULL,
  PRIMARY KEY(account, device)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS last_resort_keys(
  account INTEGER NOT NULL,
  device INTEGER NOT NULL,
  key_id INTEGER NOT NULL,
  public_key BLOB NOT NULL,
  PRIMARY KEY(account, device)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pre_keys(
  account INTEGER NOT NULL,
  device INTEGER NOT NULL,
  key_id INTEGER NOT NULL,
  public_key BLOB NOT NULL,
  PRIMARY KEY(account, device, key_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mailbox(
  server_id INTEGER PRIMARY KEY AUTOINCREMENT,
  account INTEGER NOT NULL,
  device INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  sender INTEGER NOT NULL,
  sender_device INTEGER NOT NULL,
  type INTEGER NOT NULL DEFAULT 0,
  body BLOB,
  ref INTEGER NOT NULL DEFAULT 0,
  receipt INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS mailbox_by_device ON mailbox(account, device, server_id);

-- Survivor cases, consent, organisation policy, templates and the audit chain.
CREATE TABLE IF NOT EXISTS policies_survivors(
  case_code TEXT PRIMARY KEY, initials TEXT NOT NULL, language TEXT NOT NULL,
  time_zone TEXT NOT NULL, team TEXT, status TEXT NOT NULL,
  never_confirm_client INTEGER NOT NULL, paused INTEGER NOT NULL, duress_lock INTEGER NOT NULL,
  quiet_start INTEGER, quiet_end INTEGER, quiet_weekdays INTEGER,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, paused_until INTEGER) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS policies_survivor_caseworkers(
  case_code TEXT NOT NULL, account_id TEXT NOT NULL,
  PRIMARY KEY(case_code, account_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS policies_caseworker_cases
  ON policies_survivor_caseworkers(account_id);
CREATE TABLE IF NOT EXISTS policies_consent(
  version INTEGER PRIMARY KEY AUTOINCREMENT, case_code TEXT NOT NULL,
  channel_kind TEXT NOT NULL, provider TEXT NOT NULL, address_ref TEXT NOT NULL,
  purpose TEXT NOT NULL, action TEXT NOT NULL, evidence_ref TEXT NOT NULL,
  form_language TEXT, recorded_by TEXT NOT NULL, recorded_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS policies_consent_by_case ON policies_consent(case_code, version);
CREATE TRIGGER IF NOT EXISTS policies_consent_no_update BEFORE UPDATE ON policies_consent
  BEGIN SELECT RAISE(ABORT, 'consent records are append-only'); END;
CREATE TRIGGER IF NOT EXISTS policies_consent_no_delete BEFORE DELETE ON policies_consent
  BEGIN SELECT RAISE(ABORT, 'consent records are append-only'); END;
CREATE TABLE IF NOT EXISTS policies_org(
  id INTEGER PRIMARY KEY CHECK(id = 1), policy_json TEXT NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS policies_templates(
  template_id TEXT NOT NULL, language TEXT NOT NULL, text TEXT NOT NULL,
  PRIMARY KEY(template_id, language)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS policies_audit(
  seq INTEGER PRIMARY KEY, at_us INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
  case_code TEXT NOT NULL, decision TEXT NOT NULL, reason TEXT NOT NULL,
  prev_hash BLOB NOT NULL, hash BLOB NOT NULL);
CREATE TRIGGER IF NOT EXISTS policies_audit_no_update BEFORE UPDATE ON policies_audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS policies_audit_no_delete BEFORE DELETE ON policies_audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- Check-in plans, their occurrences and the last inbound message per case.
CREATE TABLE IF NOT EXISTS policies_checkin_plans(
  plan_id INTEGER PRIMARY KEY AUTOINCREMENT, case_code TEXT NOT NULL,
  every_days INTEGER NOT NULL, first_day INTEGER NOT NULL, dates_json TEXT NOT NULL,
  window_start INTEGER NOT NULL, window_end INTEGER NOT NULL, weekdays INTEGER NOT NULL,
  channels_json TEXT NOT NULL, template_id TEXT NOT NULL, grace_minutes INTEGER NOT NULL,
  alert_target TEXT NOT NULL, alert_partner TEXT, status TEXT NOT NULL,
  next_slot_day INTEGER, next_due_at INTEGER,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS policies_checkin_due
  ON policies_checkin_plans(next_due_at) WHERE next_due_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS policies_checkin_by_case ON policies_checkin_plans(case_code);
CREATE TABLE IF NOT EXISTS policies_checkin_occurrences(
  idempotency_key TEXT PRIMARY KEY, plan_id INTEGER NOT NULL, case_code TEXT NOT NULL,
  slot_day INTEGER NOT NULL, window_start_at INTEGER NOT NULL, window_end_at INTEGER NOT NULL,
  deadline_at INTEGER NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',
  channel TEXT NOT NULL DEFAULT '', claimed_at INTEGER, sent_at INTEGER, settled_at INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS policies_checkin_open
  ON policies_checkin_occurrences(deadline_at) WHERE state = 'sent';
CREATE INDEX IF NOT EXISTS policies_checkin_open_by_case
  ON policies_checkin_occurrences(case_code, window_start_at) WHERE state = 'sent';
CREATE INDEX IF NOT EXISTS policies_checkin_claimed
  ON policies_checkin_occurrences(plan_id) WHERE state = 'claimed';
CREATE INDEX IF NOT EXISTS policies_checkin_occ_by_plan
  ON policies_checkin_occurrences(plan_id, slot_day);
CREATE TABLE IF NOT EXISTS policies_last_inbound(
  case_code TEXT PRIMARY KEY, at_us INTEGER NOT NULL) WITHOUT ROWID;
DROP TABLE IF EXISTS policies_duress_keywords;

-- The gateway's links from accounts to cases, caseworker initials and case notices.
CREATE TABLE IF NOT EXISTS gateway_survivor_cases(
  account TEXT PRIMARY KEY, case_code TEXT NOT NULL, duress INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS gateway_survivor_cases_by_case ON gateway_survivor_cases(case_code);
CREATE TABLE IF NOT EXISTS gateway_last_inbound_channel(
  account TEXT PRIMARY KEY, kind TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS gateway_caseworker_initials(
  account TEXT PRIMARY KEY, initials TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS gateway_new_device_notices(
  case_code TEXT PRIMARY KEY, notify INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS gateway_handover_notes(
  case_code TEXT PRIMARY KEY, sealed BLOB NOT NULL, set_at_us INTEGER NOT NULL
) WITHOUT ROWID;

-- Sealed SMS numbers and their links to cases.
CREATE TABLE IF NOT EXISTS gateway_sealed_addresses(
  address_ref TEXT PRIMARY KEY, sealed BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS gateway_sms_links(
  address_ref TEXT PRIMARY KEY, case_code TEXT NOT NULL, verified INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS gateway_sms_links_by_case ON gateway_sms_links(case_code);

-- Duress words (keyed digests only).
CREATE TABLE IF NOT EXISTS gateway_duress_words(digest BLOB PRIMARY KEY, words INTEGER NOT NULL) WITHOUT ROWID;

-- Which channels have a sender on this data directory.
CREATE TABLE IF NOT EXISTS gateway_channel_senders(kind TEXT PRIMARY KEY, registered_at_ms INTEGER NOT NULL) WITHOUT ROWID;

-- Staff roles for the admin API.
CREATE TABLE IF NOT EXISTS gateway_account_roles(account TEXT PRIMARY KEY, role TEXT NOT NULL) WITHOUT ROWID;

-- The organisation's canned replies.
CREATE TABLE IF NOT EXISTS gateway_canned_replies(position INTEGER PRIMARY KEY, label TEXT NOT NULL, text TEXT NOT NULL);

-- Alerts.
CREATE TABLE IF NOT EXISTS gateway_alerts(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  case_code TEXT,
  kind TEXT NOT NULL,
  urgent INTEGER NOT NULL,
  raised_at_ms INTEGER NOT NULL,
  cleared_at_ms INTEGER,
  cleared_by TEXT
);
CREATE INDEX IF NOT EXISTS gateway_alerts_open ON gateway_alerts(cleared_at_ms, case_code);

-- Parts handed to Kannel, by mailbox entry (no content).
CREATE TABLE IF NOT EXISTS gateway_sms_outbox(server_id INTEGER NOT NULL, part INTEGER NOT NULL, account TEXT NOT NULL, state TEXT NOT NULL, PRIMARY KEY(server_id, part)) WITHOUT ROWID;
