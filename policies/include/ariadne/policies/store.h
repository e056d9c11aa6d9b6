// Moved: PolicyStore is the storage layer's (ariadne/storage/policy_store.h). This forwarding
// header lives only until every include names the new one.
#pragma once

#include "ariadne/storage/policy_store.h"
