// What the caseworker reads: the gateway's contact entries, refusals, failed receipts,
// check-in states and alert kinds turned into the UI's fields and plain sentences.
#include "ariadne/console/views.h"

#include "service_internal.h"

namespace ariadne::console {

namespace detail {

std::string text_field(const Json& c, const char* key) {
    if (!c.is_object()) return {};
    auto it = c.find(key);
    return it != c.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string explain_not_delivered(const std::string& reason) {
    std::string why;
    if (reason == "sms_not_delivered") {
        why =
            "the mobile network could not deliver the SMS to her phone (switched off, out of "
            "coverage or the number no longer works).";
    } else if (reason == "sms_rejected") {
        why = "the mobile network refused the SMS.";
    } else if (reason == "sms_too_long") {
        why =
            "it is longer than one SMS thread can carry (10 parts, about 1,500 letters); "
            "send it in shorter pieces.";
    } else if (reason == "sms_unavailable") {
        why = "the organisation's SMS gateway could not send it just now.";
    } else if (reason == "sms_unconfirmed") {
        why =
            "the organisation's SMS gateway restarted while sending it, so it is not known "
            "whether it left (it may still reach her).";
    } else if (reason == "undecryptable") {
        why = "her SMS/web-page connection could not decrypt it, so she cannot read it.";
    } else {
        why = "the consent policy did not allow it to leave when it was about to be sent (" +
              reason + ").";
    }
    return "Not delivered (SMS): " + why +
           " It will not be sent again by itself. Try again later, or reach her on another "
           "channel she has consented to.";
}

std::string gateway_alert_sentence(const std::string& kind) {
    if (kind == "duress") {
        return "Danger signal: she used her duress code or word. Follow the safety plan she "
               "chose and do not reply with anything revealing. Replies and check-ins are "
               "stopped until you clear this alert after checking on her by another agreed "
               "means.";
    }
    if (kind == "missed_checkin") {
        return "She did not answer her last check-in (she asked to be looked after when that "
               "happens).";
    }
    if (kind == "identity_changed" || kind == "new_device") {
        return "She is writing from a new device or her identity changed. Verify her with the "
               "agreed safe word before sharing anything, then compare the safety number.";
    }
    if (kind == "checkin_undeliverable") {
        return "Her last check-in could not be sent on any channel of her plan (no device, no "
               "verified number, or a channel banned since). She asked to be looked after: "
               "check on her by another agreed means and fix her plan with her.";
    }
    if (kind == "device_revoked") {
        return "An administrator revoked a console device of a caseworker on her team (lost or "
               "replaced). Nothing to do unless that device was yours.";
    }
    if (kind == "unverified_channel") {
        return "A message arrived on a channel or number not verified as hers. Verify who "
               "wrote with the agreed safe word before sharing anything; until then, never "
               "confirm that anyone is or was a client.";
    }
    if (kind == "callback_not_reached") {
        return "She asked to be called and was not reached twice (she asked to be looked after "
               "when she misses contact). Check on her by another agreed means.";
    }
    return "The gateway raised an alert for this case. Check on her before sharing anything.";
}

}  // namespace detail

using detail::text_field;

Refusal explain_refusal(const std::string& code, const std::string& message, const Json& frame) {
    Refusal r;
    r.code = code;
    r.reason = frame.is_object() ? frame.value("reason", "") : "";
    if (code == "policy_denied") {
        // The policy engine's sentence already says why and what would allow it.
        r.sentence = message.empty() ? "Not sent: the organisation's policy does not allow this "
                                       "reply now."
                                     : message;
    } else if (code == "forbidden") {
        r.sentence =
            "Not sent: the gateway does not allow you to write to this person (she is not, or "
            "no longer, assigned to you, or contact is not allowed). An administrator can "
            "assign her to you.";
    } else if (code == "rate_limited") {
        r.sentence =
            "Not sent: too many messages in a short time. Wait a few seconds and send "
            "again.";
    } else if (code == "unreachable") {
        r.sentence =
            "Not sent: the gateway could not be reached. Check the network; the reply "
            "may not have been stored, so look at the thread before sending again.";
    } else {
        r.sentence = "Not sent: the gateway refused the reply (" + code + "). " + message;
    }
    return r;
}

std::string checkin_sentence(const std::string& state, const std::string& reason) {
    if (state == "waiting") {
        return "until she can be reached: no channel of her plan reaches her yet (she has not "
               "signed in to the app or the web page, or her number is not verified). The "
               "first check-in goes out in the first window after that.";
    }
    if (state == "scheduled") return "The first check-in goes out in her next window.";
    if (state == "interrupted") {
        return "Not known if sent: the gateway stopped while sending it (it is never sent "
               "twice). Check on her if you expected an answer.";
    }
    if (state == "send_failed") {
        return "Not known if sent: the channel failed while sending it (it is never sent "
               "twice). Check on her if you expected an answer.";
    }
    if (state == "skipped") {
        if (reason == "window_does_not_exist") {
            return "Not sent: her check-in window did not exist that day (a clock change).";
        }
        return "Not sent: the gateway was not running during her check-in window.";
    }
    if (state != "denied") return {};
    if (reason == "not_sent") {
        return "Not sent: no channel of her plan could carry it (no device of hers, no verified "
               "number, or no sender for the channel). Check on her by another agreed means "
               "and fix her plan with her.";
    }
    if (reason == "consent_withdrawn") {
        return "Not sent: she withdrew her consent to check-ins on the channels of her plan.";
    }
    if (reason == "no_consent") {
        return "Not sent: she has not consented to check-ins on the channels of her plan.";
    }
    if (reason == "duress_lock") {
        return "Not sent: a danger signal stopped all contact until a caseworker clears it.";
    }
    if (reason == "survivor_paused") return "Not sent: she asked for a pause.";
    if (reason == "case_closed") return "Not sent: her case is closed.";
    if (reason == "quiet_hours") return "Not sent: her check-in window fell in her quiet hours.";
    if (reason == "outside_window") {
        return "Not sent: it fell outside her plan's window or weekdays.";
    }
    if (reason == "banned_channel_class") {
        return "Not sent: the organisation no longer allows the channel of her plan.";
    }
    if (reason == "address_mismatch") {
        return "Not sent: her consent names a different number or address than the one on "
               "file.";
    }
    if (reason == "missing_evidence") {
        return "Not sent: her messenger consent has no signed-consent evidence.";
    }
    if (reason == "no_template") return "Not sent: there is no check-in text in her language.";
    if (reason == "unknown_time_zone" || reason == "unknown_survivor" ||
        reason == "policy_unavailable" || reason == "unknown_channel") {
        return "Not sent: her record or the organisation's policy could not be read; ask an "
               "administrator to check her record.";
    }
    return "Not sent: the organisation's policy did not allow it.";
}

Json conversation_view(const std::string& account, const Json& c) {
    // The channel and its label are the gateway's alone (policies::describe). A contact not
    // (yet) listed, or listed without a channel, has none: shown as unknown, never guessed,
    // so a new SMS thread is not labelled end-to-end before the next contacts refresh.
    auto channel_field = [&c](const char* name) {
        Json channel = nullptr;
        if (!c.is_object()) return channel;
        auto it = c.find(name);
        if (it != c.end() && it->is_object()) {
            channel = Json::object();
            for (const char* key : {"kind", "security", "label"}) {
                if (it->contains(key) && (*it)[key].is_string()) channel[key] = (*it)[key];
            }
        }
        return channel;
    };
    // `channel`: where her last message came from; `reply_channel`: where a reply goes now.
    Json channel = channel_field("channel");
    Json reply_channel = channel_field("reply_channel");
    // Any flag other than an explicit false shows as unverified: the careful side.
    bool unverified = c.is_object() && c.contains("unverified") && c["unverified"] != false;
    return {{"account", account},
            {"role", text_field(c, "role")},
            {"case_code", text_field(c, "case_code")},
            {"initials", text_field(c, "initials")},
            {"status", text_field(c, "status")},
            {"unverified", unverified},
            {"channel", channel},
            {"reply_channel", reply_channel},
            {"checkin", text_field(c, "checkin")},
            {"checkin_note",
             checkin_sentence(text_field(c, "checkin"), text_field(c, "checkin_reason"))},
            {"checkin_next",
             c.is_object() && c.contains("checkin_next") && c["checkin_next"].is_number_integer()
                 ? c["checkin_next"]
                 : Json()},
            {"handover_note", text_field(c, "handover_note")},
            // Her language tag: the console offers the prepared replies written in it.
            {"language", text_field(c, "language")},
            // The gateway sends it only when set; anything but true counts as not set.
            {"never_confirm_client", c.is_object() && c.contains("never_confirm_client") &&
                                         c["never_confirm_client"] == true}};
}

}  // namespace ariadne::console
