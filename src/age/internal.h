/* Shared by the files of src/age/ only: encodings (canonical base64,
 * Bech32), the OpenSSL primitives as age uses them, the header, the armor
 * decoder. The public interface is include/dbbackupd/age.h. */
#ifndef DBB_AGE_INTERNAL_H
#define DBB_AGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "dbbackupd/age.h"

/* The encrypting layer (sink.c). */
struct dbb_age_sink {
	struct dbb_sink base;
	struct dbb_sink *next;
	EVP_CIPHER_CTX *ctx;
	unsigned char key[32];   /* payload key */
	unsigned char nonce[12]; /* chunk counter (11 bytes) and last-chunk flag */
	unsigned char *buf;      /* DBB_AGE_CHUNK + DBB_AGE_TAG */
	size_t have;             /* plaintext bytes buffered */
	uint64_t chunks;         /* chunks written */
	bool finished;
	bool failed;
};

/* The decrypting layer (source.c). */
struct dbb_age_source_state; /* private to source.c */
struct dbb_age_source {
	struct dbb_source base;
	struct dbb_source *next;
	struct dbb_age_source_state *st;
	struct dbb_age_source_info info;
};

#define AGE_FILE_KEY_LEN     16
#define AGE_NONCE_LEN        16 /* payload nonce */
#define AGE_MAC_LEN          32
#define AGE_BODY_LEN         32 /* a wrapped file key: 16 bytes + tag */
#define AGE_ENC_CHUNK        (DBB_AGE_CHUNK + DBB_AGE_TAG)
#define AGE_MAX_STANZAS      1024
#define AGE_MAX_ARGS         128
#define AGE_COLUMNS          64 /* base64 columns of a stanza body line */
#define AGE_BYTES_PER_LINE   48
#define AGE_VERSION_LINE     "age-encryption.org/v1\n"
#define AGE_MAGIC            "age-encryption.org/"
#define AGE_ARMOR_BEGIN      "-----BEGIN AGE ENCRYPTED FILE-----"
#define AGE_ARMOR_END        "-----END AGE ENCRYPTED FILE-----"
#define AGE_ARMOR_WHITESPACE 1024 /* most whitespace around an armored file */

/* ---- base64 (b64.c), through OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock ----
 * Raw: standard alphabet without '=' padding, canonical only (the unused
 * bits of the last character zero); anything else, including CR/LF and
 * spaces, is refused. Padded: the same with '=' padding (the armor). */
size_t age_b64_raw_len(size_t n);                                      /* characters for n bytes */
void age_b64_raw_encode(const unsigned char *in, size_t n, char *out); /* NUL-terminates */
/* Decodes len characters into out (room for len * 3 / 4 bytes). */
bool age_b64_raw_decode(const char *in, size_t len, unsigned char *out, size_t *out_len);
bool age_b64_padded_decode(const char *in, size_t len, unsigned char *out, size_t *out_len);
void age_b64_padded_encode(const unsigned char *in, size_t n, char *out); /* NUL-terminates */

/* ---- Bech32 (bech32.c), BIP 173 without its length limit ----
 * Encodes data under hrp; upper writes it all uppercase. out must hold
 * strlen(hrp) + 1 + (n * 8 + 4) / 5 + 6 + 1 bytes. */
bool age_bech32_encode(const char *hrp, const unsigned char *data, size_t n, bool upper, char *out,
                       size_t out_cap);
/* Decodes s (len bytes): one case only, last '1' separates the hrp, valid
 * checksum, zero padding of at most 4 bits. hrp gets the hrp as written
 * (NUL-terminated, at most hrp_cap - 1 chars), data up to data_cap bytes. */
bool age_bech32_decode(const char *s, size_t len, char *hrp, size_t hrp_cap, unsigned char *data,
                       size_t data_cap, size_t *data_len);

/* ---- primitives (prim.c) ---- */
/* HKDF-SHA-256, 32 bytes out; salt may be empty. */
bool age_hkdf(const unsigned char *ikm, size_t ikm_len, const unsigned char *salt, size_t salt_len,
              const char *info, unsigned char out[32]);
bool age_hmac(const unsigned char key[32], const void *data, size_t len,
              unsigned char out[AGE_MAC_LEN]);
/* ChaCha20-Poly1305 with ctx (made by the caller); out gets in_len + 16
 * bytes on seal, in_len - 16 on open. key sets the key (and the cipher);
 * NULL keeps the key ctx already has (the STREAM chunks: one key, a new
 * nonce each). open fails (false) if the tag does not match; out is then
 * wiped. */
bool age_aead_seal(EVP_CIPHER_CTX *ctx, const unsigned char key[32], const unsigned char nonce[12],
                   const unsigned char *in, size_t in_len, unsigned char *out);
bool age_aead_open(EVP_CIPHER_CTX *ctx, const unsigned char key[32], const unsigned char nonce[12],
                   const unsigned char *in, size_t in_len, unsigned char *out);
/* X25519(scalar, point); false if OpenSSL fails or the result is all zero
 * (a low-order point). */
bool age_x25519(const unsigned char scalar[32], const unsigned char point[32],
                unsigned char out[32]);
bool age_x25519_base(const unsigned char scalar[32], unsigned char out[32]);
bool age_scrypt(const unsigned char *pass, size_t pass_len, const unsigned char *salt,
                size_t salt_len, unsigned log2n, unsigned char out[32]);
bool age_random(void *buf, size_t n);

/* ---- header (header.c) ---- */
struct age_stanza {
	char *type;
	char **args;
	size_t nargs;
	unsigned char *body;
	size_t body_len;
};

struct age_header {
	struct age_stanza *stanzas;
	size_t n;
	size_t mac_covered; /* bytes of the raw header the MAC covers */
	unsigned char mac[AGE_MAC_LEN];
};

/* Parses a whole header (raw, len bytes, ending with the MAC line's LF)
 * strictly by the spec's ABNF. On failure msg says why. */
bool age_header_parse(const char *raw, size_t len, struct age_header *h, char *msg, size_t msg_cap);
void age_header_free(struct age_header *h);
/* Where the header ends in buf: the offset just after the LF of the "---"
 * line, 0 if it is not there yet. */
size_t age_header_end(const char *buf, size_t len);

/* A growable byte buffer for writing a header. */
struct age_buf {
	char *p;
	size_t len, cap;
	bool oom;
};
void age_buf_add(struct age_buf *b, const void *data, size_t n);
void age_buf_free(struct age_buf *b);

/* Appends a stanza: "-> type args...\n" and the body wrapped at 64 columns
 * with a final short (maybe empty) line. */
void age_stanza_write(struct age_buf *b, const char *type, const char *const *args, size_t nargs,
                      const unsigned char *body, size_t body_len);

/* ---- stanzas (stanza.c): wrapping and unwrapping the file key ---- */
bool age_x25519_wrap(const struct dbb_age_recipient *r, const unsigned char file_key[16],
                     struct age_buf *hdr);
bool age_scrypt_wrap(const unsigned char *pass, size_t len, unsigned log2n,
                     const unsigned char file_key[16], struct age_buf *hdr);

/* What unwrapping found. */
enum age_unwrap {
	AGE_UNWRAP_OK,
	AGE_UNWRAP_NO_MATCH,
	AGE_UNWRAP_BAD, /* a malformed stanza of a known type: header failure */
};
/* Tries the identities on the stanzas as the spec says (unknown types
 * ignored; scrypt only alone); *matched gets the index of the X25519
 * identity that matched (SIZE_MAX for the passphrase). */
enum age_unwrap age_unwrap(const struct age_header *h, const struct dbb_age_identities *ids,
                           unsigned char file_key[16], size_t *matched, char *msg, size_t msg_cap);

/* ---- armor (armor.c): a source that decodes the ASCII armor ---- */
struct age_armor;
struct age_armor *age_armor_new(struct dbb_source *next);
struct dbb_source *age_armor_source(struct age_armor *a);
/* True once the armor decoder failed (its errors are armor failures). */
bool age_armor_failed(const struct age_armor *a);
void age_armor_free(struct age_armor *a);

#endif
