// The survivor web page: a gateway-served page at a neutral path (default /notes) where a
// survivor signs in with her recovery code, reads replies and writes a message. The gateway
// acts as her edge (edge.h): it checks the code server-side (one Argon2id derivation, the
// same as her app would do), then reads and writes through her edge device.
//
// Traceless by construction: one URL that never changes (every form POSTs to it and is
// answered 303 → the same URL), only a short HttpOnly SameSite=Strict session cookie, every
// response `Cache-Control: no-store`, no third-party resources, CSP without inline script,
// and a quick exit (button, or Shift three times) that replaces the history entry with a
// neutral page and ends the session. Texts come from one catalogue (adapters/web/
// catalogue.json) in en, es, it, ro, el, fr, ar; Arabic renders right-to-left.
//
// "Please call me": after sign-in she may tick when she can talk (today's and tomorrow's parts
// of the day in her time zone) and ask to be called; the page asks her edge
// (EdgeHub::request_callback, channel web) and answers calmly, or neutrally when refused.
//
// Her duress code (her duress login from `survivor-enrol --with-duress-code`, recognised with
// options.duress_target — the one duress mechanism, the same in her app and by SMS) signs in
// to an ordinary, empty conversation and silently alerts her team (an edge-encrypted message,
// plus options.on_duress, which locks and alerts her case).
// Sign-in attempts are rate limited per code and per client address with a doubling delay;
// each attempt is counted before its code is checked, in one critical section with the test,
// so simultaneous guesses from one address cannot all be checked. Every failure shows the
// same sentence, so the page never tells whether a code exists.
//
// Sessions: the server keeps state only for a signed-in survivor, created at a successful
// sign-in. Before that, her language, the form token and a one-time message live in a cookie
// authenticated with a key of this process, so requests without a session cost no memory
// and cannot push anyone out. An active session is never ended to make room: when
// max_sessions are signed in (or max_sessions_per_account for that code), a new sign-in is
// refused with a neutral sentence and her code is not checked.
//
// After sign-in it speaks her record's language and shows her thread within the
// organisation's retention, each message with its time in her zone. A note she was writing
// when she left quickly (or that could not be sent) is kept in memory only, never on disk,
// for the idle timeout, and put back in the box at her next sign-in with her own code (never
// after a duress sign-in). The page saves the box's text to her session as she types, so the
// quick exit loses nothing.
//
// Errors: what she types never raises an error: a wrong code, a full page or an unsendable
// message each get the same neutral page with a sentence in her language (a message that
// could not be sent stays in her box). A send the edge refuses is logged without content and
// shown as "not sent"; a failed attach, duress alert or record read at sign-in is logged and
// the sign-in goes on. Exceptions of the store, of reading her thread (EdgeHub::history) and
// of the duress_target, on_duress and retention_days callbacks escape handle(); the HTTP
// server answers them with a 500. The constructor throws only crypto::Error, when the
// system's random source fails.
//
// Ownership: the page borrows the store and the hub (both must outlive it); it owns its
// sessions and kept drafts, in memory only.
//
// Thread-safety: handlers may run concurrently; all state is behind one mutex.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ariadne/core/extension.h"
#include "ariadne/core/http_routes.h"
#include "ariadne/crypto/recovery.h"

namespace ariadne::storage {
class Store;
}
namespace ariadne::gateway {
using storage::Store;
}

namespace ariadne::adapters {

class EdgeHub;

/// What the page uses of her record: the language it speaks to her after sign-in and the
/// time zone its timestamps are shown in.
struct SurvivorPageProfile {
    std::string language;   // BCP 47 tag ("ro", "pt-BR"); its primary subtag picks the texts
    std::string time_zone;  // IANA name; empty or unknown = UTC
};

struct SurvivorPageOptions {
    std::string path = "/notes";  // neutral; the quick-exit page is path + "/away"
    std::chrono::minutes idle_timeout{15};
    /// Duress hook (e.g. PolicyService::raise_duress of her case, found with the services'
    /// find_survivor_case). Called with her account id; its exceptions escape handle().
    std::function<void(const std::string& survivor_account)> on_duress;
    /// The one duress mechanism (`ariadne admin survivor-enrol --with-duress-code`): her
    /// duress code is a second survivor account. Given the account a code signed in to, this
    /// returns HER account when that account is her duress login, else nullopt (e.g. the
    /// services' duress_login_target); its exceptions escape handle(). The page then
    /// treats the sign-in as duress for her (empty view, team alerted, on_duress(her)).
    /// Empty: no code counts as duress (a duress login then just shows its own empty view).
    std::function<std::optional<std::string>(const std::string& account)> duress_target;
    /// Her record (e.g. the services' find_survivor_record), given her account id; nullopt
    /// when none (an exception is logged and the sign-in goes on without it). After sign-in
    /// the page speaks her record's language (until she picks another in the menu) and shows
    /// times in her time zone. Empty: the browser's language, UTC.
    std::function<std::optional<SurvivorPageProfile>(const std::string& account)> profile;
    /// The organisation's retention in days (policies::OrgPolicy::retention_days): older
    /// messages of her thread are not shown. Empty: 365.
    std::function<int()> retention_days;
    /// Signed-in sessions at most; a sign-in beyond it is refused ("full"), never served by
    /// ending another. Sessions idle for idle_timeout end and free their place.
    std::size_t max_sessions = 10000;
    /// Signed-in sessions of one account at most (her phone, a shelter computer...), so
    /// that one code cannot fill the page.
    std::size_t max_sessions_per_account = 4;
    /// Unix ms clock (tests); empty = the system clock (policies::now_utc).
    std::function<std::int64_t()> clock_ms;
};

class SurvivorPage final : public gateway::Extension {
  public:
    /// `store` and `hub` must outlive the page. `params` are the deployment's recovery
    /// parameters (the ones the gateway publishes).
    SurvivorPage(gateway::Store& store, EdgeHub& hub, crypto::RecoveryParams params,
                 SurvivorPageOptions options = {});
    ~SurvivorPage() override;
    SurvivorPage(const SurvivorPage&) = delete;
    SurvivorPage& operator=(const SurvivorPage&) = delete;

    /// Registers options.path (page, assets, quick-exit page) on `routes`. The route holds a
    /// pointer to this page: it must outlive `routes`' use.
    void register_routes(gateway::HttpRoutes& routes);
    /// register_routes on the registry's routes.
    void register_with(gateway::ExtensionRegistry& registry) override;

    /// Answers one request (what the registered route calls).
    gateway::HttpResponse handle(const gateway::HttpRequest& request);

    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace ariadne::adapters
