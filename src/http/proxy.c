/* TRUSTED_PROXIES: the addresses whose X-Forwarded-For and X-Request-Id
 * the daemon believes, and the client address a request is logged with. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "http/proxy.h"

/* One address as 16 bytes: IPv4 as ::ffff:a.b.c.d, so an IPv4-mapped peer
 * on a dual-stack socket and its IPv4 form are the same address. */
static bool parse_addr(const char *text, unsigned char out[16], bool *v4)
{
	struct in_addr a4;
	if (inet_pton(AF_INET, text, &a4) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &a4, 4);
		*v4 = true;
		return true;
	}
	*v4 = false;
	return inet_pton(AF_INET6, text, out) == 1;
}

static bool is_mapped_v4(const unsigned char a[16])
{
	static const unsigned char prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return memcmp(a, prefix, 12) == 0;
}

dbb_code dbb_proxies_parse(struct dbb_proxies *out, const char *list, struct dbb_error *err)
{
	memset(out, 0, sizeof(*out));
	char *copy = strdup(list ? list : "");
	if (!copy)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	dbb_code rc = DBB_OK;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (out->n == DBB_PROXIES_MAX) {
			rc = dbb_fail(err, DBB_ERR_CONFIG, "TRUSTED_PROXIES: more than %d entries",
			              DBB_PROXIES_MAX);
			break;
		}
		struct dbb_proxy_net *net = &out->v[out->n];
		char *slash = strchr(tok, '/');
		bool v4;
		if (slash)
			*slash = '\0';
		if (!parse_addr(tok, net->addr, &v4)) {
			rc = dbb_fail(err, DBB_ERR_CONFIG,
			              "TRUSTED_PROXIES: \"%.64s\" is not an IPv4 or IPv6 address",
			              tok);
			break;
		}
		unsigned max = v4 ? 32 : 128, prefix = max;
		if (slash) {
			char *end;
			unsigned long p = strtoul(slash + 1, &end, 10);
			if (!slash[1] || *end || p > max) {
				rc =
				    dbb_fail(err, DBB_ERR_CONFIG,
				             "TRUSTED_PROXIES: bad prefix length \"/%.16s\" for %s",
				             slash + 1, tok);
				break;
			}
			prefix = (unsigned)p;
		}
		net->prefix = v4 ? prefix + 96 : prefix;
		out->n++;
	}
	free(copy);
	if (rc)
		out->n = 0;
	return rc;
}

static bool net_contains(const struct dbb_proxy_net *net, const unsigned char a[16])
{
	unsigned full = net->prefix / 8, rest = net->prefix % 8;
	if (memcmp(net->addr, a, full) != 0)
		return false;
	if (!rest)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (net->addr[full] & mask) == (a[full] & mask);
}

static bool contains(const struct dbb_proxies *p, const unsigned char a[16])
{
	for (size_t i = 0; i < p->n; i++)
		if (net_contains(&p->v[i], a))
			return true;
	return false;
}

/* The peer as 16 bytes and as text; false for a family we do not know. */
static bool peer_of(const struct sockaddr *sa, unsigned char a[16], char *text, size_t cap)
{
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
		memset(a, 0, 10);
		a[10] = a[11] = 0xff;
		memcpy(a + 12, &s4->sin_addr, 4);
		return inet_ntop(AF_INET, &s4->sin_addr, text, (socklen_t)cap) != NULL;
	}
	if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(a, &s6->sin6_addr, 16);
		if (is_mapped_v4(a))
			return inet_ntop(AF_INET, a + 12, text, (socklen_t)cap) != NULL;
		return inet_ntop(AF_INET6, &s6->sin6_addr, text, (socklen_t)cap) != NULL;
	}
	return false;
}

bool dbb_proxies_client(const struct dbb_proxies *p, const struct sockaddr *peer,
                        const char *forwarded_for, char *client, size_t cap)
{
	unsigned char a[16];
	if (!peer_of(peer, a, client, cap)) {
		snprintf(client, cap, "-");
		return false;
	}
	if (!contains(p, a))
		return false;
	if (!forwarded_for)
		return true;
	/* right to left: each hop a trusted proxy added; the first address
	 * no trusted proxy owns is the client (anything left of it is what
	 * the client itself claimed) */
	char hops[1024];
	snprintf(hops, sizeof(hops), "%s", forwarded_for);
	for (;;) {
		char *comma = strrchr(hops, ',');
		char *hop = comma ? comma + 1 : hops;
		hop += strspn(hop, " \t");
		size_t len = strcspn(hop, " \t");
		hop[len] = '\0';
		bool v4;
		if (!*hop || len >= INET6_ADDRSTRLEN || !parse_addr(hop, a, &v4))
			return true; /* a hop that is no address: stop at the last good one */
		snprintf(client, cap, "%s", hop);
		if (!contains(p, a) || !comma)
			return true;
		*comma = '\0';
	}
}
