/* The tokens that verified lately, so that a client sending the same token
 * again (a cron job, a script walking the list, a browser) is not verified
 * from scratch each time: libjwt decodes the key's PEM for every token, which
 * costs far more than the request it guards. An entry is the SHA-256 of the
 * token, the key set it verified against and the principal it gave; it is
 * used only while that key set is the current one and the token has not
 * expired. Only successes are cached: a bad token is always verified. One
 * token has one digest because it has one spelling: the verifier refuses
 * non-canonical base64url (jwt_verify.c), so a respelled copy of a cached
 * token misses, is verified and refused, instead of being accepted and
 * cached as a second token. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth/internal.h"

void dbb_token_cache_init(struct dbb_token_cache *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
}

void dbb_token_cache_destroy(struct dbb_token_cache *c)
{
	pthread_mutex_destroy(&c->lock);
	OPENSSL_cleanse(c->slots, sizeof(c->slots));
}

bool dbb_token_digest(const char *token, unsigned char digest[DBB_TOKEN_DIGEST_LEN])
{
	unsigned int len = 0;

	return EVP_Digest(token, strnlen(token, DBB_TOKEN_MAX + 1), digest, &len, EVP_sha256(),
	                  NULL) == 1 &&
	       len == DBB_TOKEN_DIGEST_LEN;
}

static struct dbb_token_cache_slot *slot_of(struct dbb_token_cache *c, const unsigned char *digest)
{
	size_t i = ((size_t)digest[0] << 8 | digest[1]) % DBB_TOKEN_CACHE_SLOTS;

	return &c->slots[i];
}

bool dbb_token_cache_get(struct dbb_token_cache *c, const unsigned char *digest,
                         uint64_t keyset_serial, time_t now, struct dbb_principal *who)
{
	struct dbb_token_cache_slot *s = slot_of(c, digest);
	bool hit = false;

	pthread_mutex_lock(&c->lock);
	if (s->keyset_serial != 0 && s->keyset_serial == keyset_serial &&
	    CRYPTO_memcmp(s->digest, digest, DBB_TOKEN_DIGEST_LEN) == 0) {
		if ((double)now < s->valid_until) {
			*who = s->who;
			hit = true;
		} else {
			memset(s, 0, sizeof(*s)); /* expired: never again */
		}
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

void dbb_token_cache_put(struct dbb_token_cache *c, const unsigned char *digest,
                         uint64_t keyset_serial, double valid_until,
                         const struct dbb_principal *who)
{
	struct dbb_token_cache_slot *s = slot_of(c, digest);

	pthread_mutex_lock(&c->lock);
	memcpy(s->digest, digest, DBB_TOKEN_DIGEST_LEN);
	s->keyset_serial = keyset_serial;
	s->valid_until = valid_until;
	s->who = *who;
	pthread_mutex_unlock(&c->lock);
}
