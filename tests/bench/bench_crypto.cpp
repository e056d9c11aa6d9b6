// Costs of the crypto core: Signal sessions through Party (encrypt, decrypt, X3DH set-up,
// each including its sealed, durable SQLite commit), recovery-code derivation, password
// hashing, TOTP and the login signature. See docs/benchmarks.md for how to run it.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <deque>
#include <filesystem>
#include <memory>
#include <string>

#include "ariadne/crypto/hkdf.h"
#include "ariadne/crypto/password.h"
#include "ariadne/crypto/recovery.h"
#include "ariadne/crypto/session.h"
#include "ariadne/crypto/totp.h"

using namespace ariadne::crypto;

namespace {

// A store directory under $TMPDIR (disk by default; /dev/shm shows the cost without fsync).
class BenchDir {
  public:
    BenchDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "ariadne-bench-XXXXXX");
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~BenchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  private:
    std::filesystem::path path_;
};

const Address kAlice{"bench-alice", 1};
const Address kBob{"bench-bob", 1};

// Two parties with an established session (both directions have ratcheted once).
struct Established {
    BenchDir dir;
    std::unique_ptr<Party> alice =
        Party::open(dir / "alice.db", StoreKey::from_bytes(random_bytes(32)));
    std::unique_ptr<Party> bob =
        Party::open(dir / "bob.db", StoreKey::from_bytes(random_bytes(32)));
    const Bytes message = random_bytes(200);  // a typical short chat message

    Established() {
        bob->generate_pre_keys(1);
        alice->start_session(kBob, bob->bundle(1));
        Ciphertext first = alice->encrypt(kBob, message);
        bob->decrypt(kAlice, first.type, first.bytes);
        Ciphertext reply = bob->encrypt(kAlice, message);
        alice->decrypt(kBob, reply.type, reply.bytes);
    }
};

void BM_Encrypt200B(benchmark::State& state) {
    Established e;
    for (auto _ : state) benchmark::DoNotOptimize(e.alice->encrypt(kBob, e.message));
}
BENCHMARK(BM_Encrypt200B)->Unit(benchmark::kMicrosecond);

void BM_Decrypt200B(benchmark::State& state) {
    Established e;
    std::deque<Ciphertext> queue;
    for (auto _ : state) {
        if (queue.empty()) {
            state.PauseTiming();
            for (int i = 0; i < 256; ++i) queue.push_back(e.alice->encrypt(kBob, e.message));
            state.ResumeTiming();
        }
        benchmark::DoNotOptimize(e.bob->decrypt(kAlice, queue.front().type, queue.front().bytes));
        queue.pop_front();
    }
}
BENCHMARK(BM_Decrypt200B)->Unit(benchmark::kMicrosecond);

// Initiator side of X3DH: verify the bundle, agree keys, store the new session.
void BM_SessionStartFromBundle(benchmark::State& state) {
    Established e;
    std::size_t n = 0;
    for (auto _ : state) {
        state.PauseTiming();
        const PreKeyBundle bundle = e.bob->bundle(1);  // last-resort key once one-time run out
        const Address peer{"bench-peer-" + std::to_string(n++), 1};
        state.ResumeTiming();
        e.alice->start_session(peer, bundle);
    }
}
BENCHMARK(BM_SessionStartFromBundle)->Unit(benchmark::kMicrosecond);

// Responder side of X3DH: the first pre-key message creates the session and uses a pre-key.
void BM_SessionAcceptPreKeyMessage(benchmark::State& state) {
    Established e;
    std::size_t n = 0;
    for (auto _ : state) {
        state.PauseTiming();
        e.bob->generate_pre_keys(1);
        const std::string suffix = std::to_string(n++);
        const Address bob_as_seen{"bench-bob-" + suffix, 1};
        e.alice->start_session(bob_as_seen, e.bob->bundle(1));
        const Ciphertext first = e.alice->encrypt(bob_as_seen, e.message);
        const Address alice_as_seen{"bench-alice-" + suffix, 1};
        state.ResumeTiming();
        benchmark::DoNotOptimize(e.bob->decrypt(alice_as_seen, first.type, first.bytes));
    }
}
BENCHMARK(BM_SessionAcceptPreKeyMessage)->Unit(benchmark::kMicrosecond);

// Recovery-code derivation at the production cost (t=3, 64 MiB) with 1 and 4 lanes.
void BM_RecoveryDerive(benchmark::State& state) {
    RecoveryParams params = new_recovery_params();
    params.parallelism = static_cast<std::uint32_t>(state.range(0));
    const std::string code = generate_recovery_code();
    for (auto _ : state) {
        RecoverySecrets s = derive_recovery_secrets(code, params);
        benchmark::DoNotOptimize(s.identity_seed.data());
    }
}
BENCHMARK(BM_RecoveryDerive)->Arg(1)->Arg(4)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PasswordHashDefault(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(hash_password("correct horse battery staple"));
}
BENCHMARK(BM_PasswordHashDefault)->Unit(benchmark::kMillisecond);

void BM_PasswordVerifyDefault(benchmark::State& state) {
    const std::string encoded = hash_password("correct horse battery staple");
    for (auto _ : state) {
        benchmark::DoNotOptimize(verify_password("correct horse battery staple", encoded));
    }
}
BENCHMARK(BM_PasswordVerifyDefault)->Unit(benchmark::kMillisecond);

void BM_TotpVerifyWindow1(benchmark::State& state) {
    const SecretBytes secret = generate_totp_secret();
    const std::string code = totp_code(secret.view(), 1'700'000'000);
    for (auto _ : state) {
        benchmark::DoNotOptimize(verify_totp(secret.view(), code, 1'700'000'000));
    }
}
BENCHMARK(BM_TotpVerifyWindow1)->Unit(benchmark::kMicrosecond);

void BM_Hkdf32(benchmark::State& state) {
    const Bytes ikm = random_bytes(32);
    for (auto _ : state) {
        benchmark::DoNotOptimize(hkdf_sha256(ikm, {}, as_bytes("ariadne/v1/auth"), 32));
    }
}
BENCHMARK(BM_Hkdf32)->Unit(benchmark::kMicrosecond);

RecoverySecrets cheap_secrets() {
    RecoveryParams params = new_recovery_params();
    params.t_cost = 1;
    params.m_kib = 8 * 1024;
    return derive_recovery_secrets(generate_recovery_code(), params);
}

void BM_LoginSign(benchmark::State& state) {
    const RecoverySecrets s = cheap_secrets();
    const Bytes challenge = random_bytes(32);
    for (auto _ : state) benchmark::DoNotOptimize(sign_login_challenge(s.auth_key, challenge));
}
BENCHMARK(BM_LoginSign)->Unit(benchmark::kMicrosecond);

void BM_LoginVerify(benchmark::State& state) {
    const RecoverySecrets s = cheap_secrets();
    const Bytes challenge = random_bytes(32);
    const Bytes signature = sign_login_challenge(s.auth_key, challenge);
    for (auto _ : state) {
        benchmark::DoNotOptimize(verify_login_signature(s.auth_public_key, challenge, signature));
    }
}
BENCHMARK(BM_LoginVerify)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
