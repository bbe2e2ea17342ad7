/* Local development keys and tokens (no Keycloak): `dbbackupd dev-keys DIR`
 * and `dbbackupd token`. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <jwt.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "auth/internal.h"

#define DEV_RSA_BITS 2048
#define PEM_FILE_MAX (64 * 1024)

static dbb_code write_all(int fd, const char *buf, size_t len, const char *name,
                          struct dbb_error *err)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "writing %s", name);
		buf += n;
		len -= (size_t)n;
	}
	return DBB_OK;
}

/* Private key, PKCS#8 PEM, created 0600 with O_EXCL: never readable by others,
 * never over an existing key. */
static dbb_code write_private(int dfd, const char *dir, EVP_PKEY *pkey, struct dbb_error *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len;
	dbb_code rc = DBB_OK;
	int fd = -1;

	if (!bio || PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (len = BIO_get_mem_data(bio, &data)) <= 0) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "cannot encode the private key");
		goto out;
	}
	fd = openat(dfd, "private.pem", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = dbb_fail_errno(err, errno, errno == EEXIST ? DBB_ERR_EXISTS : DBB_ERR_INTERNAL,
		                    "creating %s/private.pem", dir);
		goto out;
	}
	rc = write_all(fd, data, (size_t)len, "private.pem", err);
	if (rc == DBB_OK && fsync(fd) != 0)
		rc = dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "fsync %s/private.pem", dir);
out:
	if (fd >= 0)
		close(fd);
	if (rc && fd >= 0)
		unlinkat(dfd, "private.pem", 0);
	BIO_free_all(bio); /* BIO_s_mem frees its buffer, clearing is OpenSSL's job */
	return rc;
}

static dbb_code write_jwks(int dfd, const char *dir, const char *kid, const char *n, const char *e,
                           struct dbb_error *err)
{
	json_t *doc = json_pack("{s:[{s:s, s:s, s:s, s:s, s:s, s:s}]}", "keys", "kty", "RSA", "kid",
	                        kid, "use", "sig", "alg", "RS256", "n", n, "e", e);
	char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
	dbb_code rc = DBB_OK;
	int fd = -1;

	if (!text) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "cannot encode the JWKS");
		goto out;
	}
	fd = openat(dfd, ".jwks.json.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	            0644);
	if (fd < 0) {
		rc =
		    dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "creating %s/.jwks.json.tmp", dir);
		goto out;
	}
	rc = write_all(fd, text, strlen(text), "jwks.json", err);
	if (rc == DBB_OK)
		rc = write_all(fd, "\n", 1, "jwks.json", err);
	if (rc == DBB_OK && fsync(fd) != 0)
		rc = dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "fsync %s/jwks.json", dir);
	if (rc == DBB_OK && renameat(dfd, ".jwks.json.tmp", dfd, "jwks.json") != 0)
		rc = dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "renaming to %s/jwks.json", dir);
	if (rc == DBB_OK && fsync(dfd) != 0)
		rc = dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "fsync %s", dir);
out:
	if (fd >= 0)
		close(fd);
	if (rc && fd >= 0)
		unlinkat(dfd, ".jwks.json.tmp", 0);
	free(text);
	json_decref(doc);
	return rc;
}

dbb_code dbb_devkeys_write(const char *dir, struct dbb_error *err)
{
	EVP_PKEY *pkey = NULL;
	char *n = NULL, *e = NULL;
	char kid[64];
	dbb_code rc = DBB_OK;
	int dfd;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "creating %s", dir);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "opening %s", dir);
	if (faccessat(dfd, "private.pem", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		rc = dbb_fail(
		    err, DBB_ERR_EXISTS,
		    "%s/private.pem already exists; remove it or choose another directory", dir);
		goto out;
	}
	pkey = EVP_RSA_gen(DEV_RSA_BITS);
	if (!pkey) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "RSA key generation failed");
		goto out;
	}
	rc = dbb_jwk_rsa_members(pkey, &n, &e, err);
	if (rc == DBB_OK)
		rc = dbb_jwk_rsa_thumbprint(n, e, kid, sizeof(kid), err);
	if (rc == DBB_OK)
		rc = write_private(dfd, dir, pkey, err);
	if (rc)
		goto out;
	rc = write_jwks(dfd, dir, kid, n, e, err);
	if (rc)
		unlinkat(dfd, "private.pem", 0);
out:
	free(n);
	free(e);
	EVP_PKEY_free(pkey);
	close(dfd);
	return rc;
}

/* Reads a PEM file (bounded) into a malloc'd, NUL-terminated buffer. */
static dbb_code read_pem(const char *path, char **out, size_t *len, struct dbb_error *err)
{
	char *buf = NULL;
	size_t used = 0;
	dbb_code rc = DBB_OK;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	*out = NULL;
	if (fd < 0)
		return dbb_fail_errno(err, errno, DBB_ERR_INVALID_PARAMETER, "opening %s", path);
	buf = malloc(PEM_FILE_MAX + 1);
	if (!buf) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + used, PEM_FILE_MAX - used);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = dbb_fail_errno(err, errno, DBB_ERR_INVALID_PARAMETER, "reading %s",
			                    path);
			goto out;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used == PEM_FILE_MAX) {
			rc = dbb_fail(err, DBB_ERR_INVALID_PARAMETER, "%s is too large for a key",
			              path);
			goto out;
		}
	}
	buf[used] = '\0';
	*out = buf;
	*len = used;
	buf = NULL;
out:
	if (buf) {
		OPENSSL_cleanse(buf, PEM_FILE_MAX + 1);
		free(buf);
	}
	close(fd);
	return rc;
}

/* role: "operator", "operator:NAME", or NULL for none. */
static dbb_code add_claims(jwt_t *jwt, const char *role, long ttl_s, const struct dbb_config *cfg,
                           struct dbb_error *err)
{
	char issuer[DBB_CFG_STR + 160], who[64];
	const char *client = cfg->keycloak_client_id[0] ? cfg->keycloak_client_id : "dbbackupd";
	json_t *access = NULL;
	char *access_json = NULL;
	time_t now = time(NULL);
	int bad = 0;

	dbb_auth_expected_issuer(cfg, issuer, sizeof(issuer));
	snprintf(who, sizeof(who), "dev-%s", role ? role : "none");
	if (!role)
		access = json_pack("{s:{s:[]}}", "realm_access", "roles");
	else
		access = json_pack("{s:{s:[s]}}", "realm_access", "roles", role);
	access_json = access ? json_dumps(access, JSON_COMPACT) : NULL;
	bad |= !access_json;
	bad |= jwt_add_grant(jwt, "iss", issuer);
	bad |= jwt_add_grant(jwt, "aud", client);
	bad |= jwt_add_grant(jwt, "azp", client);
	bad |= jwt_add_grant(jwt, "sub", who);
	bad |= jwt_add_grant(jwt, "preferred_username", who);
	bad |= jwt_add_grant_int(jwt, "iat", (long)now);
	bad |= jwt_add_grant_int(jwt, "exp", (long)now + ttl_s);
	if (access_json)
		bad |= jwt_add_grants_json(jwt, access_json);
	free(access_json);
	json_decref(access);
	return bad ? dbb_fail(err, DBB_ERR_INTERNAL, "cannot build the token claims") : DBB_OK;
}

dbb_code dbb_token_issue(const char *private_pem_path, enum dbb_role role, long ttl_s,
                         const struct dbb_config *cfg, char **token, struct dbb_error *err)
{
	return dbb_token_issue_role(private_pem_path, role ? dbb_role_name(role) : NULL, ttl_s, cfg,
	                            token, err);
}

dbb_code dbb_token_issue_role(const char *private_pem_path, const char *role, long ttl_s,
                              const struct dbb_config *cfg, char **token, struct dbb_error *err)
{
	char *pem = NULL, *n = NULL, *e = NULL;
	size_t pem_len = 0;
	char kid[64];
	BIO *bio = NULL;
	EVP_PKEY *pkey = NULL;
	jwt_t *jwt = NULL;
	dbb_code rc;

	*token = NULL;
	rc = read_pem(private_pem_path, &pem, &pem_len, err);
	if (rc)
		goto out;
	bio = BIO_new_mem_buf(pem, (int)pem_len);
	pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	if (!pkey || !EVP_PKEY_is_a(pkey, "RSA")) {
		rc = dbb_fail(err, DBB_ERR_INVALID_PARAMETER,
		              "%s is not an RSA private key in PEM (use `dbbackupd dev-keys DIR`)",
		              private_pem_path);
		goto out;
	}
	rc = dbb_jwk_rsa_members(pkey, &n, &e, err);
	if (rc == DBB_OK)
		rc = dbb_jwk_rsa_thumbprint(n, e, kid, sizeof(kid), err);
	if (rc)
		goto out;
	if (jwt_new(&jwt) != 0 || jwt_add_header(jwt, "kid", kid) != 0) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "cannot create a token");
		goto out;
	}
	rc = add_claims(jwt, role, ttl_s, cfg, err);
	if (rc)
		goto out;
	if (jwt_set_alg(jwt, JWT_ALG_RS256, (const unsigned char *)pem, (int)pem_len) != 0 ||
	    !(*token = jwt_encode_str(jwt))) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "cannot sign the token with %s",
		              private_pem_path);
		goto out;
	}
out:
	jwt_free(jwt);
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	free(n);
	free(e);
	if (pem) {
		OPENSSL_cleanse(pem, pem_len);
		free(pem);
	}
	return rc;
}
