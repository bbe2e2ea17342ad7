/* Unit tests for offsite/s3*.c and offsite/xml.c without a store: the
 * configuration checks, the bounded XML extraction, URI decoding, the mapping
 * of S3's errors, and a refused connection. The client against a real store
 * is tested by tests/e2e/s3_*.sh (label s3). */
#include <fcntl.h>
#include <unistd.h>

#include <curl/curl.h>

#include "check.h"
#include "dbbackupd/s3.h"
#include "offsite/internal.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

static struct dbb_s3_config good_config(void)
{
	struct dbb_s3_config c = {
	    .endpoint = "http://127.0.0.1:1",
	    .region = "us-east-1",
	    .bucket = "dbbackupd-test",
	    .access_key_id = "AKIAIOSFODNN7EXAMPLE",
	    .secret_access_key = SECRET,
	};
	return c;
}

static dbb_code try_config(const struct dbb_s3_config *c, struct dbb_s3_error *e)
{
	struct dbb_s3 *s3 = NULL;
	dbb_code rc = dbb_s3_new(c, &s3, e);
	CHECK((rc == DBB_OK) == (s3 != NULL));
	CHECK(strstr(e->base.message, SECRET) == NULL);
	dbb_s3_free(s3);
	return rc;
}

static void config(void)
{
	struct dbb_s3_error e;
	struct dbb_s3_config c = good_config();
	CHECK(try_config(&c, &e) == DBB_OK);
	c.endpoint = "https://s3.eu-west-1.amazonaws.com/";
	CHECK(try_config(&c, &e) == DBB_OK);
	c.addressing = DBB_S3_ADDRESSING_VIRTUAL;
	CHECK(try_config(&c, &e) == DBB_OK);

	static const char *const bad_endpoints[] = {
	    "",
	    "s3.amazonaws.com",
	    "ftp://host",
	    "https://host/prefix",
	    "https://u:p@host",
	    "https://host/?x=1",
	    "https://host/#f",
	    "http://",
	};
	for (size_t i = 0; i < sizeof(bad_endpoints) / sizeof(bad_endpoints[0]); i++) {
		c = good_config();
		c.endpoint = bad_endpoints[i];
		CHECK(try_config(&c, &e) == DBB_ERR_INVALID_PARAMETER);
		CHECK(e.fault == DBB_S3_FAULT_CONFIG);
	}
	c = good_config();
	c.addressing = DBB_S3_ADDRESSING_VIRTUAL; /* an IP cannot carry the bucket's name */
	CHECK(try_config(&c, &e) == DBB_ERR_INVALID_PARAMETER);
	CHECK(strstr(e.base.message, "virtual") != NULL);
	c = good_config();
	c.bucket = "UpperCase";
	CHECK(try_config(&c, &e) == DBB_OK); /* path-style buckets may be legacy names */
	c.addressing = DBB_S3_ADDRESSING_VIRTUAL;
	c.endpoint = "https://s3.example";
	CHECK(try_config(&c, &e) == DBB_ERR_INVALID_PARAMETER);
	static const char *const bad_buckets[] = {"", "ab", "a/b", "-abc", "abc.", "a b c", NULL};
	for (size_t i = 0; i < sizeof(bad_buckets) / sizeof(bad_buckets[0]); i++) {
		c = good_config();
		c.bucket = bad_buckets[i];
		CHECK(try_config(&c, &e) == DBB_ERR_INVALID_PARAMETER);
	}
	c = good_config();
	c.region = "us east";
	CHECK(try_config(&c, &e) == DBB_ERR_INVALID_PARAMETER);
	c = good_config();
	c.secret_access_key = "";
	CHECK(try_config(&c, &e) == DBB_ERR_INVALID_PARAMETER);
	c = good_config();
	c.access_key_id = NULL;
	CHECK(try_config(&c, &e) == DBB_ERR_INVALID_PARAMETER);
	c = good_config();
	c.part_size = 4 * 1024 * 1024;
	CHECK(try_config(&c, &e) == DBB_ERR_INVALID_PARAMETER);
	c.part_size = DBB_S3_MIN_PART_SIZE;
	CHECK(try_config(&c, &e) == DBB_OK);
	c.storage_class = "STANDARD IA";
	CHECK(try_config(&c, &e) == DBB_ERR_INVALID_PARAMETER);
}

static void xml(void)
{
	const char *doc = "<?xml version=\"1.0\"?><ListBucketResult xmlns=\"x\"><Name>b</Name>"
	                  "<Prefix/><IsTruncated>true</IsTruncated>"
	                  "<Contents><Key>a&amp;b&lt;c&#62;&#x41;</Key><Size>12</Size></Contents>"
	                  "<Contents><Key>second</Key><Size>0</Size></Contents>"
	                  "<Broken>no end";
	const char *end = doc + strlen(doc), *c, *after;
	size_t n;
	char out[64];
	CHECK(dbb_xml_get(doc, end, "Name", out, sizeof(out)) && strcmp(out, "b") == 0);
	CHECK(dbb_xml_get(doc, end, "Prefix", out, sizeof(out)) && strcmp(out, "") == 0);
	CHECK(dbb_xml_get(doc, end, "IsTruncated", out, sizeof(out)) && strcmp(out, "true") == 0);
	CHECK(dbb_xml_find(doc, end, "Contents", &c, &n, &after));
	CHECK(dbb_xml_get(c, c + n, "Key", out, sizeof(out)) && strcmp(out, "a&b<c>A") == 0);
	CHECK(dbb_xml_find(after, end, "Contents", &c, &n, &after));
	CHECK(dbb_xml_get(c, c + n, "Key", out, sizeof(out)) && strcmp(out, "second") == 0);
	CHECK(!dbb_xml_find(after, end, "Contents", &c, &n, &after));
	CHECK(!dbb_xml_get(doc, end, "Broken", out, sizeof(out))); /* not closed */
	CHECK(!dbb_xml_get(doc, end, "Missing", out, sizeof(out)));
	CHECK(!dbb_xml_get(doc, end, "Nam", out, sizeof(out))); /* a prefix of a name */
	/* bounded: the search never reads past end */
	CHECK(!dbb_xml_get(doc, doc + 40, "Name", out, sizeof(out)) || strcmp(out, "b") == 0);
	CHECK(!dbb_xml_get(doc, doc + 30, "Name", out, sizeof(out)));
	/* too long for out, bad entities, markup inside */
	const char *d2 = "<A>0123456789</A><B>&bogus;</B><C>&#0;</C><D><x/></D><E>&#128;</E>";
	const char *e2 = d2 + strlen(d2);
	char small[8];
	CHECK(!dbb_xml_get(d2, e2, "A", small, sizeof(small)));
	CHECK(!dbb_xml_get(d2, e2, "B", out, sizeof(out)));
	CHECK(!dbb_xml_get(d2, e2, "C", out, sizeof(out)));
	CHECK(!dbb_xml_get(d2, e2, "D", out, sizeof(out)));
	CHECK(!dbb_xml_get(d2, e2, "E", out, sizeof(out)));
}

static void uri(void)
{
	char out[32];
	CHECK(dbb_uri_decode("a%2Fb+c%20d", 11, out, sizeof(out), true) &&
	      strcmp(out, "a/b c d") == 0);
	CHECK(dbb_uri_decode("a+b", 3, out, sizeof(out), false) && strcmp(out, "a+b") == 0);
	CHECK(!dbb_uri_decode("a%2", 3, out, sizeof(out), false));
	CHECK(!dbb_uri_decode("a%zz", 4, out, sizeof(out), false));
	CHECK(!dbb_uri_decode("a%00b", 5, out, sizeof(out), false));
	CHECK(!dbb_uri_decode("0123456789", 10, out, 5, false));
	struct dbb_dynbuf b;
	dbb_dynbuf_init(&b, 16);
	CHECK(dbb_uri_encode(&b, "a b/c~", 6, true) && strcmp(b.data, "a%20b/c~") == 0);
	dbb_dynbuf_reset(&b);
	CHECK(!dbb_uri_encode(&b, "\xff\xff\xff\xff\xff\xff", 6, false)); /* past its max */
	CHECK(b.failed);
	dbb_dynbuf_free(&b);
}

static void errors(void)
{
	struct s3_req rq;
	struct dbb_s3_error e;
	s3_req_init(&rq, NULL, "PutObject", "PUT", "dbbackupd/pg/backup.sql.gz");
	const struct {
		long status;
		const char *xml;
		enum dbb_s3_fault fault;
		dbb_code code;
		const char *in_message;
	} cases[] = {
	    {403,
	     "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we "
	     "calculated does not match</Message><RequestId>R1</RequestId></Error>",
	     DBB_S3_FAULT_AUTH, DBB_ERR_INTERNAL, "S3_SECRET_ACCESS_KEY"},
	    {403, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
	     DBB_S3_FAULT_AUTH, DBB_ERR_INTERNAL, "HTTP 403 AccessDenied: Access Denied"},
	    {403, "<Error><Code>RequestTimeTooSkewed</Code><Message>skewed</Message></Error>",
	     DBB_S3_FAULT_CLOCK, DBB_ERR_INTERNAL, "clock"},
	    {404, "<Error><Code>NoSuchBucket</Code><Message>x</Message></Error>",
	     DBB_S3_FAULT_CONFIG, DBB_ERR_INTERNAL, "S3_BUCKET"},
	    {404, "<Error><Code>NoSuchKey</Code></Error>", DBB_S3_FAULT_NOT_FOUND,
	     DBB_ERR_NOT_FOUND, "NoSuchKey"},
	    {404, NULL, DBB_S3_FAULT_NOT_FOUND, DBB_ERR_NOT_FOUND, "HTTP 404 NotFound"},
	    {403, NULL, DBB_S3_FAULT_AUTH, DBB_ERR_INTERNAL, "Forbidden"},
	    {503, "<Error><Code>SlowDown</Code></Error>", DBB_S3_FAULT_TRANSIENT, DBB_ERR_INTERNAL,
	     "SlowDown"},
	    {500, "garbage", DBB_S3_FAULT_TRANSIENT, DBB_ERR_INTERNAL, "HTTP 500"},
	    {400, "<Error><Code>BadDigest</Code></Error>", DBB_S3_FAULT_INTEGRITY,
	     DBB_ERR_INVALID_BACKUP, "BadDigest"},
	    {400, "<Error><Code>EntityTooSmall</Code></Error>", DBB_S3_FAULT_OTHER,
	     DBB_ERR_INTERNAL, "EntityTooSmall"},
	    {301, "<Error><Code>PermanentRedirect</Code></Error>", DBB_S3_FAULT_CONFIG,
	     DBB_ERR_INTERNAL, "S3_REGION"},
	    /* control bytes from the store never reach a message */
	    {400, "<Error><Code>Odd\x01</Code><Message>line1\nline2\x1b[31m</Message></Error>",
	     DBB_S3_FAULT_OTHER, DBB_ERR_INTERNAL, "line1?line2?[31m"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&e, 0, sizeof(e));
		const char *x = cases[i].xml;
		dbb_code rc =
		    s3_fail_answer(&e, &rq, cases[i].status, x, x ? strlen(x) : 0, "REQ-ID");
		CHECK(rc == cases[i].code);
		CHECK(e.base.code == cases[i].code);
		CHECK(e.fault == cases[i].fault);
		CHECK(e.http_status == cases[i].status);
		CHECK(strstr(e.base.message, cases[i].in_message) != NULL);
		CHECK(strstr(e.base.message, "PutObject dbbackupd/pg/backup.sql.gz") != NULL);
		CHECK(strchr(e.base.message, '\n') == NULL);
		if (!strstr(e.base.message, cases[i].in_message))
			fprintf(stderr, "  message: %s\n", e.base.message);
	}
	CHECK(dbb_s3_fault_retryable(DBB_S3_FAULT_TRANSIENT));
	CHECK(!dbb_s3_fault_retryable(DBB_S3_FAULT_AUTH));
	CHECK(!dbb_s3_fault_retryable(DBB_S3_FAULT_CLOCK));
	CHECK_STR(dbb_s3_fault_name(DBB_S3_FAULT_CLOCK), "clock");
}

static void misc(void)
{
	CHECK(s3_parse_iso8601("2026-11-25T21:00:00.000Z") == 1795640400);
	CHECK(s3_parse_iso8601("2026-11-25T21:00:00Z") == 1795640400);
	CHECK(s3_parse_iso8601("yesterday") == 0);
	CHECK(s3_key_valid("dbbackupd/pg/backup_postgresql_20241110_120000.sql.gz"));
	CHECK(!s3_key_valid(""));
	CHECK(!s3_key_valid("a\nb"));
	char longkey[DBB_S3_KEY_MAX + 2];
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	CHECK(!s3_key_valid(longkey));
}

/* Nothing listens on 127.0.0.1:1: a transient fault, quickly, no secret. */
static void refused(void)
{
	struct dbb_s3_config c = good_config();
	c.connect_timeout_s = 5;
	struct dbb_s3 *s3;
	struct dbb_s3_error e;
	CHECK(dbb_s3_new(&c, &s3, &e) == DBB_OK);
	if (!s3)
		return;
	struct dbb_s3_object o;
	CHECK(dbb_s3_head(s3, "k", &o, &e) == DBB_ERR_INTERNAL);
	CHECK(e.fault == DBB_S3_FAULT_TRANSIENT);
	CHECK(e.http_status == 0);
	CHECK(strstr(e.base.message, "HeadObject k: request to http://127.0.0.1:1 failed") != NULL);
	CHECK(strstr(e.base.message, SECRET) == NULL);

	char *dir = check_tmpdir();
	char path[4200];
	snprintf(path, sizeof(path), "%s/f", dir ? dir : "/tmp");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, "hello", 5) == 5);
	struct dbb_s3_put_result r;
	CHECK(dbb_s3_put_file(s3, "k", fd, NULL, &r, &e) == DBB_ERR_INTERNAL);
	CHECK(e.fault == DBB_S3_FAULT_TRANSIENT);
	/* a recorded SHA-256 the file does not have: refused before any request */
	CHECK(dbb_s3_put_file(s3, "k", fd,
	                      "0000000000000000000000000000000000000000000000000000000000000000",
	                      &r, &e) == DBB_ERR_INVALID_BACKUP);
	CHECK(e.fault == DBB_S3_FAULT_INTEGRITY);
	CHECK(dbb_s3_put_file(s3, "k", fd, "not-hex", &r, &e) == DBB_ERR_INVALID_PARAMETER);
	CHECK(dbb_s3_put_file(s3, "", fd, NULL, &r, &e) == DBB_ERR_INVALID_PARAMETER);
	close(fd);
	if (dir)
		check_rmdir(dir);

	/* cancelled before it starts */
	atomic_bool stop = true;
	c.cancel = &stop;
	dbb_s3_free(s3);
	CHECK(dbb_s3_new(&c, &s3, &e) == DBB_OK);
	CHECK(dbb_s3_delete(s3, "k", &e) == DBB_ERR_SHUTTING_DOWN);
	CHECK(e.fault == DBB_S3_FAULT_CANCELLED);
	dbb_s3_free(s3);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	config();
	xml();
	uri();
	errors();
	misc();
	refused();
	curl_global_cleanup();
	DONE();
}
