#include "ariadne/app/certificate.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "ariadne/protocol/error.h"

namespace ariadne::gateway {

namespace {

template <class T, void (*F)(T*)>
struct Deleter {
    void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

struct FileCloser {
    void operator()(FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<FILE, FileCloser>;

[[noreturn]] void openssl_failure(const char* what) {
    throw GatewayError(GatewayErrorCode::internal,
                       std::string("Generating the development certificate failed: ") + what + ".");
}

FilePtr create_file(const std::filesystem::path& path, mode_t mode) {
    ::unlink(path.c_str());
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) throw GatewayError(GatewayErrorCode::io, "Cannot create " + path.string() + ".");
    FILE* f = ::fdopen(fd, "w");
    if (f == nullptr) {
        ::close(fd);
        throw GatewayError(GatewayErrorCode::io, "Cannot write " + path.string() + ".");
    }
    return FilePtr(f);
}

void add_extension(X509* cert, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) openssl_failure("cannot add an extension");
}

}  // namespace

void generate_dev_certificate(const std::filesystem::path& cert_path,
                              const std::filesystem::path& key_path) {
    PkeyPtr key(EVP_EC_gen("P-256"));
    if (!key) openssl_failure("cannot generate a P-256 key");
    X509Ptr cert(X509_new());
    if (!cert) openssl_failure("cannot allocate a certificate");
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof serial) != 1) openssl_failure("no randomness");
    serial[0] &= 0x7f;  // positive
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    bool ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) != nullptr;
    BN_free(bn);
    if (!ok || X509_set_version(cert.get(), 2) != 1 ||
        X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60) == nullptr ||
        X509_gmtime_adj(X509_getm_notAfter(cert.get()), 397L * 24 * 3600) == nullptr ||
        X509_set_pubkey(cert.get(), key.get()) != 1) {
        openssl_failure("cannot fill in the certificate");
    }
    X509_NAME* name = X509_get_subject_name(cert.get());
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("localhost"), -1, -1,
                                   0) != 1 ||
        X509_set_issuer_name(cert.get(), name) != 1) {
        openssl_failure("cannot set the certificate's name");
    }
    add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), NID_key_usage, "critical,digitalSignature");
    add_extension(cert.get(), NID_ext_key_usage, "serverAuth");
    add_extension(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
    add_extension(cert.get(), NID_subject_key_identifier, "hash");
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) openssl_failure("cannot sign");

    {
        FilePtr f = create_file(key_path, 0600);
        if (PEM_write_PrivateKey(f.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
            throw GatewayError(GatewayErrorCode::io, "Cannot write " + key_path.string() + ".");
        }
    }
    FilePtr f = create_file(cert_path, 0644);
    if (PEM_write_X509(f.get(), cert.get()) != 1) {
        throw GatewayError(GatewayErrorCode::io, "Cannot write " + cert_path.string() + ".");
    }
}

namespace {

X509Ptr read_certificate(const std::filesystem::path& cert_path) {
    FilePtr f(std::fopen(cert_path.c_str(), "r"));
    if (!f) throw GatewayError(GatewayErrorCode::io, "Cannot read " + cert_path.string() + ".");
    X509Ptr cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr));
    if (!cert) {
        throw GatewayError(GatewayErrorCode::io, cert_path.string() + " holds no PEM certificate.");
    }
    return cert;
}

std::string colon_hex(const unsigned char* digest, unsigned int length) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        if (i) out += ':';
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 15];
    }
    return out;
}

}  // namespace

std::string certificate_sha256_fingerprint(const std::filesystem::path& cert_path) {
    X509Ptr cert = read_certificate(cert_path);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (X509_digest(cert.get(), EVP_sha256(), digest, &length) != 1) {
        throw GatewayError(GatewayErrorCode::internal, "Cannot hash the certificate.");
    }
    return colon_hex(digest, length);
}

std::string public_key_sha256_fingerprint(const std::filesystem::path& cert_path) {
    X509Ptr cert = read_certificate(cert_path);
    unsigned char* der = nullptr;
    int size = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert.get()), &der);
    if (size <= 0) throw GatewayError(GatewayErrorCode::internal, "Cannot encode the public key.");
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    const int ok =
        EVP_Digest(der, static_cast<std::size_t>(size), digest, &length, EVP_sha256(), nullptr);
    OPENSSL_free(der);
    if (ok != 1) throw GatewayError(GatewayErrorCode::internal, "Cannot hash the public key.");
    return colon_hex(digest, length);
}

}  // namespace ariadne::gateway
