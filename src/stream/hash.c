/* SHA-256 pass-through sink: hashes and counts what flows to the next sink. */
#include "dbbackupd/stream.h"

#include <stdio.h>

static dbb_code hash_sink_write(struct dbb_sink *self, const void *buf, size_t len,
                                struct dbb_error *err)
{
	struct dbb_hash_sink *s = (struct dbb_hash_sink *)self;
	if (EVP_DigestUpdate(s->md, buf, len) != 1)
		return dbb_fail(err, DBB_ERR_INTERNAL, "SHA-256 update failed");
	s->bytes += len;
	return dbb_sink_write(s->next, buf, len, err);
}

dbb_code dbb_hash_sink_init(struct dbb_hash_sink *s, struct dbb_sink *next, struct dbb_error *err)
{
	s->base.write = hash_sink_write;
	s->next = next;
	s->bytes = 0;
	s->md = EVP_MD_CTX_new();
	if (!s->md || EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(s->md);
		s->md = NULL;
		return dbb_fail(err, DBB_ERR_INTERNAL, "cannot start SHA-256");
	}
	return DBB_OK;
}

void dbb_hash_sink_final(struct dbb_hash_sink *s, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	hex[0] = '\0';
	if (s->md && EVP_DigestFinal_ex(s->md, md, &len) == 1) {
		for (unsigned i = 0; i < len && i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
	}
	dbb_hash_sink_cleanup(s);
}

void dbb_hash_sink_cleanup(struct dbb_hash_sink *s)
{
	EVP_MD_CTX_free(s->md);
	s->md = NULL;
}
