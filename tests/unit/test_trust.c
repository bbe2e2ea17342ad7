/* Unit tests for trust.c: which files the daemon trusts (owners, modes, the
 * directories and links on the way) and which addresses count as loopback. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "dbbackupd/trust.h"

static char *dir;
static uid_t nobody = 65534; /* another user, for the tests that need root */

static void mkfile(const char *rel, mode_t mode)
{
	char p[4200];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0) {
		if (write(fd, "{}\n", 3) != 3)
			perror("write");
		close(fd);
	}
	chmod(p, mode);
}

static void mkd(const char *rel, mode_t mode)
{
	char p[4200];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	mkdir(p, 0700);
	chmod(p, mode);
}

static void own(const char *rel, uid_t uid)
{
	char p[4200];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	if (lchown(p, uid, (gid_t)-1) != 0)
		perror("lchown");
}

static void link_to(const char *target, const char *rel)
{
	char p[4200];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	if (symlink(target, p) != 0)
		perror("symlink");
}

/* dbb_trust_file on dir/rel: the code, and the message in err. */
static dbb_code trust(const char *rel, unsigned flags, struct dbb_error *err)
{
	char p[4200];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	memset(err, 0, sizeof(*err));
	return dbb_trust_file("TEST_FILE", p, flags, NULL, err);
}

static bool says(const struct dbb_error *err, const char *what)
{
	if (strstr(err->message, what) && strstr(err->message, "TEST_FILE ") &&
	    !strchr(err->message, '\n'))
		return true;
	fprintf(stderr, "  message: %s (wanted \"%s\")\n", err->message, what);
	return false;
}

static void test_modes(void)
{
	struct dbb_error err;
	struct stat st, got;
	char p[4200];

	mkd("safe", 0755);
	mkfile("safe/jwks.json", 0644);
	snprintf(p, sizeof(p), "%s/safe/jwks.json", dir);
	CHECK(dbb_trust_file("TEST_FILE", p, 0, &got, &err) == DBB_OK);
	CHECK(stat(p, &st) == 0 && st.st_ino == got.st_ino && st.st_dev == got.st_dev);

	mkfile("safe/world.json", 0666);
	CHECK(trust("safe/world.json", 0, &err) == DBB_ERR_CONFIG);
	CHECK(says(&err, "writable by its group and others"));
	CHECK(says(&err, "world.json"));
	mkfile("safe/other.json", 0646);
	CHECK(trust("safe/other.json", 0, &err) == DBB_ERR_CONFIG && says(&err, "by others"));
	mkfile("safe/group.json", 0664);
	CHECK(trust("safe/group.json", 0, &err) == DBB_ERR_CONFIG && says(&err, "by its group"));

	/* a writable directory on the way: anyone could replace the file */
	mkd("open", 0777);
	mkfile("open/jwks.json", 0644);
	CHECK(trust("open/jwks.json", 0, &err) == DBB_ERR_CONFIG);
	CHECK(says(&err, "/open is writable by its group and others"));
	mkd("gopen", 0775);
	mkfile("gopen/jwks.json", 0644);
	CHECK(trust("gopen/jwks.json", 0, &err) == DBB_ERR_CONFIG && says(&err, "/gopen is"));
	mkd("gopen/deeper", 0700);
	mkfile("gopen/deeper/jwks.json", 0600);
	CHECK(trust("gopen/deeper/jwks.json", 0, &err) == DBB_ERR_CONFIG &&
	      says(&err, "/gopen is"));

	/* private keys: others may not even read them; the group may */
	mkfile("safe/key.pem", 0640);
	CHECK(trust("safe/key.pem", DBB_TRUST_PRIVATE, &err) == DBB_OK);
	mkfile("safe/key-world.pem", 0604);
	CHECK(trust("safe/key-world.pem", DBB_TRUST_PRIVATE, &err) == DBB_ERR_CONFIG &&
	      says(&err, "private key and others can read it"));
	CHECK(trust("safe/key-world.pem", 0, &err) == DBB_OK); /* not a key: readable is fine */

	/* not a regular file, missing */
	CHECK(trust("safe", 0, &err) == DBB_ERR_CONFIG && says(&err, "not a regular file"));
	CHECK(trust("safe/missing.json", 0, &err) == DBB_ERR_CONFIG && says(&err, "No such file"));
	CHECK(trust("safe/jwks.json/x", 0, &err) == DBB_ERR_CONFIG);
}

static void test_links_and_relative(void)
{
	struct dbb_error err;
	char target[4200], cwd[4200];

	/* a link in a safe directory to a file in an open one */
	link_to("../open/jwks.json", "safe/to-open.json");
	CHECK(trust("safe/to-open.json", 0, &err) == DBB_ERR_CONFIG && says(&err, "/open is"));
	/* a link in an open directory to a safe file: the link can be replaced */
	link_to("../safe/jwks.json", "open/to-safe.json");
	CHECK(trust("open/to-safe.json", 0, &err) == DBB_ERR_CONFIG && says(&err, "/open is"));
	/* absolute and relative links between safe places are fine */
	snprintf(target, sizeof(target), "%s/safe/jwks.json", dir);
	mkd("safe2", 0700);
	link_to(target, "safe2/abs.json");
	CHECK(trust("safe2/abs.json", 0, &err) == DBB_OK);
	link_to("../safe", "safe2/dirlink");
	CHECK(trust("safe2/dirlink/jwks.json", 0, &err) == DBB_OK);
	/* a link to a directory through an open one */
	link_to("../open", "safe2/open-dir");
	CHECK(trust("safe2/open-dir/jwks.json", 0, &err) == DBB_ERR_CONFIG &&
	      says(&err, "/open is"));
	/* the writable file behind a link is named */
	link_to("world.json", "safe/to-world.json");
	CHECK(trust("safe/to-world.json", 0, &err) == DBB_ERR_CONFIG &&
	      says(&err, "safe/world.json is writable"));
	/* loops end */
	link_to("loop-b", "safe/loop-a");
	link_to("loop-a", "safe/loop-b");
	CHECK(trust("safe/loop-a", 0, &err) == DBB_ERR_CONFIG && says(&err, "symbolic links"));
	/* relative paths and .. */
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK(chdir(dir) == 0);
	CHECK(dbb_trust_file("TEST_FILE", "safe/jwks.json", 0, NULL, &err) == DBB_OK);
	CHECK(dbb_trust_file("TEST_FILE", "./safe2/../safe/jwks.json", 0, NULL, &err) == DBB_OK);
	CHECK(dbb_trust_file("TEST_FILE", "safe/../open/jwks.json", 0, NULL, &err) ==
	      DBB_ERR_CONFIG);
	CHECK(dbb_trust_file("TEST_FILE", "", 0, NULL, &err) == DBB_ERR_CONFIG);
	CHECK(chdir(cwd) == 0);
}

/* Owners (needs root to give files away; CI runs as root). */
static void test_owners(void)
{
	struct dbb_error err;

	if (geteuid() != 0) {
		printf("skip: owner checks need root\n");
		return;
	}
	mkfile("safe/theirs.json", 0644);
	own("safe/theirs.json", nobody);
	CHECK(trust("safe/theirs.json", 0, &err) == DBB_ERR_CONFIG &&
	      says(&err, "owned by another user") && says(&err, "uid 65534"));
	mkd("theirdir", 0755);
	mkfile("theirdir/jwks.json", 0644);
	own("theirdir", nobody);
	CHECK(trust("theirdir/jwks.json", 0, &err) == DBB_ERR_CONFIG && says(&err, "directory") &&
	      says(&err, "owned by another user"));

	/* sticky directories (like /tmp): ours or root's entries are safe in
	 * them, others' are not (they could rename or replace them) */
	mkd("sticky", 01777);
	mkfile("sticky/ours.json", 0644);
	CHECK(trust("sticky/ours.json", 0, &err) == DBB_OK);
	mkfile("sticky/theirs.json", 0644);
	own("sticky/theirs.json", nobody);
	CHECK(trust("sticky/theirs.json", 0, &err) == DBB_ERR_CONFIG && says(&err, "sticky"));
	link_to("ours.json", "sticky/their-link.json");
	own("sticky/their-link.json", nobody);
	CHECK(trust("sticky/their-link.json", 0, &err) == DBB_ERR_CONFIG && says(&err, "sticky"));
	mkd("sticky/ourdir", 0700);
	mkfile("sticky/ourdir/jwks.json", 0600);
	CHECK(trust("sticky/ourdir/jwks.json", 0, &err) == DBB_OK);
	/* a sticky directory that is not ours or root's is not trusted */
	mkd("theirsticky", 01777);
	mkfile("theirsticky/jwks.json", 0644);
	own("theirsticky", nobody);
	CHECK(trust("theirsticky/jwks.json", 0, &err) == DBB_ERR_CONFIG);
}

static void test_loopback(void)
{
	CHECK(dbb_trust_loopback_address("127.0.0.1"));
	CHECK(dbb_trust_loopback_address("127.8.9.10"));
	CHECK(dbb_trust_loopback_address("::1"));
	CHECK(dbb_trust_loopback_address("::ffff:127.0.0.1"));
	CHECK(!dbb_trust_loopback_address("0.0.0.0"));
	CHECK(!dbb_trust_loopback_address("::"));
	CHECK(!dbb_trust_loopback_address("10.0.0.1"));
	CHECK(!dbb_trust_loopback_address("128.0.0.1"));
	CHECK(!dbb_trust_loopback_address("::ffff:10.0.0.1"));
	CHECK(!dbb_trust_loopback_address("localhost"));

	CHECK(dbb_trust_loopback_url("http://localhost:8080"));
	CHECK(dbb_trust_loopback_url("http://LocalHost/realms"));
	CHECK(dbb_trust_loopback_url("http://127.0.0.1:41234/"));
	CHECK(dbb_trust_loopback_url("http://[::1]:8080"));
	CHECK(!dbb_trust_loopback_url("http://keycloak:8080"));
	CHECK(!dbb_trust_loopback_url("http://127.0.0.1.evil.example/"));
	CHECK(!dbb_trust_loopback_url("http://127.0.0.1@evil.example/"));
	CHECK(!dbb_trust_loopback_url("http://localhost.evil.example/"));
	CHECK(!dbb_trust_loopback_url("http://[::2]/"));
	CHECK(!dbb_trust_loopback_url("https://sso.example.com"));
	CHECK(!dbb_trust_loopback_url("not a url"));
}

static void test_transport_warnings(void)
{
	struct dbb_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.bind_address, sizeof(cfg.bind_address), "127.0.0.1");
	CHECK(dbb_trust_warn_transport(&cfg) == 0);
	snprintf(cfg.bind_address, sizeof(cfg.bind_address), "0.0.0.0");
	CHECK(dbb_trust_warn_transport(&cfg) == 1);
	cfg.bind_allow_http = true;
	CHECK(dbb_trust_warn_transport(&cfg) == 0);
	cfg.bind_allow_http = false;
	snprintf(cfg.tls_cert_file, sizeof(cfg.tls_cert_file), "c.pem");
	snprintf(cfg.tls_key_file, sizeof(cfg.tls_key_file), "k.pem");
	CHECK(dbb_trust_warn_transport(&cfg) == 0);

	snprintf(cfg.keycloak_url, sizeof(cfg.keycloak_url), "http://keycloak:8080");
	CHECK(dbb_trust_warn_transport(&cfg) == 1);
	snprintf(cfg.keycloak_url, sizeof(cfg.keycloak_url), "HTTP://sso.example.com/");
	CHECK(dbb_trust_warn_transport(&cfg) == 1);
	cfg.keycloak_allow_http = true;
	CHECK(dbb_trust_warn_transport(&cfg) == 0);
	cfg.keycloak_allow_http = false;
	snprintf(cfg.keycloak_url, sizeof(cfg.keycloak_url), "https://sso.example.com/");
	CHECK(dbb_trust_warn_transport(&cfg) == 0);
	snprintf(cfg.keycloak_url, sizeof(cfg.keycloak_url), "http://localhost:8080");
	CHECK(dbb_trust_warn_transport(&cfg) == 0);
	/* keys from a file: KEYCLOAK_URL only names the issuer, nothing is fetched */
	snprintf(cfg.keycloak_url, sizeof(cfg.keycloak_url), "http://keycloak:8080");
	snprintf(cfg.auth_jwks_file, sizeof(cfg.auth_jwks_file), "jwks.json");
	CHECK(dbb_trust_warn_transport(&cfg) == 0);
	cfg.tls_cert_file[0] = cfg.tls_key_file[0] = cfg.auth_jwks_file[0] = '\0';
	CHECK(dbb_trust_warn_transport(&cfg) == 2);
}

int main(void)
{
	umask(022);
	dir = check_tmpdir();
	if (!dir) {
		perror("tmpdir");
		return 1;
	}
	test_modes();
	test_links_and_relative();
	test_owners();
	test_loopback();
	test_transport_warnings();
	check_rmdir(dir);
	DONE();
}
