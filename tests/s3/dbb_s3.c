/* dbb-s3: a small command-line driver around the offsite S3 client and the
 * SigV4 signer, for the tests and the benchmark (not installed).
 *
 *   dbb-s3 put FILE KEY [SHA256]   dbb-s3 get KEY FILE     dbb-s3 head KEY
 *   dbb-s3 delete KEY              dbb-s3 list [PREFIX [MAX]]
 *   dbb-s3 uploads [PREFIX]        dbb-s3 abort-incomplete KEY
 *   dbb-s3 check-bucket            dbb-s3 sigv4   (requests on stdin, see below)
 *
 * The store comes from the environment: S3_ENDPOINT, S3_REGION, S3_BUCKET,
 * S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY (never an argument), and optionally
 * S3_ADDRESSING (path|virtual), S3_CHECKSUM (sha256|md5), S3_PART_SIZE,
 * S3_STORAGE_CLASS, S3_UPLOAD_THREADS, S3_MAX_SEND_SPEED, S3_CONNECT_TIMEOUT, S3_REQUEST_TIMEOUT,
 * S3_STALL_TIMEOUT. Results go to stdout as key=value lines; a failure prints
 * "error fault=... http=... code=... dbb=..." on stdout, the message on
 * stderr, and exits 1.
 *
 * sigv4 reads blocks of lines ("method M", "path HEX", "query HEX HEX",
 * "header HEX HEX", "payload HASH", "date AMZDATE", "region R", "service S",
 * "key ACCESSKEY HEXSECRET", then "end"); HEX is the hex of raw bytes. For
 * each block it prints "creq HEX", "sts HEX" and "authz VALUE" lines (or
 * "error MESSAGE"). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "dbbackupd/s3.h"
#include "dbbackupd/sigv4.h"

static const char *env(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v && *v ? v : fallback;
}

static long env_long(const char *name)
{
	const char *v = getenv(name);
	return v ? strtol(v, NULL, 10) : 0;
}

static int fail(const struct dbb_s3_error *e)
{
	printf("error fault=%s http=%ld code=%s dbb=%s\n", dbb_s3_fault_name(e->fault),
	       e->http_status, e->s3_code[0] ? e->s3_code : "-", dbb_code_name(e->base.code));
	fprintf(stderr, "dbb-s3: %s\n", e->base.message);
	return 1;
}

static int print_object(const struct dbb_s3_object *o, void *ud)
{
	printf("%s %llu %s\n", o->key, (unsigned long long)o->size, o->etag);
	return 0;
}

static int print_upload(const struct dbb_s3_upload *u, void *ud)
{
	printf("%s %s\n", u->key, u->upload_id);
	return 0;
}

/* ---- sigv4 over stdin ---- */

static char *unhex(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(n / 2 + 1);
	if (!out || n % 2)
		goto bad;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			goto bad;
		out[i] = (char)v;
	}
	out[n / 2] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

static void print_hex(const char *label, const char *s)
{
	printf("%s ", label);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		printf("%02x", *p);
	printf("\n");
}

#define MAX_ITEMS 64

struct sig_block {
	char *method, *path, *payload, *date, *region, *service, *ak, *sk;
	struct dbb_sigv4_param q[MAX_ITEMS];
	struct dbb_sigv4_header h[MAX_ITEMS];
	size_t nq, nh;
};

static void block_free(struct sig_block *b)
{
	free(b->method);
	free(b->path);
	free(b->payload);
	free(b->date);
	free(b->region);
	free(b->service);
	free(b->ak);
	free(b->sk);
	for (size_t i = 0; i < b->nq; i++) {
		free((char *)b->q[i].name);
		free((char *)b->q[i].value);
	}
	for (size_t i = 0; i < b->nh; i++) {
		free((char *)b->h[i].name);
		free((char *)b->h[i].value);
	}
	memset(b, 0, sizeof(*b));
}

static void block_sign(struct sig_block *b)
{
	struct dbb_sigv4_request req = {.method = b->method,
	                                .path = b->path,
	                                .query = b->q,
	                                .query_count = b->nq,
	                                .headers = b->h,
	                                .header_count = b->nh,
	                                .payload_hash = b->payload,
	                                .amz_date = b->date,
	                                .region = b->region,
	                                .service = b->service};
	struct dbb_sigv4_key key = {b->ak, b->sk};
	struct dbb_sigv4_result r;
	struct dbb_error err = {0};
	if (dbb_sigv4_sign(&req, &key, &r, &err) != DBB_OK) {
		printf("error %s\n", err.message);
	} else {
		print_hex("creq", r.canonical_request);
		print_hex("sts", r.string_to_sign);
		printf("authz %s\n", r.authorization);
		dbb_sigv4_result_free(&r);
	}
	printf("done\n");
	fflush(stdout);
}

static int sigv4_stdin(void)
{
	char line[65536];
	struct sig_block b = {0};
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		char *sp = strchr(line, ' ');
		char *arg = sp ? sp + 1 : line + strlen(line);
		if (sp)
			*sp = '\0';
		if (strcmp(line, "end") == 0) {
			block_sign(&b);
			block_free(&b);
		} else if (strcmp(line, "method") == 0) {
			b.method = strdup(arg);
		} else if (strcmp(line, "path") == 0) {
			b.path = unhex(arg);
		} else if (strcmp(line, "payload") == 0) {
			b.payload = strdup(arg);
		} else if (strcmp(line, "date") == 0) {
			b.date = strdup(arg);
		} else if (strcmp(line, "region") == 0) {
			b.region = strdup(arg);
		} else if (strcmp(line, "service") == 0) {
			b.service = strdup(arg);
		} else if (strcmp(line, "key") == 0 && strchr(arg, ' ')) {
			char *s2 = strchr(arg, ' ');
			*s2 = '\0';
			b.ak = strdup(arg);
			b.sk = unhex(s2 + 1);
		} else if ((strcmp(line, "query") == 0 || strcmp(line, "header") == 0) &&
		           strchr(arg, ' ')) {
			char *s2 = strchr(arg, ' ');
			*s2 = '\0';
			if (line[0] == 'q' && b.nq < MAX_ITEMS)
				b.q[b.nq++] = (struct dbb_sigv4_param){unhex(arg), unhex(s2 + 1)};
			else if (line[0] == 'h' && b.nh < MAX_ITEMS)
				b.h[b.nh++] = (struct dbb_sigv4_header){unhex(arg), unhex(s2 + 1)};
		} else {
			fprintf(stderr, "dbb-s3 sigv4: bad line %s\n", line);
			block_free(&b);
			return 2;
		}
	}
	block_free(&b);
	return 0;
}

/* ---- the S3 commands ---- */

static int usage(void)
{
	fprintf(stderr, "usage: dbb-s3 put FILE KEY [SHA256] | get KEY FILE | head KEY | "
	                "delete KEY | list [PREFIX [MAX]] | uploads [PREFIX] | "
	                "abort-incomplete KEY | check-bucket | sigv4\n");
	return 2;
}

static int run(struct dbb_s3 *s3, int argc, char **argv)
{
	struct dbb_s3_error e;
	const char *cmd = argv[1];
	if (strcmp(cmd, "put") == 0 && (argc == 4 || argc == 5)) {
		int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			perror(argv[2]);
			return 1;
		}
		struct dbb_s3_put_result r;
		dbb_code rc = dbb_s3_put_file(s3, argv[3], fd, argc == 5 ? argv[4] : NULL, &r, &e);
		close(fd);
		if (rc) {
			if (r.leftover_upload_id[0])
				printf("leftover_upload_id=%s\n", r.leftover_upload_id);
			return fail(&e);
		}
		printf("etag=%s\nsha256=%s\nsize=%llu\nparts=%u\n", r.etag, r.sha256,
		       (unsigned long long)r.size, r.parts);
		return 0;
	}
	if (strcmp(cmd, "get") == 0 && argc == 4) {
		int fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0) {
			perror(argv[3]);
			return 1;
		}
		struct dbb_s3_get_result r;
		dbb_code rc = dbb_s3_get_file(s3, argv[2], fd, &r, &e);
		if (close(fd) != 0 && !rc) {
			perror(argv[3]);
			return 1;
		}
		if (rc)
			return fail(&e);
		printf("sha256=%s\nsize=%llu\nverified=%d\netag=%s\n", r.sha256,
		       (unsigned long long)r.obj.size, r.verified ? 1 : 0, r.obj.etag);
		return 0;
	}
	if (strcmp(cmd, "head") == 0 && argc == 3) {
		struct dbb_s3_object o;
		if (dbb_s3_head(s3, argv[2], &o, &e))
			return fail(&e);
		printf("size=%llu\netag=%s\nsha256=%s\nlast_modified=%lld\n",
		       (unsigned long long)o.size, o.etag, o.sha256, (long long)o.last_modified);
		return 0;
	}
	if (strcmp(cmd, "delete") == 0 && argc == 3)
		return dbb_s3_delete(s3, argv[2], &e) ? fail(&e) : 0;
	if (strcmp(cmd, "list") == 0 && argc <= 4) {
		bool truncated;
		size_t max = argc == 4 ? (size_t)strtoul(argv[3], NULL, 10) : 0;
		if (dbb_s3_list(s3, argc >= 3 ? argv[2] : "", max, print_object, NULL, &truncated,
		                &e))
			return fail(&e);
		printf("truncated=%d\n", truncated ? 1 : 0);
		return 0;
	}
	if (strcmp(cmd, "uploads") == 0 && argc <= 3) {
		bool truncated;
		if (dbb_s3_list_uploads(s3, argc == 3 ? argv[2] : "", 0, print_upload, NULL,
		                        &truncated, &e))
			return fail(&e);
		printf("truncated=%d\n", truncated ? 1 : 0);
		return 0;
	}
	if (strcmp(cmd, "abort-incomplete") == 0 && argc == 3) {
		unsigned n;
		if (dbb_s3_abort_incomplete(s3, argv[2], NULL, &n, &e))
			return fail(&e);
		printf("aborted=%u\n", n);
		return 0;
	}
	if (strcmp(cmd, "check-bucket") == 0 && argc == 2) {
		if (dbb_s3_check_bucket(s3, &e))
			return fail(&e);
		printf("ok\n");
		return 0;
	}
	return usage();
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "sigv4") == 0)
		return sigv4_stdin();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	const char *addressing = env("S3_ADDRESSING", "path");
	const char *checksum = env("S3_CHECKSUM", "sha256");
	struct dbb_s3_config cfg = {
	    .endpoint = getenv("S3_ENDPOINT"),
	    .region = env("S3_REGION", "us-east-1"),
	    .bucket = getenv("S3_BUCKET"),
	    .access_key_id = getenv("S3_ACCESS_KEY_ID"),
	    .secret_access_key = getenv("S3_SECRET_ACCESS_KEY"),
	    .addressing = strcmp(addressing, "virtual") == 0 ? DBB_S3_ADDRESSING_VIRTUAL
	                                                     : DBB_S3_ADDRESSING_PATH,
	    .checksum = strcmp(checksum, "md5") == 0 ? DBB_S3_CHECKSUM_MD5 : DBB_S3_CHECKSUM_SHA256,
	    .storage_class = getenv("S3_STORAGE_CLASS"),
	    .part_size = (uint64_t)env_long("S3_PART_SIZE"),
	    .upload_threads = (unsigned)env_long("S3_UPLOAD_THREADS"),
	    .connect_timeout_s = env_long("S3_CONNECT_TIMEOUT"),
	    .request_timeout_s = env_long("S3_REQUEST_TIMEOUT"),
	    .stall_timeout_s = env_long("S3_STALL_TIMEOUT"),
	    .max_send_speed = (uint64_t)env_long("S3_MAX_SEND_SPEED"),
	};
	struct dbb_s3 *s3;
	struct dbb_s3_error e;
	int status;
	if (dbb_s3_new(&cfg, &s3, &e) != DBB_OK) {
		status = fail(&e);
	} else {
		status = run(s3, argc, argv);
		dbb_s3_free(s3);
	}
	curl_global_cleanup();
	return status;
}
