/* age keys: X25519 recipients (age1...) and identities
 * (AGE-SECRET-KEY-1...) in Bech32, recipients and identity files, keygen. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "age/internal.h"

#define RECIPIENT_HRP "age"
#define IDENTITY_HRP  "AGE-SECRET-KEY-"
#define FILE_MAX      (1024 * 1024)

dbb_code dbb_age_recipient_parse(const char *s, size_t len, struct dbb_age_recipient *out,
                                 struct dbb_error *err)
{
	char hrp[8];
	size_t n = 0;

	if (len >= 7 && memcmp(s, "age1pq1", 7) == 0)
		return dbb_fail(err, DBB_ERR_INVALID_PARAMETER,
		                "post-quantum age recipients (age1pq1...) are not supported");
	if (!age_bech32_decode(s, len, hrp, sizeof(hrp), out->key, sizeof(out->key), &n) ||
	    strcmp(hrp, RECIPIENT_HRP) != 0 || n != 32)
		return dbb_fail(
		    err, DBB_ERR_INVALID_PARAMETER,
		    "malformed age recipient %.*s (expected age1... as age-keygen prints)",
		    (int)(len > 80 ? 80 : len), s);
	return DBB_OK;
}

void dbb_age_recipient_format(const struct dbb_age_recipient *r,
                              char out[DBB_AGE_RECIPIENT_LEN + 1])
{
	if (!age_bech32_encode(RECIPIENT_HRP, r->key, 32, false, out, DBB_AGE_RECIPIENT_LEN + 1))
		out[0] = '\0';
}

dbb_code dbb_age_identity_parse(const char *s, size_t len, struct dbb_age_identity *out,
                                struct dbb_error *err)
{
	char hrp[20];
	size_t n = 0;
	dbb_code rc = DBB_OK;

	if (len >= 19 && memcmp(s, "AGE-SECRET-KEY-PQ-1", 19) == 0)
		return dbb_fail(
		    err, DBB_ERR_INVALID_PARAMETER,
		    "post-quantum age identities (AGE-SECRET-KEY-PQ-1...) are not supported");
	if (!age_bech32_decode(s, len, hrp, sizeof(hrp), out->secret, sizeof(out->secret), &n) ||
	    strcmp(hrp, IDENTITY_HRP) != 0 || n != 32)
		rc = dbb_fail(
		    err, DBB_ERR_INVALID_PARAMETER,
		    "malformed age identity (expected AGE-SECRET-KEY-1... as age-keygen writes)");
	else if (!age_x25519_base(out->secret, out->pub))
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "X25519 public key computation failed");
	if (rc)
		OPENSSL_cleanse(out, sizeof(*out));
	return rc;
}

void dbb_age_identity_format(const struct dbb_age_identity *id, char out[DBB_AGE_IDENTITY_LEN + 1])
{
	if (!age_bech32_encode(IDENTITY_HRP, id->secret, 32, true, out, DBB_AGE_IDENTITY_LEN + 1))
		out[0] = '\0';
}

void dbb_age_identity_recipient(const struct dbb_age_identity *id, struct dbb_age_recipient *out)
{
	memcpy(out->key, id->pub, 32);
}

dbb_code dbb_age_keygen(struct dbb_age_identity *out, struct dbb_error *err)
{
	if (!age_random(out->secret, 32) || !age_x25519_base(out->secret, out->pub)) {
		OPENSSL_cleanse(out, sizeof(*out));
		return dbb_fail(err, DBB_ERR_INTERNAL, "cannot generate an X25519 key");
	}
	return DBB_OK;
}

static dbb_code add_recipient(struct dbb_age_recipients *rs, const struct dbb_age_recipient *r,
                              struct dbb_error *err)
{
	struct dbb_age_recipient *v = realloc(rs->v, (rs->n + 1) * sizeof(*v));
	if (!v)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	rs->v = v;
	rs->v[rs->n++] = *r;
	return DBB_OK;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

dbb_code dbb_age_recipients_parse_list(struct dbb_age_recipients *rs, const char *list,
                                       struct dbb_error *err)
{
	const char *p = list;
	size_t found = 0;
	dbb_code rc;

	for (;;) {
		while (*p && (is_space(*p) || *p == ','))
			p++;
		if (!*p)
			break;
		const char *start = p;
		while (*p && !is_space(*p) && *p != ',')
			p++;
		struct dbb_age_recipient r;
		rc = dbb_age_recipient_parse(start, (size_t)(p - start), &r, err);
		if (!rc)
			rc = add_recipient(rs, &r, err);
		if (rc)
			return rc;
		found++;
	}
	if (!found)
		return dbb_fail(err, DBB_ERR_INVALID_PARAMETER, "no age recipient in the list");
	return DBB_OK;
}

/* Calls line_fn on every line that is not blank or a '#' comment; a line
 * ends at LF, and a CR before it is dropped (as age does). */
typedef dbb_code (*line_fn)(void *ctx, const char *line, size_t len, unsigned lineno,
                            struct dbb_error *err);

static dbb_code each_line(const char *text, size_t len, line_fn fn, void *ctx,
                          struct dbb_error *err)
{
	size_t pos = 0;
	unsigned lineno = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len, l = end - pos;
		lineno++;
		if (l && text[pos + l - 1] == '\r')
			l--;
		if (l && text[pos] != '#') {
			if (memchr(text + pos, '\0', l))
				return dbb_fail(err, DBB_ERR_INVALID_PARAMETER, "line %u: NUL byte",
				                lineno);
			dbb_code rc = fn(ctx, text + pos, l, lineno, err);
			if (rc)
				return rc;
		}
		pos = end + 1;
	}
	return DBB_OK;
}

static dbb_code recipient_line(void *ctx, const char *line, size_t len, unsigned lineno,
                               struct dbb_error *err)
{
	struct dbb_age_recipient r;

	/* never quote a line that looks like a secret key */
	if (len >= 4 && memcmp(line, "AGE-", 4) == 0)
		return dbb_fail(err, DBB_ERR_INVALID_PARAMETER,
		                "line %u: an identity (secret key) in a recipients file", lineno);
	dbb_code rc = dbb_age_recipient_parse(line, len, &r, err);
	if (rc) {
		dbb_error_prefix(err, "line %u", lineno);
		return rc;
	}
	return add_recipient(ctx, &r, err);
}

dbb_code dbb_age_recipients_parse_file_text(struct dbb_age_recipients *rs, const char *text,
                                            size_t len, struct dbb_error *err)
{
	size_t before = rs->n;
	dbb_code rc = each_line(text, len, recipient_line, rs, err);

	if (!rc && rs->n == before)
		rc = dbb_fail(err, DBB_ERR_INVALID_PARAMETER, "no age recipient in the file");
	return rc;
}

void dbb_age_recipients_free(struct dbb_age_recipients *rs)
{
	free(rs->v);
	rs->v = NULL;
	rs->n = 0;
}

static dbb_code add_identity(struct dbb_age_identities *ids, const struct dbb_age_identity *id,
                             struct dbb_error *err)
{
	/* grown by hand so that the old copy is wiped, not left by realloc */
	struct dbb_age_identity *v = calloc(ids->n + 1, sizeof(*v));
	if (!v)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	if (ids->n) {
		memcpy(v, ids->v, ids->n * sizeof(*v));
		OPENSSL_cleanse(ids->v, ids->n * sizeof(*v));
	}
	free(ids->v);
	ids->v = v;
	ids->v[ids->n++] = *id;
	return DBB_OK;
}

static dbb_code identity_line(void *ctx, const char *line, size_t len, unsigned lineno,
                              struct dbb_error *err)
{
	struct dbb_age_identity id;
	dbb_code rc = dbb_age_identity_parse(line, len, &id, err);

	if (rc) {
		dbb_error_prefix(err, "line %u", lineno);
		return rc;
	}
	rc = add_identity(ctx, &id, err);
	OPENSSL_cleanse(&id, sizeof(id));
	return rc;
}

dbb_code dbb_age_identities_parse_file_text(struct dbb_age_identities *ids, const char *text,
                                            size_t len, struct dbb_error *err)
{
	size_t before = ids->n;
	dbb_code rc = each_line(text, len, identity_line, ids, err);

	if (!rc && ids->n == before)
		rc = dbb_fail(err, DBB_ERR_INVALID_PARAMETER, "no age identity in the file");
	return rc;
}

/* Reads a whole (small) file; *text is NUL-terminated, wiped by the caller. */
static dbb_code read_small_file(const char *path, unsigned flags, char **text, size_t *len,
                                struct dbb_error *err)
{
	struct stat st;
	char *buf = NULL;
	size_t have = 0;
	dbb_code rc = DBB_OK;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return dbb_fail_errno(err, errno, DBB_ERR_CONFIG, "cannot open %s", path);
	if (fstat(fd, &st) != 0) {
		rc = dbb_fail_errno(err, errno, DBB_ERR_CONFIG, "cannot stat %s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = dbb_fail(err, DBB_ERR_CONFIG, "%s is not a regular file", path);
		goto out;
	}
	if ((flags & DBB_AGE_FILE_PRIVATE) && ((st.st_mode & 077) || st.st_uid != geteuid())) {
		rc = dbb_fail(err, DBB_ERR_CONFIG,
		              "%s must be owned by the daemon's user and not readable by others "
		              "(chmod 600)",
		              path);
		goto out;
	}
	if (st.st_size > FILE_MAX) {
		rc = dbb_fail(err, DBB_ERR_CONFIG, "%s is larger than %d bytes", path, FILE_MAX);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
		goto out;
	}
	while (have < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + have, (size_t)st.st_size - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = dbb_fail_errno(err, errno, DBB_ERR_CONFIG, "cannot read %s", path);
			goto out;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	buf[have] = '\0';
	*text = buf;
	*len = have;
	buf = NULL;
out:
	if (buf) {
		OPENSSL_cleanse(buf, (size_t)st.st_size + 1);
		free(buf);
	}
	close(fd);
	return rc;
}

dbb_code dbb_age_recipients_load_file(struct dbb_age_recipients *rs, const char *path,
                                      struct dbb_error *err)
{
	char *text = NULL;
	size_t len = 0;
	dbb_code rc = read_small_file(path, 0, &text, &len, err);

	if (rc)
		return rc;
	rc = dbb_age_recipients_parse_file_text(rs, text, len, err);
	if (rc)
		dbb_error_prefix(err, "%s", path);
	free(text);
	return rc;
}

dbb_code dbb_age_identities_load_file(struct dbb_age_identities *ids, const char *path,
                                      unsigned flags, struct dbb_error *err)
{
	char *text = NULL;
	size_t len = 0;
	dbb_code rc = read_small_file(path, flags, &text, &len, err);

	if (rc)
		return rc;
	rc = dbb_age_identities_parse_file_text(ids, text, len, err);
	if (rc)
		dbb_error_prefix(err, "%s", path);
	OPENSSL_cleanse(text, len);
	free(text);
	return rc;
}

dbb_code dbb_age_identities_set_passphrase(struct dbb_age_identities *ids, const void *pass,
                                           size_t len, struct dbb_error *err)
{
	unsigned char *p;

	if (len == 0)
		return dbb_fail(err, DBB_ERR_INVALID_PARAMETER, "empty passphrase");
	p = malloc(len);
	if (!p)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	memcpy(p, pass, len);
	if (ids->passphrase) {
		OPENSSL_cleanse(ids->passphrase, ids->passphrase_len);
		free(ids->passphrase);
	}
	ids->passphrase = p;
	ids->passphrase_len = len;
	return DBB_OK;
}

dbb_code dbb_age_identities_load_passphrase_file(struct dbb_age_identities *ids, const char *path,
                                                 unsigned flags, struct dbb_error *err)
{
	char *text = NULL;
	size_t len = 0;
	dbb_code rc = read_small_file(path, flags, &text, &len, err);

	if (rc)
		return rc;
	char *nl = memchr(text, '\n', len);
	size_t l = nl ? (size_t)(nl - text) : len;
	if (l && text[l - 1] == '\r')
		l--;
	rc = dbb_age_identities_set_passphrase(ids, text, l, err);
	if (rc)
		dbb_error_prefix(err, "%s", path);
	OPENSSL_cleanse(text, len);
	free(text);
	return rc;
}

void dbb_age_identities_free(struct dbb_age_identities *ids)
{
	if (ids->v)
		OPENSSL_cleanse(ids->v, ids->n * sizeof(*ids->v));
	free(ids->v);
	if (ids->passphrase)
		OPENSSL_cleanse(ids->passphrase, ids->passphrase_len);
	free(ids->passphrase);
	ids->v = NULL;
	ids->n = 0;
	ids->passphrase = NULL;
	ids->passphrase_len = 0;
}

dbb_code dbb_age_keygen_file(const char *path, char recipient_out[DBB_AGE_RECIPIENT_LEN + 1],
                             struct dbb_error *err)
{
	struct dbb_age_identity id;
	struct dbb_age_recipient r;
	char secret[DBB_AGE_IDENTITY_LEN + 1], pub[DBB_AGE_RECIPIENT_LEN + 1], created[64],
	    text[512];
	struct tm tm;
	time_t now = time(NULL);
	dbb_code rc;
	int fd = -1, n;

	rc = dbb_age_keygen(&id, err);
	if (rc)
		return rc;
	dbb_age_identity_recipient(&id, &r);
	dbb_age_recipient_format(&r, pub);
	dbb_age_identity_format(&id, secret);
	gmtime_r(&now, &tm);
	if (strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		created[0] = '\0';
	n = snprintf(text, sizeof(text), "# created: %s\n# public key: %s\n%s\n", created, pub,
	             secret);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = dbb_fail_errno(err, errno, DBB_ERR_CONFIG, "cannot create %s", path);
		goto out;
	}
	for (size_t done = 0; done < (size_t)n;) {
		ssize_t w = write(fd, text + done, (size_t)n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = dbb_fail_errno(err, errno, DBB_ERR_CONFIG, "cannot write %s", path);
			goto out;
		}
		done += (size_t)w;
	}
	if (fsync(fd) != 0)
		rc = dbb_fail_errno(err, errno, DBB_ERR_CONFIG, "cannot sync %s", path);
out:
	if (fd >= 0 && close(fd) != 0 && !rc)
		rc = dbb_fail_errno(err, errno, DBB_ERR_CONFIG, "cannot close %s", path);
	if (rc && fd >= 0)
		unlink(path);
	if (!rc)
		memcpy(recipient_out, pub, sizeof(pub));
	OPENSSL_cleanse(&id, sizeof(id));
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}
