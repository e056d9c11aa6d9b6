// The gateway's durable state is the storage layer's (ariadne/storage/store.h and the
// repository headers it names). These names let the gateway's code keep speaking of
// `Store`, `Account` and `CommitStatus` without knowing where they are defined.
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
