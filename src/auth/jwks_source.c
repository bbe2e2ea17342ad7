/* Where a JWKS comes from: a local file (AUTH_JWKS_FILE) or Keycloak's certs
 * endpoint over libcurl, bounded in size and time. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "auth/internal.h"
#include "auth/source.h"
#include "dbbackupd/trust.h"

/* `dbbackupd dev-keys DIR` puts the private key that signs tokens next to
 * the JWKS: if it is there, others must not be able to read or change it. */
static dbb_code dev_key_trusted(const char *jwks_path, struct dbb_error *err)
{
	char pem[PATH_MAX];
	const char *slash = strrchr(jwks_path, '/');
	struct stat st;
	int n;

	if (slash)
		n = snprintf(pem, sizeof(pem), "%.*s/private.pem", (int)(slash - jwks_path),
		             jwks_path);
	else
		n = snprintf(pem, sizeof(pem), "private.pem");
	if (n < 0 || (size_t)n >= sizeof(pem) || lstat(pem, &st) != 0)
		return DBB_OK; /* no development key there */
	return dbb_trust_file("development key (next to AUTH_JWKS_FILE)", pem, DBB_TRUST_PRIVATE,
	                      NULL, err);
}

dbb_code dbb_jwks_load_file(const char *path, struct dbb_keyset **out, struct dbb_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	struct stat st, checked;
	dbb_code rc = DBB_OK;
	int fd;

	*out = NULL;
	/* Whoever can change the key set can sign tokens for any role. */
	rc = dbb_trust_file("AUTH_JWKS_FILE", path, 0, &checked, err);
	if (rc == DBB_OK)
		rc = dev_key_trusted(path, err);
	if (rc)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return dbb_fail_errno(err, errno, DBB_ERR_CONFIG, "AUTH_JWKS_FILE %s", path);
	if (fstat(fd, &st) != 0) {
		rc = dbb_fail_errno(err, errno, DBB_ERR_CONFIG, "AUTH_JWKS_FILE %s", path);
		goto out;
	}
	if (st.st_dev != checked.st_dev || st.st_ino != checked.st_ino) {
		rc = dbb_fail(err, DBB_ERR_CONFIG, "AUTH_JWKS_FILE %s changed while being read",
		              path);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > DBB_JWKS_MAX) {
		rc = dbb_fail(err, DBB_ERR_CONFIG,
		              "AUTH_JWKS_FILE %s: not a regular file of at most %d bytes", path,
		              DBB_JWKS_MAX);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
		goto out;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = dbb_fail_errno(err, errno, DBB_ERR_CONFIG, "AUTH_JWKS_FILE %s", path);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	rc = dbb_keyset_parse(buf, len, out, err);
	if (rc) {
		dbb_error_prefix(err, "AUTH_JWKS_FILE %s", path);
		err->code = rc = DBB_ERR_CONFIG;
	}
out:
	free(buf);
	close(fd);
	return rc;
}

struct body {
	char *data;
	size_t len;
	bool too_large;
};

static size_t body_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct body *b = userdata;
	size_t n = size * nmemb;
	char *grown;

	if (b->len + n > DBB_JWKS_MAX) {
		b->too_large = true;
		return 0;
	}
	grown = realloc(b->data, b->len + n + 1);
	if (!grown)
		return 0;
	b->data = grown;
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

static int cancelled(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                     curl_off_t ulnow)
{
	const atomic_bool *cancel = clientp;

	return cancel && atomic_load(cancel) ? 1 : 0;
}

static dbb_code curl_error_to(struct dbb_error *err, CURLcode cc, const char *url,
                              const char *detail)
{
	return dbb_fail(err, DBB_ERR_AUTH_UNAVAILABLE, "JWKS fetch from %s failed: %s", url,
	                detail[0] ? detail : curl_easy_strerror(cc));
}

dbb_code dbb_jwks_fetch(const char *url, const atomic_bool *cancel, struct dbb_keyset **out,
                        struct dbb_error *err)
{
	char detail[CURL_ERROR_SIZE] = "";
	struct body body = {0};
	struct curl_slist *hdrs = NULL;
	CURL *curl = NULL;
	CURLcode cc;
	long status = 0;
	dbb_code rc = DBB_OK;

	*out = NULL;
	curl = curl_easy_init();
	hdrs = curl_slist_append(NULL, "Accept: application/json");
	if (!curl || !hdrs) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "cannot set up libcurl");
		goto out;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)DBB_JWKS_CONNECT_TIMEOUT);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)DBB_JWKS_FETCH_TIMEOUT);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "dbbackupd/" DBB_VERSION);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, detail);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, cancelled);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, (void *)cancel);
	cc = curl_easy_perform(curl);
	if (cc != CURLE_OK) {
		if (body.too_large)
			rc = dbb_fail(err, DBB_ERR_AUTH_UNAVAILABLE,
			              "JWKS from %s is larger than %d bytes", url, DBB_JWKS_MAX);
		else
			rc = curl_error_to(err, cc, url, detail);
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		rc = dbb_fail(err, DBB_ERR_AUTH_UNAVAILABLE, "JWKS fetch from %s: HTTP %ld", url,
		              status);
		goto out;
	}
	rc = dbb_keyset_parse(body.data ? body.data : "", body.len, out, err);
	if (rc) {
		dbb_error_prefix(err, "JWKS from %s", url);
		err->code = rc = DBB_ERR_AUTH_UNAVAILABLE;
	}
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(curl);
	free(body.data);
	return rc;
}
