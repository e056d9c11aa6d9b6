// Costs of the crypto core: recovery-code derivation, password hashing, TOTP and the login
// signature. Run: build/release/tests/bench/crypto_bench (see docs/benchmarks.md).
#include <benchmark/benchmark.h>

#include <string>

#include "ariadne/crypto/hkdf.h"
#include "ariadne/crypto/password.h"
#include "ariadne/crypto/recovery.h"
#include "ariadne/crypto/totp.h"

using namespace ariadne::crypto;

namespace {

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
