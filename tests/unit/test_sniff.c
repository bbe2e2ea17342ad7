/* Unit tests for driver/sniff.c: formats recognised through the registered
 * drivers' recognise hooks, and what is nobody's. */
#include "check.h"
#include "dbbackupd/driver.h"
#include "dbbackupd/sniff.h"

static struct dbb_format sniff_str(const char *s)
{
	return dbb_sniff((const unsigned char *)s, strlen(s));
}

/* True if the text is recognised as the named driver's (restorable) file;
 * trivially true when that driver is not built. */
static int is_drivers(const char *text, const char *name)
{
	const struct dbb_driver *drv = dbb_driver_find(name);
	struct dbb_format f = sniff_str(text);

	return !drv || dbb_format_is(&f, drv);
}

int main(void)
{
	static const unsigned char gz[] = {0x1f, 0x8b, 8, 0};
	static const unsigned char bin[] = {'a', 0, 'b'};
	struct dbb_format f;
	const struct dbb_driver *drv;

	f = dbb_sniff(NULL, 0);
	CHECK(f.kind == DBB_FORMAT_EMPTY && f.driver == NULL);
	f = dbb_sniff(gz, sizeof(gz));
	CHECK(f.kind == DBB_FORMAT_GZIP);
	CHECK(strstr(f.what, "gzip") != NULL);
	f = dbb_sniff(bin, sizeof(bin));
	CHECK(f.kind == DBB_FORMAT_BINARY);
	f = sniff_str("hello, world\n");
	CHECK(f.kind == DBB_FORMAT_UNKNOWN && f.driver == NULL);

	f = dbb_sniff((const unsigned char *)"SQLite format 3\0\x10\0", 19);
	CHECK(!dbb_driver_find("sqlite") || dbb_format_is(&f, dbb_driver_find("sqlite")));
	CHECK(is_drivers("--\n-- PostgreSQL database dump\n--\n", "postgresql"));
	CHECK(is_drivers("-- MariaDB dump 10.19\n", "mysql"));
	CHECK(is_drivers("CREATE TABLE `t` (id int) ENGINE=InnoDB;\n", "mysql"));
	CHECK(is_drivers("// dbbackupd neo4j backup v1\n", "neo4j"));
	CHECK(is_drivers("CREATE (n:Person {name: 'a'});\n", "neo4j"));

	/* a form the driver recognises but does not restore */
	drv = dbb_driver_find("postgresql");
	if (drv) {
		f = sniff_str("PGDMP\x01\x0e");
		CHECK(f.kind == DBB_FORMAT_DATABASE && f.driver == drv && !f.restorable);
		CHECK(!dbb_format_is(&f, drv));
		CHECK(strstr(f.what, "custom-format") != NULL);
	}
	/* every driver is asked, in the registry's order; none claims the others' files */
	for (size_t i = 0; (drv = dbb_driver_at(i)); i++) {
		bool restorable;

		CHECK(drv->recognise != NULL);
		if (drv->recognise)
			CHECK(drv->recognise((const unsigned char *)"hello\n", 6, &restorable) ==
			      NULL);
	}
	CHECK(dbb_driver_at(100) == NULL);
	DONE();
}
