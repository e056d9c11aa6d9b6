// SignalContext: one libsignal-protocol-c library context with Ariadne's OpenSSL 3 crypto
// provider and a recursive lock.
//
// Thread-safety: libsignal takes this context's recursive lock around session building and
// session cipher calls, and every store callback runs under it. Callers that run several
// libsignal calls as one step (encrypt + store, decrypt + commit) hold lock() themselves.
// libsignal objects (keys, records, ciphers) are reference counted without atomics: never
// share one between contexts or use it outside the owning context's lock.
#pragma once

#include <mutex>

extern "C" {
struct signal_context;
}

namespace ariadne::crypto {

class SignalContext {
  public:
    /// Creates the library context and installs the provider and locking functions.
    /// Throws Error(internal) if libsignal or OpenSSL cannot be initialised (e.g. the
    /// default provider lacks HMAC or SHA-512).
    SignalContext();
    ~SignalContext();
    SignalContext(const SignalContext&) = delete;
    SignalContext& operator=(const SignalContext&) = delete;

    /// The raw context for libsignal calls. Owned by this object; valid until destruction.
    signal_context* get() const noexcept { return context_; }

    /// Holds the context's recursive lock for the lifetime of the returned guard.
    std::unique_lock<std::recursive_mutex> lock() { return std::unique_lock(mutex_); }

  private:
    static void lock_callback(void* self);
    static void unlock_callback(void* self);

    std::recursive_mutex mutex_;
    signal_context* context_ = nullptr;
};

}  // namespace ariadne::crypto
