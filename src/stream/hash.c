/* SHA-256 pass-through sink: hashes and counts what flows to the next sink. */
#include "dbbackupd/stream.h"

#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

struct hash_sink {
	struct dbb_sink base;
	struct dbb_sink *next;
	EVP_MD_CTX *md;
	uint64_t bytes;
};

static dbb_code hash_sink_write(struct dbb_sink *self, const void *buf, size_t len,
                                struct dbb_error *err)
{
	struct hash_sink *s = (struct hash_sink *)self;
	if (EVP_DigestUpdate(s->md, buf, len) != 1)
		return dbb_fail(err, DBB_ERR_INTERNAL, "SHA-256 update failed");
	s->bytes += len;
	return dbb_sink_write(s->next, buf, len, err);
}

static void hash_sink_free(struct dbb_sink *self)
{
	struct hash_sink *s = (struct hash_sink *)self;
	EVP_MD_CTX_free(s->md);
	free(s);
}

dbb_code dbb_hash_sink_new(struct dbb_sink *next, struct dbb_sink **out, struct dbb_error *err)
{
	*out = NULL;
	struct hash_sink *s = calloc(1, sizeof(*s));
	if (!s)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	s->base.write = hash_sink_write;
	s->base.free = hash_sink_free;
	s->next = next;
	s->md = EVP_MD_CTX_new();
	if (!s->md || EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1) {
		hash_sink_free(&s->base);
		return dbb_fail(err, DBB_ERR_INTERNAL, "cannot start SHA-256");
	}
	*out = &s->base;
	return DBB_OK;
}

void dbb_hash_sink_digest(struct dbb_sink *hash, char hex[65], uint64_t *bytes)
{
	struct hash_sink *s = (struct hash_sink *)hash;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	hex[0] = '\0';
	if (s->md && EVP_DigestFinal_ex(s->md, md, &len) == 1) {
		for (unsigned i = 0; i < len && i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
	}
	if (bytes)
		*bytes = s->bytes;
}
