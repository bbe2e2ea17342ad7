/* The Range request header (RFC 9110 §14), one byte range at most. */
#include <ctype.h>
#include <string.h>

#include "http/internal.h"

static bool parse_u64(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	if (!isdigit((unsigned char)*s))
		return false;
	while (isdigit((unsigned char)*s)) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false; /* overflow */
		v = v * 10 + d;
		s++;
	}
	*p = s;
	*out = v;
	return true;
}

enum dbb_range_result dbb_range_parse(const char *header, uint64_t size, uint64_t *first,
                                      uint64_t *last)
{
	if (!header)
		return DBB_RANGE_NONE;
	const char *p = header;
	while (*p == ' ')
		p++;
	if (strncmp(p, "bytes=", 6) != 0)
		return DBB_RANGE_NONE;
	p += 6;
	while (*p == ' ')
		p++;
	if (strchr(p, ','))
		return DBB_RANGE_NONE; /* several ranges: we send the whole file */
	uint64_t a = 0, b = 0;
	if (*p == '-') {
		/* suffix: the last b bytes */
		p++;
		if (!parse_u64(&p, &b))
			return DBB_RANGE_NONE;
		while (*p == ' ')
			p++;
		if (*p)
			return DBB_RANGE_NONE;
		if (b == 0 || size == 0)
			return DBB_RANGE_UNSATISFIABLE;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return DBB_RANGE_OK;
	}
	if (!parse_u64(&p, &a) || *p != '-')
		return DBB_RANGE_NONE;
	p++;
	bool open_end = !isdigit((unsigned char)*p);
	if (!open_end && !parse_u64(&p, &b))
		return DBB_RANGE_NONE;
	while (*p == ' ')
		p++;
	if (*p)
		return DBB_RANGE_NONE;
	if (!open_end && b < a)
		return DBB_RANGE_NONE; /* invalid: ignored as RFC 9110 says */
	if (a >= size)
		return DBB_RANGE_UNSATISFIABLE;
	*first = a;
	*last = (open_end || b >= size) ? size - 1 : b;
	return DBB_RANGE_OK;
}
