// The gateway's durable state is the storage layer's (ariadne/storage/store.h and the
// repository headers it names: errors, ownership and thread safety are stated there). These
// names let the core's code speak of `Store`, `Account` and `CommitStatus` without naming
// the storage namespace.
#pragma once

#include "ariadne/storage/store.h"

namespace ariadne::gateway {

using crypto::ByteView;
using storage::Account;
using storage::AccountKey;
using storage::Bundle;
using storage::CaseworkerCredentials;
using storage::CommitStatus;
using storage::Completion;
using storage::DeviceRecord;
using storage::MailboxEntry;
using storage::MailboxEntryPtr;
using storage::new_account_id;
using storage::NewMessage;
using storage::NewNotice;
using storage::Role;
using storage::Store;
using storage::StoreOptions;
using storage::SurvivorCredentials;
using storage::to_string;

}  // namespace ariadne::gateway
