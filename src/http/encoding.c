/* Content negotiation for the one coding the daemon can send besides
 * identity: gzip (RFC 9110 §12.5.3). */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "http/internal.h"

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* A qvalue is zero unless some digit in it is not '0' ("0", "0.000"); a
 * malformed one counts as zero, which only ever means "not gzip". */
static bool qvalue_nonzero(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] >= '1' && p[i] <= '9')
			return true;
	return false;
}

bool dbb_accepts_gzip(const char *header)
{
	bool gzip = false, gzip_named = false, star = false;
	const char *p = header;

	if (!p)
		return false;
	while (*p) {
		p = skip_ws(p);
		if (*p == ',') {
			p++;
			continue;
		}
		const char *name = p;
		p += strcspn(p, ",; \t");
		size_t name_len = (size_t)(p - name);
		bool q_ok = true;

		p = skip_ws(p);
		while (*p == ';') {
			p = skip_ws(p + 1);
			size_t param_len = strcspn(p, ",;");
			if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=')
				q_ok = qvalue_nonzero(p + 2, param_len - 2);
			p += param_len;
		}
		if ((name_len == 4 && strncasecmp(name, "gzip", 4) == 0) ||
		    (name_len == 6 && strncasecmp(name, "x-gzip", 6) == 0)) {
			gzip_named = true;
			gzip = gzip || q_ok;
		} else if (name_len == 1 && name[0] == '*') {
			star = q_ok;
		}
		p += strcspn(p, ",");
	}
	return gzip || (!gzip_named && star);
}
