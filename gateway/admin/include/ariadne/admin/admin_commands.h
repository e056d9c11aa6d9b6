// Every `ariadne admin` command: what to type, the one line it prints, and how it fails.
// This table IS the contract: `ariadne admin --help` prints its synopses (run_admin, admin.h)
// and run_admin dispatches only the names listed here, so the documentation, the usage text
// and the commands cannot disagree (tests/gateway/test_admin_cli.cpp checks every entry
// runs).
//
// For every command: --data-dir DIR is required; success prints exactly one JSON line on
// standard output (audit-export: one line per entry) and exits 0. Failure prints
// "ariadne admin: <sentence>" on standard error, the sentence starting with the option or
// field it is about, and exits 2 for bad input (an option, a value, a rule that refuses it,
// a taken name; an option error also prints the usage) or 1 when something named does not
// exist or a store fails. Passwords, TOTP secrets, recovery codes and duress words are read
// from standard input or a file, never from options, and are never written to a log or an
// error.
#pragma once

#include <string_view>

namespace ariadne::gateway {

struct AdminCommand {
    std::string_view names;     // "caseworker-disable|caseworker-enable": one entry, several names
    std::string_view synopsis;  // the usage lines after "ariadne admin "
    std::string_view output;    // the JSON line printed on success
    std::string_view errors;    // what it refuses, beyond the rules above
};

inline constexpr AdminCommand kAdminCommands[] = {
    {"caseworker-add",
     "caseworker-add --username NAME [--role admin|caseworker] [--initials I] [--qr]\n"
     "                 (password asked twice on a terminal, else the first line of stdin)",
     R"({"account","role","totp_secret","otpauth_uri","otpauth_qr_svg"}: shown this once; the QR code also on a terminal)",
     "2: role, initials, username (1-64 bytes) or password (1-1024 bytes; on a terminal at "
     "least 12 characters, typed the same twice) invalid; username taken"},
    {"caseworker-disable|caseworker-enable",
     "caseworker-disable|caseworker-enable --id ACCOUNT --by ADMIN_ID",
     R"({"account","disabled","changed"}: the server refuses her logins and ends her sessions)",
     "2: --id not an account id; an admin disabling her own account. 1: --by not an admin "
     "account; no caseworker has --id"},
    {"caseworker-reset",
     "caseworker-reset --id ACCOUNT --by ADMIN_ID [--qr]  (new password as caseworker-add)",
     R"({"account","totp_secret","otpauth_uri","otpauth_qr_svg"}: the old password and code stop working)",
     "2: password not 1-1024 bytes (on a terminal: under 12 characters or typed differently "
     "twice); --id not an account id. 1: --by not an admin account; no "
     "caseworker has --id"},
    {"survivor-enrol",
     "survivor-enrol --caseworker ID [--caseworker ID ...] --initials I\n"
     "                 --language L --time-zone ZONE [--with-duress-code]\n"
     "                 [--recovery-m-kib N [--insecure-test-params]]",
     R"({"account","case_code","recovery_code"[,"duress_code"]}: the codes are shown this once)",
     "2: initials, language, time zone invalid; --recovery-m-kib below 65536 without "
     "--insecure-test-params, or unlike the deployment's. 1: a --caseworker is no caseworker "
     "account"},
    {"assign", "assign --survivor ID --caseworker ID [--handover-note TEXT]",
     R"({"survivor","caseworker","case_code"[,"handover_notice"]}: a notice when she had a caseworker)",
     "2: an id is not an account id; the note is not printable text of at most 500 bytes. 1: "
     "no survivor (her duress login included) or no caseworker has the id"},
    {"consent-record|consent-withdraw",
     "consent-record|consent-withdraw --case CODE --channel KIND[:PROVIDER]\n"
     "                 --purpose replies|check_ins|case_updates --by CASEWORKER_ID\n"
     "                 [--evidence REF] [--language L] [--address-stdin]",
     R"({"case_code","channel","purpose","action","version"[,"address_ref"]})",
     "2: case code, channel, purpose, language or address (stdin) invalid; a rule refuses "
     "the channel. 1: --by is no caseworker account; no survivor has the case"},
    {"consent-list", "consent-list --case CODE",
     R"({"case_code","records":[...],"in_effect":[...]}: consent_records_json (operations.h))",
     "1: no survivor has the case"},
    {"policy-show", "policy-show",
     R"(the organisation's policy with "canned_replies","canned_replies_by_language","templates")",
     "none of its own"},
    {"policy-set",
     "policy-set [--quiet-hours HH:MM-HH:MM] [--retention-days N]\n"
     "                 [--ban CLASS ...] [--unban CLASS ...] [--consent-recorders WHO]\n"
     "                 [--canned-replies-file FILE] [--organisation-name NAME ...]\n"
     "                 [--clear-organisation-names] [--template KIND:LANG=TEXT ...]\n"
     "                 [--checkin-window HH:MM-HH:MM] [--checkin-every-days N]\n"
     "                 [--checkin-grace-minutes N]\n"
     "                 [--accept-messenger NAME --messenger-evidence REF]\n"
     "                 [--drop-messenger NAME]",
     "the policy as policy-show prints it, after the change",
     "2: any value invalid (nothing is stored then); a rule refuses it (e.g. social media)"},
    {"survivor-update",
     "survivor-update --case CODE [--initials I] [--language L]\n"
     "                 [--time-zone ZONE] [--quiet-hours HH:MM-HH:MM|none]\n"
     "                 [--status active|dormant|closed] [--pause-until ISO|indefinite|none]\n"
     "                 [--team ID|none] [--never-confirm-client on|off]",
     "her record: survivor_record_json (operations.h)",
     "2: any field invalid (nothing changes then). 1: no survivor has the case"},
    {"survivor-show", "survivor-show --case CODE", "her record: survivor_record_json",
     "1: no survivor has the case"},
    {"checkin-plan-set",
     "checkin-plan-set --case CODE --by CASEWORKER_ID [--every-days N]\n"
     "                 [--window HH:MM-HH:MM] [--channel KIND ...] [--grace-minutes N]\n"
     "                 [--alert nobody|caseworker]",
     R"({"plan_id","case_code","channels":[{"channel","reaches_her"[,"why"]}][,"waiting_for_her"]})",
     "2: window, channel, alert or cadence invalid; a channel this deployment cannot send on. "
     "1: no survivor has the case; --by is no caseworker account"},
    {"checkin-plan-status", "checkin-plan-status --plan ID --status active|paused|stopped --by ID",
     R"({"plan_id","status"})",
     "2: status invalid; a stopped plan stays stopped. 1: no such plan; --by is no caseworker"},
    {"duress-words-set", "duress-words-set --file FILE|-  (one word or phrase a line)",
     R"({"duress_words":N}: only their digests are stored)",
     "2: the file cannot be read; a word is invalid"},
    {"duress-words-show", "duress-words-show", R"({"duress_words":N})", "none of its own"},
    {"duress-clear", "duress-clear  (refused: a caseworker assigned to her lifts the lock)",
     "nothing: it always refuses",
     "2: an administrator cannot lift a duress lock; the sentence says where it is lifted"},
    {"survivor-recode", "survivor-recode --survivor ID [--insecure-test-params]",
     R"({"account","case_code","recovery_code"}: her new code, shown this once)",
     "1: no survivor (her duress login excluded) has the id"},
    {"new-device-notice", "new-device-notice --case CODE --notify on|off",
     R"({"case_code","new_device_notice"})", "2: --notify not on or off. 1: no such case"},
    {"caseworker-list", "caseworker-list",
     R"({"caseworkers":[{"account","username","initials","role","teams","disabled","devices"}]})",
     "none of its own"},
    {"survivor-list", "survivor-list",
     R"({"survivors":[{"case_code","initials","language","status","team"}]}: never a name or number)",
     "none of its own"},
    {"plan-list", "plan-list",
     R"({"plans":[{"plan_id","case_code","status","next_slot_at","next_slot_at_ms"}]})",
     "none of its own"},
    {"device-list", "device-list --id ACCOUNT",
     R"({"account","role","devices":[{"device_id","kind","registered_at","registered_at_ms"}]})",
     "2: --id not an account id. 1: no account has --id"},
    {"device-revoke", "device-revoke --id CASEWORKER_ID --device N --by ADMIN_ID",
     R"({"account","device_id","revoked","cases_alerted"}: its sessions end, it cannot log in)",
     "2: --id not an account id; --device not 1 or more. 1: --by not an admin account; no "
     "caseworker has --id (a survivor's phone: survivor-recode); she has no device --device"},
    {"unassign", "unassign --survivor ID --caseworker ID",
     R"({"survivor","caseworker"[,"case_code"]})",
     "2: an id is not an account id; he is her only caseworker (assign another first). 1: no "
     "survivor or caseworker has the id; he is not assigned to her"},
    {"audit-verify", "audit-verify [--checkpoint SEQ:HEAD:MAC ...]",
     R"({"ok","entries","keyed_entries","checkpoints","head"[,"first_bad_entry","problem"]})",
     "1: the chain is broken (the line is printed, then the problem on standard error); a "
     "checkpoint is malformed"},
    {"audit-checkpoint", "audit-checkpoint",
     R"({"seq","head","mac","at"}: also appended to the data directory's checkpoint file)",
     "1: the checkpoint file cannot be written"},
    {"audit-export", "audit-export [--from SEQ] [--limit N]",
     R"(one line per entry: {"seq","at","at_ms","at_us","actor","action","case_code","decision","reason","hash"})",
     "none of its own"},
    {"backup", "backup --to FILE [--force]",
     R"({"backup","size","schema_version","created_at","members"}: admin_backup.h)",
     "1: FILE exists (without --force) or cannot be written"},
    {"restore", "restore --from FILE  (refused while a gateway serves the data directory)",
     R"({"restored","schema_version","previous","audit_entries","checkpoints_checked",...})",
     "1: a gateway serves the directory; the backup is damaged or its audit chain does not "
     "verify under this server key"},
};

}  // namespace ariadne::gateway
