// SmsOutbox: the parts of each SMS reply handed to Kannel, by mailbox entry, in the table
// `gateway_sms_outbox` of the gateway database. What a delivery report updates, and what
// stops a reply delivered again after a restart from being sent twice. No content: a part
// is (server id, part number, survivor account, state).
//
// A part's state is "sending" (being handed to Kannel), "sent" (Kannel took it),
// "delivered", or the reason code of its failure; the SMS adapter gives them meaning.
//
// Thread safety: safe from any thread; every call holds the PolicyStore's lock (the store
// must outlive this object). Errors: storage::Error when the database cannot be read or
// written.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ariadne/policies/store.h"

namespace ariadne::storage {

struct SmsOutboxPart {
    std::int64_t part = 0;
    std::string account;
    std::string state;
};

class SmsOutbox {
  public:
    /// The table comes from migration 1 (the store migrates on open).
    explicit SmsOutbox(const policies::PolicyStore& store);

    /// The parts of the reply `server_id`, in part order (empty: none handed over).
    std::vector<SmsOutboxPart> parts(std::int64_t server_id) const;
    /// Records part `part` as "sending"; a part already recorded keeps its state.
    void add_sending(std::int64_t server_id, std::int64_t part, const std::string& account);
    /// Kannel took the part: "sending" becomes "sent" (a report that came first stays).
    void mark_sent(std::int64_t server_id, std::int64_t part, const std::string& account);
    /// The first final state of a part: changes it only while "sending" or "sent", so a
    /// repeated or contradicting report is ignored. Returns whether it changed.
    bool set_final(std::int64_t server_id, std::int64_t part, const std::string& account,
                   const std::string& state);
    /// Sets `state` on every part from `first_part` on that is still "sending" or "sent"
    /// (Kannel refused one part: it and the rest are lost).
    void fail_from(std::int64_t server_id, std::int64_t first_part, const std::string& account,
                   const std::string& state);
    /// Forgets the reply's parts once it is settled.
    void forget(std::int64_t server_id, const std::string& account);

  private:
    const policies::PolicyStore& store_;
};

}  // namespace ariadne::storage
