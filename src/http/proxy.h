/* TRUSTED_PROXIES: which peers' X-Forwarded-For and X-Request-Id count. */
#ifndef DBBACKUPD_HTTP_PROXY_H
#define DBBACKUPD_HTTP_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include "dbbackupd/error.h"

struct sockaddr;

#define DBB_PROXIES_MAX 32

struct dbb_proxy_net {
	unsigned char addr[16]; /* IPv4 as ::ffff:a.b.c.d */
	unsigned prefix;        /* bits of addr that count (IPv4: 96 + its prefix) */
};

struct dbb_proxies {
	struct dbb_proxy_net v[DBB_PROXIES_MAX];
	size_t n;
};

/* "10.0.0.1, 192.168.0.0/16, ::1, fd00::/8" (commas or spaces); "" none.
 * DBB_ERR_CONFIG naming the bad entry. */
dbb_code dbb_proxies_parse(struct dbb_proxies *out, const char *list, struct dbb_error *err);

/* The client of a request from peer: the peer's address, or, when the
 * peer is a trusted proxy and forwarded_for (X-Forwarded-For, NULL: none)
 * is given, the rightmost address in it that is not a trusted proxy.
 * Writes it as text to client (cap >= 46; "-" for an unknown family).
 * Returns whether the peer is a trusted proxy (whose X-Request-Id counts). */
bool dbb_proxies_client(const struct dbb_proxies *p, const struct sockaddr *peer,
                        const char *forwarded_for, char *client, size_t cap);

#endif
