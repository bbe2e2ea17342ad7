/* The verifier object: configuration, the current key snapshot, and one
 * refresher thread that reloads the JWKS (periodically, and on demand when a
 * token names an unknown kid) without ever holding the lock while fetching. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "auth/internal.h"
#include "auth/source.h"
#include "dbbackupd/log.h"

#define DEFAULT_CLIENT_ID        "dbbackupd"
#define DEFAULT_REFRESH_INTERVAL 60    /* seconds */
#define DEFAULT_MAX_LIFETIME     86400 /* seconds (AUTH_MAX_TOKEN_LIFETIME) */
#define MAX_AGE_FACTOR           5     /* periodic refresh every 5 refresh intervals */
#define FETCH_WAIT               6     /* seconds a request waits for a refetch it asked for */
#define MAX_WAITERS              4     /* requests waiting for one fetch; more get 401 at once */

struct dbb_auth {
	char issuer[DBB_CFG_STR + 160];
	char client_id[128];
	char jwks_file[PATH_MAX];
	char certs_url[DBB_CFG_STR + 200];
	bool realm_roles, client_roles;
	long skew;
	long max_lifetime;     /* seconds a token may live */
	long refresh_interval; /* minimum seconds between two fetches */
	long max_age;          /* a snapshot older than this is refreshed */

	pthread_mutex_t lock;
	pthread_cond_t cond; /* CLOCK_MONOTONIC */
	/* Guarded by lock: */
	struct dbb_keyset *keys;
	long keys_at;  /* monotonic second the snapshot was loaded */
	long fetch_at; /* monotonic second the last fetch started, LONG_MIN never */
	unsigned long fetches_done;
	unsigned waiters; /* requests waiting in refetch_and_wait */
	bool fetch_wanted, fetching;
	atomic_bool stop;

	struct dbb_token_cache tokens; /* its own lock */

	pthread_t thread;
	bool thread_started;
	bool curl_inited;
};

static long mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec;
}

static void deadline_in(struct timespec *ts, long seconds)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += seconds;
}

/* KEYCLOAK_URL without trailing slashes, into out. */
static void base_url(const struct dbb_config *cfg, char *out, size_t size)
{
	size_t n = strnlen(cfg->keycloak_url, sizeof(cfg->keycloak_url));

	while (n > 0 && cfg->keycloak_url[n - 1] == '/')
		n--;
	snprintf(out, size, "%.*s", (int)n, cfg->keycloak_url);
}

void dbb_auth_expected_issuer(const struct dbb_config *cfg, char *out, size_t size)
{
	char base[DBB_CFG_STR];

	if (cfg->auth_issuer[0]) {
		snprintf(out, size, "%s", cfg->auth_issuer);
	} else if (cfg->keycloak_url[0]) {
		base_url(cfg, base, sizeof(base));
		snprintf(out, size, "%s/realms/%s", base, cfg->keycloak_realm);
	} else {
		snprintf(out, size, "dbbackupd-local");
	}
}

static dbb_code load_keys(struct dbb_auth *a, struct dbb_keyset **ks, struct dbb_error *err)
{
	if (a->jwks_file[0])
		return dbb_jwks_load_file(a->jwks_file, ks, err);
	return dbb_jwks_fetch(a->certs_url, &a->stop, ks, err);
}

static bool same_kids(const struct dbb_keyset *x, const struct dbb_keyset *y)
{
	if (!x || !y || x->n != y->n)
		return false;
	for (size_t i = 0; i < x->n; i++)
		if (strcmp(x->keys[i].kid, y->keys[i].kid) != 0)
			return false;
	return true;
}

/* Installs a new snapshot; the old one lives on until its last reader ends. */
static void install_keys(struct dbb_auth *a, struct dbb_keyset *ks)
{
	struct dbb_keyset *old;

	pthread_mutex_lock(&a->lock);
	old = a->keys;
	a->keys = ks;
	a->keys_at = mono_now();
	pthread_mutex_unlock(&a->lock);
	if (!same_kids(old, ks))
		dbb_info(
		    "auth: %zu token signature key(s) loaded from %s (%zu other key(s) ignored)",
		    ks->n, a->jwks_file[0] ? a->jwks_file : a->certs_url, ks->skipped);
	dbb_keyset_unref(old);
}

static void *refresher(void *arg)
{
	struct dbb_auth *a = arg;
	struct dbb_error err;
	struct dbb_keyset *ks;

	pthread_mutex_lock(&a->lock);
	while (!atomic_load(&a->stop)) {
		long now = mono_now();
		bool may = a->fetch_at == LONG_MIN || now - a->fetch_at >= a->refresh_interval;
		bool stale = !a->keys || now - a->keys_at >= a->max_age;
		struct timespec until;
		dbb_code rc;

		if (!may || (!a->fetch_wanted && !stale)) {
			long wait = !may ? a->refresh_interval - (now - a->fetch_at)
			                 : a->max_age - (now - a->keys_at);

			deadline_in(&until, wait > 0 ? wait : 1);
			pthread_cond_timedwait(&a->cond, &a->lock, &until);
			continue;
		}
		a->fetch_wanted = false;
		a->fetching = true;
		a->fetch_at = now;
		pthread_mutex_unlock(&a->lock);

		ks = NULL;
		dbb_error_clear(&err);
		rc = load_keys(a, &ks, &err);
		if (rc == DBB_OK && ks->n == 0) {
			dbb_fail(&err, DBB_ERR_AUTH_UNAVAILABLE, "JWKS has no signature keys");
			dbb_keyset_unref(ks);
			rc = err.code;
		}
		if (rc == DBB_OK) {
			dbb_debug("auth: JWKS fetched from %s: %zu signature key(s)",
			          a->jwks_file[0] ? a->jwks_file : a->certs_url, ks->n);
			install_keys(a, ks);
		} else if (a->jwks_file[0]) {
			/* A key file that became unsafe (or unreadable) is not read:
			 * the keys loaded before stay, and that is an error to fix. */
			dbb_error("auth: AUTH_JWKS_FILE NOT reloaded, keeping the keys loaded "
			          "before: %s",
			          err.message);
		} else if (!atomic_load(&a->stop)) {
			dbb_warn("auth: keeping the cached keys: %s", err.message);
		}

		pthread_mutex_lock(&a->lock);
		a->fetching = false;
		a->fetches_done++;
		pthread_cond_broadcast(&a->cond);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

/* Asks the refresher for a fetch (at most one per refresh interval) and
 * waits for the one in flight. False when rate-limited, or when enough
 * requests already wait (a hanging Keycloak must not pin many connections):
 * no fresher keys for this request. */
static bool refetch_and_wait(struct dbb_auth *a)
{
	struct timespec until;
	unsigned long done;
	bool waited = false;

	pthread_mutex_lock(&a->lock);
	done = a->fetches_done;
	if (!a->fetching) {
		long now = mono_now();

		a->fetch_wanted = true;
		pthread_cond_broadcast(&a->cond);
		/* Rate-limited: the refresher fetches once the interval is over
		 * (later requests may then succeed); this one is not kept waiting. */
		if (a->fetch_at != LONG_MIN && now - a->fetch_at < a->refresh_interval)
			goto out;
	}
	if (a->waiters >= MAX_WAITERS)
		goto out;
	a->waiters++;
	deadline_in(&until, FETCH_WAIT);
	while (a->fetches_done == done && !atomic_load(&a->stop))
		if (pthread_cond_timedwait(&a->cond, &a->lock, &until) == ETIMEDOUT)
			break;
	a->waiters--;
	waited = a->fetches_done != done;
out:
	pthread_mutex_unlock(&a->lock);
	return waited;
}

static struct dbb_keyset *current_keys(struct dbb_auth *a)
{
	struct dbb_keyset *ks;

	pthread_mutex_lock(&a->lock);
	ks = dbb_keyset_ref(a->keys);
	pthread_mutex_unlock(&a->lock);
	return ks;
}

static dbb_code read_config(struct dbb_auth *a, const struct dbb_config *cfg, struct dbb_error *err)
{
	char base[DBB_CFG_STR];
	const char *from = cfg->auth_roles_from;

	if (!cfg->auth_jwks_file[0] && !cfg->keycloak_url[0])
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "no token key source: set AUTH_JWKS_FILE (a JWKS file, e.g. from "
		                "`dbbackupd dev-keys DIR`) or KEYCLOAK_URL and KEYCLOAK_REALM");
	if (cfg->keycloak_url[0] && !cfg->keycloak_realm[0])
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "KEYCLOAK_REALM must be set with KEYCLOAK_URL");
	if (cfg->keycloak_url[0] && strncasecmp(cfg->keycloak_url, "http://", 7) != 0 &&
	    strncasecmp(cfg->keycloak_url, "https://", 8) != 0)
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "KEYCLOAK_URL must start with http:// or https://");
	if (!from[0] || strcmp(from, "both") == 0) {
		a->realm_roles = a->client_roles = true;
	} else if (strcmp(from, "realm") == 0) {
		a->realm_roles = true;
	} else if (strcmp(from, "client") == 0) {
		a->client_roles = true;
	} else {
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "AUTH_ROLES_FROM must be realm, client or both, not \"%s\"", from);
	}
	dbb_auth_expected_issuer(cfg, a->issuer, sizeof(a->issuer));
	snprintf(a->client_id, sizeof(a->client_id), "%s",
	         cfg->keycloak_client_id[0] ? cfg->keycloak_client_id : DEFAULT_CLIENT_ID);
	if (cfg->auth_jwks_file[0]) {
		snprintf(a->jwks_file, sizeof(a->jwks_file), "%s", cfg->auth_jwks_file);
	} else {
		base_url(cfg, base, sizeof(base));
		snprintf(a->certs_url, sizeof(a->certs_url),
		         "%s/realms/%s/protocol/openid-connect/certs", base, cfg->keycloak_realm);
	}
	a->skew = cfg->auth_clock_skew;
	a->max_lifetime = cfg->auth_max_token_lifetime ? (long)cfg->auth_max_token_lifetime
	                                               : DEFAULT_MAX_LIFETIME;
	a->refresh_interval = cfg->jwks_refresh_interval ? (long)cfg->jwks_refresh_interval
	                                                 : DEFAULT_REFRESH_INTERVAL;
	a->max_age = a->refresh_interval * MAX_AGE_FACTOR;
	return DBB_OK;
}

dbb_code dbb_auth_new(struct dbb_auth **out, const struct dbb_config *cfg, struct dbb_error *err)
{
	struct dbb_auth *a;
	struct dbb_keyset *ks = NULL;
	pthread_condattr_t ca;
	dbb_code rc;

	*out = NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	pthread_mutex_init(&a->lock, NULL);
	dbb_token_cache_init(&a->tokens);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->cond, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&a->stop, false);
	a->fetch_at = LONG_MIN;

	rc = read_config(a, cfg, err);
	if (rc)
		goto out;
	if (!a->jwks_file[0]) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			rc = dbb_fail(err, DBB_ERR_INTERNAL, "libcurl initialisation failed");
			goto out;
		}
		a->curl_inited = true;
	}

	/* The first load happens now: a bad file is a start-up error; Keycloak
	 * being down is not (the refresher retries, requests get 503). */
	a->fetch_at = mono_now();
	rc = load_keys(a, &ks, err);
	if (rc == DBB_OK && ks->n == 0) {
		rc = dbb_fail(err, a->jwks_file[0] ? DBB_ERR_CONFIG : DBB_ERR_AUTH_UNAVAILABLE,
		              "%s %s has no usable signature keys (%zu skipped: only RSA >= 2048 "
		              "bits and EC P-256/384/521 keys with use \"sig\" are used)",
		              a->jwks_file[0] ? "AUTH_JWKS_FILE" : "JWKS",
		              a->jwks_file[0] ? a->jwks_file : a->certs_url, ks->skipped);
		dbb_keyset_unref(ks);
		ks = NULL;
	}
	if (rc && a->jwks_file[0])
		goto out;
	if (rc) {
		dbb_warn("auth: starting without token keys, will retry: %s", err->message);
		dbb_error_clear(err);
		rc = DBB_OK;
	} else {
		install_keys(a, ks);
	}

	if (pthread_create(&a->thread, NULL, refresher, a) != 0) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "cannot start the JWKS refresher thread");
		goto out;
	}
	a->thread_started = true;
	*out = a;
	a = NULL;
out:
	dbb_auth_free(a);
	return rc;
}

void dbb_auth_free(struct dbb_auth *a)
{
	if (!a)
		return;
	if (a->thread_started) {
		pthread_mutex_lock(&a->lock);
		atomic_store(&a->stop, true);
		pthread_cond_broadcast(&a->cond);
		pthread_mutex_unlock(&a->lock);
		pthread_join(a->thread, NULL);
	}
	dbb_keyset_unref(a->keys);
	if (a->curl_inited)
		curl_global_cleanup();
	dbb_token_cache_destroy(&a->tokens);
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

bool dbb_auth_ready(struct dbb_auth *a)
{
	bool ready;

	pthread_mutex_lock(&a->lock);
	ready = a->keys && a->keys->n > 0;
	pthread_mutex_unlock(&a->lock);
	return ready;
}

/* The token of "Bearer <token>" (scheme case-insensitive), or NULL. */
static const char *bearer_token(const char *authorization)
{
	const char *p = authorization;

	if (!p)
		return NULL;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "Bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
		return NULL;
	p += 6;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p ? p : NULL;
}

dbb_code dbb_auth_verify(struct dbb_auth *a, const char *authorization, struct dbb_principal *who,
                         struct dbb_error *err)
{
	struct dbb_verify_params p = {
	    .issuer = a->issuer,
	    .client_id = a->client_id,
	    .realm_roles = a->realm_roles,
	    .client_roles = a->client_roles,
	    .skew = a->skew,
	    .max_lifetime = a->max_lifetime,
	};
	const char *token = bearer_token(authorization);
	struct dbb_keyset *ks, *fresh;
	unsigned char digest[DBB_TOKEN_DIGEST_LEN];
	bool digested, unknown_kid = false;
	double valid_until = 0;
	dbb_code rc;

	memset(who, 0, sizeof(*who));
	if (!token)
		return dbb_fail(err, DBB_ERR_UNAUTHORIZED, "a bearer token is required");
	ks = current_keys(a);
	p.now = time(NULL);
	digested = dbb_token_digest(token, digest);
	if (ks && digested && dbb_token_cache_get(&a->tokens, digest, ks->serial, p.now, who)) {
		dbb_keyset_unref(ks);
		return DBB_OK;
	}
	rc = dbb_jwt_verify(ks, token, &p, who, &valid_until, &unknown_kid, err);
	if (rc && unknown_kid && refetch_and_wait(a)) {
		fresh = current_keys(a);
		if (fresh != ks) {
			p.now = time(NULL);
			rc = dbb_jwt_verify(fresh, token, &p, who, &valid_until, &unknown_kid, err);
		}
		dbb_keyset_unref(ks);
		ks = fresh;
	}
	if (rc && unknown_kid && (!ks || ks->n == 0))
		rc = dbb_fail(err, DBB_ERR_AUTH_UNAVAILABLE,
		              "no token verification keys loaded yet (JWKS source unreachable)");
	if (rc == DBB_OK && ks && digested)
		dbb_token_cache_put(&a->tokens, digest, ks->serial, valid_until, who);
	dbb_keyset_unref(ks);
	return rc;
}
