// The C++ side of the interoperability test: one Ariadne Party (a real sealed SQLite store in
// a temporary directory) driven by interop.mjs over stdin/stdout, one JSON object per line.
//
// Requests ({"op": ...}) and answers:
//   {"op":"bundle"}                       -> {"ok":true,"bundle":<bundle JSON, docs/crypto.md>}
//   {"op":"start","bundle":{...}}         -> {"ok":true}   (X3DH with the peer's bundle)
//   {"op":"encrypt","plaintext":"<b64>"}  -> {"ok":true,"type":2|3,"body":"<b64>"}
//   {"op":"decrypt","type":2|3,"body":"<b64>"} -> {"ok":true,"plaintext":"<b64>"}
//   {"op":"quit"}                         -> {"ok":true}, then exit 0
// Any failure answers {"ok":false,"code":"<ErrorCode>","error":"<sentence>"} and the peer
// keeps running, so the script can also check that tampered input is refused.
// Plaintexts are padded by Party (session.h) exactly as in production.
#include <stdlib.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "ariadne/crypto/bundle.h"
#include "ariadne/crypto/error.h"
#include "ariadne/crypto/session.h"

using namespace ariadne::crypto;
using json = nlohmann::json;

namespace {

// The TypeScript peer, as this device knows it.
const Address kPeer{"ts-peer", 1};

class TempDir {
  public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "ariadne-interop-XXXXXX");
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

json handle(Party& party, const json& request, bool& quit) {
    const std::string op = request.at("op").get<std::string>();
    if (op == "bundle") {
        party.generate_pre_keys(1);
        return {{"ok", true}, {"bundle", json::parse(to_json(party.bundle(1)))}};
    }
    if (op == "start") {
        party.start_session(kPeer, parse_bundle(request.at("bundle").dump()));
        return {{"ok", true}};
    }
    if (op == "encrypt") {
        const Bytes plaintext = base64_decode(request.at("plaintext").get<std::string>());
        const Ciphertext c = party.encrypt(kPeer, plaintext);
        return {{"ok", true}, {"type", c.type}, {"body", base64_encode(c.bytes)}};
    }
    if (op == "decrypt") {
        const Bytes body = base64_decode(request.at("body").get<std::string>());
        const Bytes plaintext = party.decrypt(kPeer, request.at("type").get<int>(), body);
        return {{"ok", true}, {"plaintext", base64_encode(plaintext)}};
    }
    if (op == "quit") {
        quit = true;
        return {{"ok", true}};
    }
    return {{"ok", false}, {"code", "invalid_argument"}, {"error", "unknown op " + op}};
}

}  // namespace

int main() {
    try {
        TempDir dir;
        auto party = Party::open(dir.path() / "interop.db", StoreKey::from_bytes(random_bytes(32)));
        std::string line;
        bool quit = false;
        while (!quit && std::getline(std::cin, line)) {
            json answer;
            try {
                answer = handle(*party, json::parse(line), quit);
            } catch (const Error& e) {
                answer = {{"ok", false}, {"code", to_string(e.code())}, {"error", e.what()}};
            } catch (const std::exception& e) {
                answer = {{"ok", false}, {"code", "bad_request"}, {"error", e.what()}};
            }
            std::cout << answer.dump() << std::endl;
        }
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "interop_peer: " << e.what() << "\n";
        return 1;
    }
}
