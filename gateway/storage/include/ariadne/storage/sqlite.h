// The storage layer's names for the one SQLite wrapper (ariadne/sqlite/sqlite.h): every
// repository and its callers say storage::Connection, storage::Error and so on, and catch
// storage::Error — which is sqlite::Error, so the wrapper's errors are this layer's own.
// The contract (errors, ownership, thread safety) is the wrapper's header.
#pragma once

#include "ariadne/sqlite/sqlite.h"

namespace ariadne::storage {

using sqlite::configure_process;
using sqlite::Connection;
using sqlite::ConnectionOptions;
using sqlite::Error;
using sqlite::ErrorKind;
using sqlite::fail;
using sqlite::is_postgres_uri;
using sqlite::OpenMode;
using sqlite::redact_uri;
using sqlite::Statement;
using sqlite::Transaction;
using sqlite::TransactionKind;

}  // namespace ariadne::storage
