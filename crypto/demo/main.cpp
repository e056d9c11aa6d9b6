// Demonstration of the crypto core: a caseworker console and a survivor's phone, each with its
// own sealed store in a temporary directory, establish a Signal session from a pre-key bundle
// (exchanged as JSON, as the gateway's key directory will serve it), exchange messages both
// ways and print what a relay would see (types and padded sizes) and the safety number.
// The message texts are invented demo strings.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include "ariadne/crypto/bundle.h"
#include "ariadne/crypto/error.h"
#include "ariadne/crypto/session.h"

using namespace ariadne::crypto;

namespace {

const char* type_name(int type) { return type == kPreKeyMessage ? "pre-key (3)" : "normal (2)"; }

void relay(Party& from, const Address& to_address, Party& to, const Address& from_address,
           const std::string& from_label, const std::string& text) {
    Ciphertext c = from.encrypt(to_address, as_bytes(text));
    std::string received = to_string(to.decrypt(from_address, c.type, c.bytes));
    std::string shown = received.size() > 60 ? received.substr(0, 57) + "..." : received;
    std::cout << "  " << from_label << ": \"" << shown << "\"  [" << type_name(c.type) << ", "
              << text.size() << " bytes of text -> " << c.bytes.size() << " bytes on the wire]\n";
    if (received != text) throw Error(ErrorCode::internal, "the demo message did not round-trip");
}

}  // namespace

int main() {
    std::string pattern = (std::filesystem::temp_directory_path() / "ariadne-demo-XXXXXX");
    if (::mkdtemp(pattern.data()) == nullptr) {
        std::cerr << "cannot create a temporary directory\n";
        return 1;
    }
    const std::filesystem::path dir = pattern;
    int status = 0;
    try {
        const Address console_address{"worker-17", 1};
        const Address survivor_address{"case-K7Q2F9", 1};
        // Cheap Argon2id parameters keep the demo quick; real stores use the defaults.
        auto console = Party::open(
            dir / "console.db",
            StoreKey::from_passphrase("demo console passphrase", Argon2Params::for_tests()));
        StoreKey::create_key_file(dir / "survivor.key");
        auto survivor =
            Party::open(dir / "survivor.db", StoreKey::from_key_file(dir / "survivor.key"));

        std::string upload = to_json(survivor->upload_set(1, 10));
        std::cout << "survivor uploads 10 one-time pre-keys + signed + last-resort ("
                  << upload.size() << " bytes of JSON)\n";
        // The directory would hand one of the uploaded keys out; the demo builds the bundle.
        UploadSet directory = parse_upload_set(upload);
        PreKeyBundle bundle{directory.registration_id, directory.device_id, directory.identity_key,
                            directory.signed_pre_key, directory.pre_keys.front()};
        std::string bundle_json = to_json(bundle);
        std::cout << "bundle served to the console (" << bundle_json.size() << " bytes):\n  "
                  << bundle_json << "\n\n";

        console->start_session(survivor_address, parse_bundle(bundle_json));
        std::cout << "messages:\n";
        relay(*console, survivor_address, *survivor, console_address, "console -> survivor",
              "Hello, this is your caseworker. Reply when it is safe.");
        relay(*console, survivor_address, *survivor, console_address, "console -> survivor",
              "No rush.");
        relay(*survivor, console_address, *console, survivor_address, "survivor -> console",
              "Safe now. Can we talk tomorrow?");
        relay(*console, survivor_address, *survivor, console_address, "console -> survivor",
              "Yes, 10:00. Use the code word if anything changes.");
        relay(*survivor, console_address, *console, survivor_address, "survivor -> console",
              "A longer message lands in the 1024-byte bucket. " + std::string(600, '.'));

        std::string console_view =
            console->safety_number("worker-17", "case-K7Q2F9", survivor_address);
        std::string survivor_view =
            survivor->safety_number("case-K7Q2F9", "worker-17", console_address);
        std::cout << "\nsafety number seen by the console : " << console_view << "\n"
                  << "safety number seen by the survivor: " << survivor_view << "\n"
                  << (console_view == survivor_view ? "they match: no one is in between\n"
                                                    : "MISMATCH\n");
        if (console_view != survivor_view) status = 1;
    } catch (const Error& e) {
        std::cerr << "error (" << to_string(e.code()) << "): " << e.what() << "\n";
        status = 1;
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return status;
}
