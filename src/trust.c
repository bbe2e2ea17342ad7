/* Trust checks: who can change the files the daemon believes, and which
 * settings send tokens or keys over a network in clear text (see trust.h). */
#include "dbbackupd/trust.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "dbbackupd/log.h"

#define MAX_LINKS 40 /* symbolic links followed, like the kernel's limit */

struct walk {
	const char *var;  /* the setting, for messages */
	const char *path; /* as configured, for messages */
	unsigned flags;
	uid_t euid;
	char resolved[PATH_MAX]; /* the directory reached so far, no links in it */
	char rest[2 * PATH_MAX]; /* what is left to resolve */
	bool shared;             /* resolved is a sticky directory others may write */
	struct dbb_error *err;
};

static bool trusted_owner(const struct walk *w, uid_t uid)
{
	return uid == 0 || uid == w->euid;
}

static const char *writers(mode_t m)
{
	if ((m & S_IWGRP) && (m & S_IWOTH))
		return "its group and others";
	return (m & S_IWOTH) ? "others" : "its group";
}

/* One line: "VAR PATH: what (owner, mode); refusing to trust it: fix". */
static dbb_code refuse(struct walk *w, const char *what, const struct stat *st, const char *fix)
{
	if (st && fix)
		return dbb_fail(w->err, DBB_ERR_CONFIG,
		                "%s %s: %s (owner uid %u, mode %04o); refusing to trust it: %s",
		                w->var, w->path, what, (unsigned)st->st_uid,
		                (unsigned)(st->st_mode & 07777), fix);
	return dbb_fail(w->err, DBB_ERR_CONFIG, "%s %s: %s", w->var, w->path, what);
}

static dbb_code check_owner(struct walk *w, const char *name, const struct stat *st)
{
	char fix[PATH_MAX + 64];

	if (trusted_owner(w, st->st_uid))
		return DBB_OK;
	snprintf(fix, sizeof(fix), "chown it to root or to the daemon's user (uid %u)",
	         (unsigned)w->euid);
	char what[PATH_MAX + 96];

	if (snprintf(what, sizeof(what), "%s is owned by another user than root or the daemon's",
	             name) >= (int)sizeof(what))
		snprintf(what, sizeof(what), "a path on the way is owned by another user");
	return refuse(w, what, st, fix);
}

/* A directory on the way: owned by root or us, writable by no one else
 * unless sticky (then its entries must be ours or root's: w->shared). */
static dbb_code check_dir(struct walk *w, const char *dir)
{
	struct stat st;
	char fix[PATH_MAX + 64], what[PATH_MAX + 64];
	dbb_code rc;

	if (stat(dir, &st) != 0)
		return dbb_fail_errno(w->err, errno, DBB_ERR_CONFIG, "%s %s: %s", w->var, w->path,
		                      dir);
	if (!S_ISDIR(st.st_mode)) {
		snprintf(what, sizeof(what), "%s is not a directory", dir);
		return refuse(w, what, NULL, NULL);
	}
	snprintf(what, sizeof(what), "directory %s", dir);
	rc = check_owner(w, what, &st);
	if (rc)
		return rc;
	w->shared = false;
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		if (!(st.st_mode & S_ISVTX)) {
			snprintf(fix, sizeof(fix), "chmod go-w %s", dir);
			snprintf(what, sizeof(what),
			         "directory %s is writable by %s, who could replace what is in it",
			         dir, writers(st.st_mode));
			return refuse(w, what, &st, fix);
		}
		w->shared = true;
	}
	return DBB_OK;
}

static dbb_code check_file(struct walk *w, const char *resolved, const struct stat *st)
{
	char fix[PATH_MAX + 64], what[PATH_MAX + 64];
	/* the file as configured, or where links led */
	const char *file = strcmp(resolved, w->path) == 0 ? "the file" : resolved;
	dbb_code rc;

	if (!S_ISREG(st->st_mode)) {
		snprintf(what, sizeof(what), "%s is not a regular file", file);
		return refuse(w, what, NULL, NULL);
	}
	rc = check_owner(w, file, st);
	if (rc)
		return rc;
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(fix, sizeof(fix), "chmod go-w %s", resolved);
		snprintf(what, sizeof(what), "%s is writable by %s", file, writers(st->st_mode));
		return refuse(w, what, st, fix);
	}
	if ((w->flags & DBB_TRUST_PRIVATE) && (st->st_mode & S_IRWXO)) {
		snprintf(fix, sizeof(fix), "chmod o-rwx %s", resolved);
		snprintf(what, sizeof(what), "%s holds a private key and others can read it", file);
		return refuse(w, what, st, fix);
	}
	return DBB_OK;
}

/* Takes the next component off w->rest into name; false when none is left. */
static bool next_component(struct walk *w, char *name, size_t cap)
{
	char *p = w->rest, *slash;
	size_t n;

	while (*p == '/')
		p++;
	if (!*p)
		return false;
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : strlen(p);
	snprintf(name, cap, "%.*s", (int)n, p);
	memmove(w->rest, p + n, strlen(p + n) + 1);
	return true;
}

static bool rest_is_empty(const struct walk *w)
{
	for (const char *p = w->rest; *p; p++)
		if (*p != '/')
			return false;
	return true;
}

/* w->rest = target + "/" + w->rest; an absolute target restarts at "/". */
static dbb_code push_link(struct walk *w, const char *link)
{
	char target[PATH_MAX], joined[2 * PATH_MAX];
	ssize_t n = readlink(link, target, sizeof(target) - 1);

	if (n < 0)
		return dbb_fail_errno(w->err, errno, DBB_ERR_CONFIG, "%s %s: %s", w->var, w->path,
		                      link);
	target[n] = '\0';
	if ((size_t)snprintf(joined, sizeof(joined), "%s/%s", target, w->rest) >= sizeof(w->rest))
		return refuse(w, "path too long after a symbolic link", NULL, NULL);
	memcpy(w->rest, joined, strlen(joined) + 1);
	if (target[0] == '/') {
		snprintf(w->resolved, sizeof(w->resolved), "/");
		return check_dir(w, "/");
	}
	return DBB_OK;
}

static void up_one(struct walk *w)
{
	char *slash = strrchr(w->resolved, '/');

	if (slash && slash != w->resolved)
		*slash = '\0';
	else
		snprintf(w->resolved, sizeof(w->resolved), "/");
}

dbb_code dbb_trust_file(const char *var, const char *path, unsigned flags, struct stat *out,
                        struct dbb_error *err)
{
	struct walk w = {.var = var, .path = path, .flags = flags, .euid = geteuid(), .err = err};
	char name[NAME_MAX + 1], cand[PATH_MAX];
	unsigned links = 0;
	struct stat st;
	dbb_code rc;

	if (!path[0])
		return dbb_fail(err, DBB_ERR_CONFIG, "%s is empty", var);
	if (path[0] == '/') {
		snprintf(w.rest, sizeof(w.rest), "%s", path);
	} else {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd)))
			return dbb_fail_errno(err, errno, DBB_ERR_CONFIG,
			                      "%s %s: working directory", var, path);
		if ((size_t)snprintf(w.rest, sizeof(w.rest), "%s/%s", cwd, path) >= PATH_MAX)
			return refuse(&w, "path too long", NULL, NULL);
	}
	snprintf(w.resolved, sizeof(w.resolved), "/");
	rc = check_dir(&w, "/");
	while (rc == DBB_OK && next_component(&w, name, sizeof(name))) {
		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			up_one(&w);
			rc = check_dir(&w, w.resolved); /* sets w.shared for it */
			continue;
		}
		if ((size_t)snprintf(cand, sizeof(cand), "%s/%s",
		                     strcmp(w.resolved, "/") == 0 ? "" : w.resolved,
		                     name) >= sizeof(cand))
			return refuse(&w, "path too long", NULL, NULL);
		if (lstat(cand, &st) != 0)
			return dbb_fail_errno(err, errno, DBB_ERR_CONFIG, "%s %s", var, path);
		if (w.shared && !trusted_owner(&w, st.st_uid)) {
			char what[PATH_MAX + 128];

			snprintf(what, sizeof(what),
			         "%s is in a directory others may write (sticky) and is owned by "
			         "another user than root or the daemon's",
			         cand);
			return refuse(&w, what, &st,
			              "keep it in a directory only root or you can write");
		}
		if (S_ISLNK(st.st_mode)) {
			if (++links > MAX_LINKS)
				return refuse(&w, "too many levels of symbolic links", NULL, NULL);
			rc = push_link(&w, cand);
			continue;
		}
		if (rest_is_empty(&w)) {
			rc = check_file(&w, cand, &st);
			if (rc == DBB_OK && out)
				*out = st;
			return rc;
		}
		rc = check_dir(&w, cand);
		snprintf(w.resolved, sizeof(w.resolved), "%s", cand);
	}
	if (rc == DBB_OK)
		rc = refuse(&w, "not a regular file", NULL, NULL);
	return rc;
}

bool dbb_trust_loopback_address(const char *ip)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, ip, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, ip, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		       (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return false;
}

bool dbb_trust_loopback_url(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL;
	bool loopback = false;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host) {
		size_t n = strlen(host);

		if (strcasecmp(host, "localhost") == 0) {
			loopback = true;
		} else if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
			char ip[INET6_ADDRSTRLEN + 1];

			if (n - 2 < sizeof(ip)) {
				snprintf(ip, sizeof(ip), "%.*s", (int)(n - 2), host + 1);
				loopback = dbb_trust_loopback_address(ip);
			}
		} else {
			loopback = dbb_trust_loopback_address(host);
		}
	}
	curl_free(host);
	curl_url_cleanup(u);
	return loopback;
}

int dbb_trust_warn_transport(const struct dbb_config *cfg)
{
	bool tls = cfg->tls_cert_file[0] && cfg->tls_key_file[0];
	int warned = 0;

	if (!tls && !dbb_trust_loopback_address(cfg->bind_address)) {
		if (cfg->bind_allow_http) {
			dbb_info("plain HTTP on %s (not loopback) allowed by BIND_ALLOW_HTTP=true",
			         cfg->bind_address);
		} else {
			dbb_warn(
			    "INSECURE: BIND_ADDRESS %s is not a loopback address and TLS is "
			    "off: bearer tokens and backups cross the network in clear text. "
			    "Set TLS_CERT_FILE and TLS_KEY_FILE, or keep the daemon on "
			    "127.0.0.1 behind a TLS proxy, or set BIND_ALLOW_HTTP=true if this "
			    "network is private",
			    cfg->bind_address);
			warned++;
		}
	}
	/* Keys are fetched from Keycloak only without AUTH_JWKS_FILE. */
	if (cfg->keycloak_url[0] && !cfg->auth_jwks_file[0] &&
	    strncasecmp(cfg->keycloak_url, "http://", 7) == 0 &&
	    !dbb_trust_loopback_url(cfg->keycloak_url)) {
		if (cfg->keycloak_allow_http) {
			dbb_info("token keys over plain HTTP from %s allowed by "
			         "KEYCLOAK_ALLOW_HTTP=true",
			         cfg->keycloak_url);
		} else {
			dbb_warn("INSECURE: KEYCLOAK_URL %s is plain http to a host that is not "
			         "loopback: whoever can tamper with that traffic can replace the "
			         "token keys and act as admin. Use https://, or set "
			         "KEYCLOAK_ALLOW_HTTP=true if this network is private",
			         cfg->keycloak_url);
			warned++;
		}
	}
	return warned;
}
