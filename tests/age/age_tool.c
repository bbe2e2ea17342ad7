/* Test driver for the age layers (src/age/), stdin to stdout:
 *   age_tool encrypt [-r age1...]... [-R recipients-file]... [-p passfile [-w log2n]]
 *   age_tool decrypt [-i identity-file]... [-p passfile] [--binary|--armored|--plain]
 *   age_tool keygen -o identity-file      (prints the recipient)
 *   age_tool recipient -i identity-file   (prints the recipients, like age-keygen -y)
 *   age_tool vector FILE                  (one CCTV test vector; see cctv.sh)
 * decrypt prints the failure kind on stderr ("age_tool: header failure: ...")
 * and exits 1 on any failure. Used by the scripts in tests/age/ and the benchmark. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "dbbackupd/age.h"
#include "dbbackupd/stream.h"

#include "../mem_source.h"

#define IO_BUF (256 * 1024)

static int usage(void)
{
	fprintf(stderr, "usage: age_tool encrypt|decrypt|keygen|recipient|vector ... (see the "
	                "source)\n");
	return 2;
}

static int encrypt_main(int argc, char **argv)
{
	struct dbb_age_recipients rs = {0};
	struct dbb_age_identities pass = {0};
	struct dbb_error err = {0};
	struct dbb_fd_sink out;
	struct dbb_fd_source in;
	struct dbb_sink *age = NULL;
	unsigned log2n = 0;
	int status = 1;
	dbb_code rc = DBB_OK;

	for (int i = 0; i < argc && !rc; i++) {
		if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
			rc = dbb_age_recipients_parse_list(&rs, argv[++i], &err);
		else if (strcmp(argv[i], "-R") == 0 && i + 1 < argc)
			rc = dbb_age_recipients_load_file(&rs, argv[++i], &err);
		else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc)
			rc = dbb_age_identities_load_passphrase_file(&pass, argv[++i], 0, &err);
		else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc)
			log2n = (unsigned)strtoul(argv[++i], NULL, 10);
		else
			return usage();
	}
	if (rc)
		goto out;
	dbb_fd_sink_init(&out, STDOUT_FILENO);
	dbb_fd_source_init(&in, STDIN_FILENO);
	if (pass.passphrase)
		rc = dbb_age_sink_new_passphrase(&out.base, pass.passphrase, pass.passphrase_len,
		                                 log2n, &age, &err);
	else
		rc = dbb_age_sink_new(&out.base, &rs, &age, &err);
	if (rc)
		goto out;
	rc = dbb_stream_copy(&in.base, age, NULL, &err);
	if (!rc)
		rc = dbb_sink_finish(age, &err);
	dbb_sink_free(age);
	if (!rc)
		status = 0;
out:
	if (rc)
		fprintf(stderr, "age_tool: %s\n", err.message);
	dbb_age_recipients_free(&rs);
	dbb_age_identities_free(&pass);
	return status;
}

static int decrypt_main(int argc, char **argv)
{
	struct dbb_age_identities ids = {0};
	struct dbb_error err = {0};
	struct dbb_fd_sink out;
	struct dbb_fd_source in;
	struct dbb_source *age = NULL;
	enum dbb_age_failure failure = DBB_AGE_FAIL_NONE;
	enum dbb_age_input input = DBB_AGE_INPUT_DETECT;
	dbb_code rc = DBB_OK;
	int status = 1;

	for (int i = 0; i < argc && !rc; i++) {
		if (strcmp(argv[i], "-i") == 0 && i + 1 < argc)
			rc = dbb_age_identities_load_file(&ids, argv[++i], 0, &err);
		else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc)
			rc = dbb_age_identities_load_passphrase_file(&ids, argv[++i], 0, &err);
		else if (strcmp(argv[i], "--binary") == 0)
			input = DBB_AGE_INPUT_BINARY;
		else if (strcmp(argv[i], "--armored") == 0)
			input = DBB_AGE_INPUT_ARMORED;
		else if (strcmp(argv[i], "--plain") == 0)
			input = DBB_AGE_INPUT_DETECT_PLAIN;
		else
			return usage();
	}
	if (rc) {
		fprintf(stderr, "age_tool: %s\n", err.message);
		goto out;
	}
	ids.scrypt_max_log2n = DBB_AGE_SCRYPT_MAX_LIMIT;
	dbb_fd_sink_init(&out, STDOUT_FILENO);
	dbb_fd_source_init(&in, STDIN_FILENO);
	rc = dbb_age_source_new(&in.base, &ids, input, &age, &failure, &err);
	if (!rc) {
		struct dbb_age_source_info info;
		rc = dbb_stream_copy(age, &out.base, NULL, &err);
		dbb_age_source_info(age, &info);
		failure = info.failure;
	}
	if (rc)
		fprintf(stderr, "age_tool: %s: %s\n", dbb_age_failure_name(failure), err.message);
	else
		status = 0;
	dbb_source_free(age);
out:
	dbb_age_identities_free(&ids);
	return status;
}

static int keygen_main(int argc, char **argv)
{
	char rcpt[DBB_AGE_RECIPIENT_LEN + 1];
	struct dbb_error err = {0};

	if (argc != 2 || strcmp(argv[0], "-o") != 0)
		return usage();
	if (dbb_age_keygen_file(argv[1], rcpt, &err)) {
		fprintf(stderr, "age_tool: %s\n", err.message);
		return 1;
	}
	printf("%s\n", rcpt);
	return 0;
}

static int recipient_main(int argc, char **argv)
{
	struct dbb_age_identities ids = {0};
	struct dbb_error err = {0};

	if (argc != 2 || strcmp(argv[0], "-i") != 0)
		return usage();
	if (dbb_age_identities_load_file(&ids, argv[1], 0, &err)) {
		fprintf(stderr, "age_tool: %s\n", err.message);
		return 1;
	}
	for (size_t i = 0; i < ids.n; i++) {
		struct dbb_age_recipient r;
		char s[DBB_AGE_RECIPIENT_LEN + 1];
		dbb_age_identity_recipient(&ids.v[i], &r);
		dbb_age_recipient_format(&r, s);
		printf("%s\n", s);
	}
	dbb_age_identities_free(&ids);
	return 0;
}

/* ---- one CCTV vector: prints "PASS name", "FAIL name: why" or
 * "SKIP name: why" and exits 0, 1 or 77 ---- */

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			unsigned char *b = realloc(buf, cap);
			if (!b) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = b;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	*len = n;
	return buf;
}

static unsigned char *inflate_all(const unsigned char *in, size_t len, size_t *out_len)
{
	z_stream z = {0};
	size_t cap = len * 4 + 65536, n = 0;
	unsigned char *out = malloc(cap);
	int zr = Z_OK;

	if (!out || inflateInit(&z) != Z_OK) {
		free(out);
		return NULL;
	}
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)len;
	while (zr != Z_STREAM_END) {
		if (n == cap) {
			cap *= 2;
			unsigned char *b = realloc(out, cap);
			if (!b)
				break;
			out = b;
		}
		z.next_out = out + n;
		z.avail_out = (uInt)(cap - n);
		zr = inflate(&z, Z_NO_FLUSH);
		n = cap - z.avail_out;
		if (zr != Z_OK && zr != Z_STREAM_END)
			break;
	}
	inflateEnd(&z);
	if (zr != Z_STREAM_END) {
		free(out);
		return NULL;
	}
	*out_len = n;
	return out;
}

static int vector_main(int argc, char **argv)
{
	struct dbb_age_identities ids = {0};
	struct dbb_error err = {0};
	const char *path, *name;
	unsigned char *file, *body, *plain = NULL, want[32], got_hash[32];
	size_t len = 0, pos = 0, blen;
	char expect[64] = "", why[1400] = "";
	bool armored = false, compressed = false, has_hash = false;
	int status = 1;

	if (argc != 1)
		return usage();
	path = argv[0];
	name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	file = read_file(path, &len);
	if (!file) {
		printf("FAIL %s: cannot read\n", name);
		return 1;
	}
	/* the textual header: "key: value" lines up to an empty line */
	for (;;) {
		unsigned char *nl = memchr(file + pos, '\n', len - pos);
		if (!nl) {
			printf("FAIL %s: no empty line after the vector's header\n", name);
			goto out;
		}
		size_t l = (size_t)(nl - (file + pos));
		char line[512];
		if (l == 0) {
			pos++;
			break;
		}
		snprintf(line, sizeof(line), "%.*s", (int)l, (const char *)file + pos);
		pos += l + 1;
		char *v = strstr(line, ": ");
		if (!v)
			continue;
		*v = '\0';
		v += 2;
		if (strcmp(line, "expect") == 0) {
			snprintf(expect, sizeof(expect), "%s", v);
		} else if (strcmp(line, "payload") == 0) {
			for (int i = 0; i < 32; i++)
				if (sscanf(v + 2 * i, "%2hhx", &want[i]) != 1)
					break;
			has_hash = true;
		} else if (strcmp(line, "identity") == 0) {
			if (strncmp(v, "AGE-SECRET-KEY-PQ-", 18) == 0) {
				printf("SKIP %s: post-quantum (ML-KEM hybrid) identity, not "
				       "supported\n",
				       name);
				status = 77;
				goto out;
			}
			if (dbb_age_identities_parse_file_text(&ids, v, strlen(v), &err)) {
				printf("FAIL %s: identity: %s\n", name, err.message);
				goto out;
			}
		} else if (strcmp(line, "passphrase") == 0) {
			/* several passphrases: the last one is tried */
			dbb_age_identities_set_passphrase(&ids, v, strlen(v), &err);
		} else if (strcmp(line, "armored") == 0) {
			armored = strcmp(v, "yes") == 0;
		} else if (strcmp(line, "compressed") == 0) {
			compressed = true;
		}
	}
	body = file + pos;
	blen = len - pos;
	if (compressed) {
		plain = inflate_all(body, blen, &blen);
		if (!plain) {
			printf("FAIL %s: cannot inflate\n", name);
			goto out;
		}
		body = plain;
	}
	/* every read size: 1, odd, and large */
	size_t steps[] = {0, 1, 4093};
	const char *outcome_first = NULL;
	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		struct mem_source m = mem_source(body, blen, steps[k]);
		struct dbb_source *age = NULL;
		struct dbb_age_source_info info = {0};
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		unsigned char buf[70000];
		size_t got = 0;
		dbb_code rc;
		const char *outcome;

		EVP_DigestInit_ex(md, EVP_sha256(), NULL);
		rc = dbb_age_source_new(&m.base, &ids,
		                        armored ? DBB_AGE_INPUT_ARMORED : DBB_AGE_INPUT_BINARY,
		                        &age, &info.failure, &err);
		while (!rc) {
			rc = dbb_source_read(age, buf, sizeof(buf), &got, &err);
			if (rc || got == 0)
				break;
			EVP_DigestUpdate(md, buf, got);
		}
		EVP_DigestFinal_ex(md, got_hash, NULL);
		EVP_MD_CTX_free(md);
		if (age)
			dbb_age_source_info(age, &info);
		outcome = rc ? dbb_age_failure_name(info.failure) : "success";
		if (rc && err.message[0] == '\0') {
			snprintf(why, sizeof(why), "an error without a message");
			outcome = "?";
		}
		dbb_source_free(age);
		if (!outcome_first)
			outcome_first = outcome;
		if (strcmp(outcome, expect) != 0) {
			snprintf(why, sizeof(why), "expected %s, got %s (%s) with reads of %zu",
			         expect, outcome, rc ? err.message : "", steps[k]);
			goto report;
		}
		/* the plaintext given out, even before a payload failure */
		if (has_hash && memcmp(want, got_hash, 32) != 0) {
			snprintf(why, sizeof(why),
			         "%s as expected, but the plaintext given out "
			         "differs (reads of %zu)",
			         outcome, steps[k]);
			goto report;
		}
	}
	status = 0;
report:
	if (status == 0)
		printf("PASS %s (%s)\n", name, expect);
	else
		printf("FAIL %s: %s\n", name, why);
out:
	dbb_age_identities_free(&ids);
	free(plain);
	free(file);
	return status;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "encrypt") == 0)
		return encrypt_main(argc - 2, argv + 2);
	if (strcmp(argv[1], "decrypt") == 0)
		return decrypt_main(argc - 2, argv + 2);
	if (strcmp(argv[1], "keygen") == 0)
		return keygen_main(argc - 2, argv + 2);
	if (strcmp(argv[1], "recipient") == 0)
		return recipient_main(argc - 2, argv + 2);
	if (strcmp(argv[1], "vector") == 0)
		return vector_main(argc - 2, argv + 2);
	return usage();
}
