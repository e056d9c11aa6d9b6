// The log of `ariadne serve`: lines on stderr, for a terminal or a file
// ("[2026-12-07 10:15:00.123] [ariadne] [info] …"), or for journald when stderr is the
// journal: then each line starts with its sd-daemon priority ("<6>…") and carries no time
// of its own (journald records the time and the level). Not thread-safe: call once, before
// other threads log.
#pragma once

#include <string>

namespace ariadne::gateway {

/// Makes the "ariadne" stderr logger the default, at `level` (a --log-level value), in the
/// journal's format when stderr_is_journal().
void configure_logging(const std::string& level);

/// True when systemd connected stderr to the journal: $JOURNAL_STREAM holds "DEV:INO" and
/// they are stderr's device and inode (a child whose stderr was redirected elsewhere inherits
/// the variable, and is not on the journal).
bool stderr_is_journal();

/// The syslog priority journald reads from a "<N>" prefix: 3 error (and critical), 4 warning,
/// 6 info, 7 debug (and trace).
int journal_priority(const std::string& level);

}  // namespace ariadne::gateway
