#pragma once
// TEST-ONLY. Self-signed certificates made at test time with the OpenSSL C
// API (no external process, nothing checked in), in a private temporary
// directory removed afterwards.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

namespace rempart::http::testing {

// A fresh mode-0700 directory, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "rempart-tls-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("test: mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

inline Pkey make_p256_key() {
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) throw std::runtime_error("test: key generation failed");
  return key;
}

inline void write_key(const std::filesystem::path& path, EVP_PKEY* key, mode_t mode = 0600) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_file(path.c_str(), "w"));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    throw std::runtime_error("test: cannot write the key");
  }
  bio.reset();
  if (::chmod(path.c_str(), mode) != 0) throw std::runtime_error("test: chmod failed");
}

// A certificate for 127.0.0.1 (CN and IP subjectAltName), valid for a day,
// signed by its own key.
inline void write_self_signed_certificate(const std::filesystem::path& path, EVP_PKEY* key) {
  std::unique_ptr<X509, X509Free> cert(X509_new());
  if (!cert) throw std::runtime_error("test: X509_new failed");
  X509* c = cert.get();
  bool ok = X509_set_version(c, 2) == 1 && ASN1_INTEGER_set(X509_get_serialNumber(c), 1) == 1 &&
            X509_gmtime_adj(X509_getm_notBefore(c), -60) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(c), 24L * 3600) != nullptr && X509_set_pubkey(c, key) == 1;
  X509_NAME* name = X509_get_subject_name(c);
  ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                        reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0) == 1;
  ok = ok && X509_set_issuer_name(c, name) == 1;
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, c, c, nullptr, nullptr, 0);
  for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                                   std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
    ok = ok && ext != nullptr && X509_add_ext(c, ext, -1) == 1;
    X509_EXTENSION_free(ext);
  }
  ok = ok && X509_sign(c, key, EVP_sha256()) > 0;
  if (!ok) throw std::runtime_error("test: certificate creation failed");
  std::unique_ptr<BIO, BioFree> bio(BIO_new_file(path.c_str(), "w"));
  if (!bio || PEM_write_bio_X509(bio.get(), c) != 1) throw std::runtime_error("test: cannot write the certificate");
}

// cert.pem and key.pem (mode 0600) in a private temporary directory.
struct TestCertificate {
  TempDir dir;
  std::filesystem::path cert = dir.path() / "cert.pem";
  std::filesystem::path key = dir.path() / "key.pem";

  TestCertificate() {
    Pkey k = make_p256_key();
    write_self_signed_certificate(cert, k.get());
    write_key(key, k.get());
  }
};

}  // namespace rempart::http::testing
