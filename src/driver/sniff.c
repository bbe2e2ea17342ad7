/* Format recognition from a backup's first bytes, through the drivers' recognise hooks. */
#include "dbbackupd/sniff.h"

#include <string.h>

#include "dbbackupd/driver.h"

const char *dbb_sniff_find_any(const unsigned char *buf, size_t len, const char *const *needles)
{
	for (; *needles; needles++)
		if (memmem(buf, len, *needles, strlen(*needles)))
			return *needles;
	return NULL;
}

struct dbb_format dbb_sniff(const unsigned char *buf, size_t len)
{
	size_t head = len < DBB_SNIFF_HEAD ? len : DBB_SNIFF_HEAD;
	const struct dbb_driver *drv;

	if (len == 0)
		return (struct dbb_format){.kind = DBB_FORMAT_EMPTY, .what = "an empty file"};
	if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b)
		return (struct dbb_format){.kind = DBB_FORMAT_GZIP,
		                           .what = "a gzip file inside a gzip file"};
	for (size_t i = 0; (drv = dbb_driver_at(i)); i++) {
		bool restorable = true;
		const char *what = drv->recognise ? drv->recognise(buf, head, &restorable) : NULL;

		if (what)
			return (struct dbb_format){.kind = DBB_FORMAT_DATABASE,
			                           .driver = drv,
			                           .restorable = restorable,
			                           .what = what};
	}
	if (memchr(buf, 0, head))
		return (struct dbb_format){.kind = DBB_FORMAT_BINARY,
		                           .what = "a binary file of unknown format"};
	return (struct dbb_format){.kind = DBB_FORMAT_UNKNOWN, .what = "a file of unknown format"};
}

bool dbb_format_is(const struct dbb_format *f, const struct dbb_driver *drv)
{
	return f->kind == DBB_FORMAT_DATABASE && f->driver == drv && f->restorable;
}
