/* Backup/restore orchestration shared by every driver. */
#include "dbbackupd/ops.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "dbbackupd/log.h"
#include "dbbackupd/stream.h"
#include "dbbackupd/progress.h"
#include "ops/internal.h"

static dbb_code safety_spec_load(struct dbb_ops *ops, struct dbb_error *err);
static dbb_code age_load(struct dbb_ops *ops, struct dbb_error *err);
static void age_free(struct dbb_ops *ops);

/* "key=value" lines; unknown keys are ignored. */
static void journal_parse(const char *text, struct dbb_interrupted_restore *j)
{
	memset(j, 0, sizeof(*j));
	const char *p = text;
	while (*p) {
		size_t len = strcspn(p, "\n");
		const char *eq = memchr(p, '=', len);
		if (eq) {
			size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
			char *dst = NULL;
			size_t cap = 0;
			if (klen == 6 && strncmp(p, "source", 6) == 0) {
				dst = j->source;
				cap = sizeof(j->source);
			} else if (klen == 13 && strncmp(p, "safety_backup", 13) == 0) {
				dst = j->safety_backup;
				cap = sizeof(j->safety_backup);
			} else if (klen == 10 && strncmp(p, "started_at", 10) == 0) {
				dst = j->started_at;
				cap = sizeof(j->started_at);
			}
			if (dst)
				snprintf(dst, cap, "%.*s", (int)vlen, eq + 1);
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	/* a name from the journal is only ever shown, but keep it a valid one */
	if (j->safety_backup[0] && !dbb_name_is_valid(j->safety_backup))
		j->safety_backup[0] = '\0';
}

static void journal_load(struct dbb_ops *ops)
{
	char text[1024];
	struct dbb_error err = {0};
	dbb_code rc =
	    dbb_storage_state_read(ops->st, DBB_RESTORE_JOURNAL, text, sizeof(text), &err);
	if (rc == DBB_ERR_NOT_FOUND)
		return;
	ops->interrupted = true;
	if (rc) {
		memset(&ops->intr, 0, sizeof(ops->intr));
		dbb_error("restore journal %s unreadable (%s): a restore was interrupted",
		          DBB_RESTORE_JOURNAL, err.message);
		return;
	}
	journal_parse(text, &ops->intr);
	if (ops->intr.safety_backup[0])
		dbb_error("a restore from %s started at %s was INTERRUPTED: the %s database may be "
		          "partial; restore the safety backup %s (POST /backup/restore/%s)",
		          ops->intr.source, ops->intr.started_at, ops->drv->name,
		          ops->intr.safety_backup, ops->intr.safety_backup);
	else
		dbb_error(
		    "a restore from %s started at %s was INTERRUPTED and no safety backup was "
		    "made: the %s database may be partial; restore a backup",
		    ops->intr.source, ops->intr.started_at, ops->drv->name);
}

bool dbb_ops_interrupted_restore(struct dbb_ops *ops, struct dbb_interrupted_restore *out)
{
	pthread_mutex_lock(&ops->mu);
	bool on = ops->interrupted;
	if (on)
		*out = ops->intr;
	pthread_mutex_unlock(&ops->mu);
	return on;
}

dbb_code dbb_ops_new(struct dbb_ops **out, const struct dbb_config *cfg,
                     const struct dbb_driver *driver, struct dbb_storage *st, struct dbb_error *err)
{
	struct dbb_ops *ops = calloc(1, sizeof(*ops));
	if (!ops)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	ops->cfg = cfg;
	ops->drv = driver;
	ops->st = st;
	pthread_mutex_init(&ops->mu, NULL);
	pthread_cond_init(&ops->idle, NULL);
	pthread_cond_init(&ops->remote_idle, NULL); /* issue 18 */
	dbb_code rc = safety_spec_load(ops, err);
	if (!rc)
		rc = age_load(ops, err);
	if (rc) {
		dbb_ops_free(ops);
		return rc;
	}
	journal_load(ops);
	*out = ops;
	return DBB_OK;
}

void dbb_ops_free(struct dbb_ops *ops)
{
	if (!ops)
		return;
	pthread_cond_destroy(&ops->idle);
	pthread_cond_destroy(&ops->remote_idle);
	pthread_mutex_destroy(&ops->mu);
	age_free(ops);
	free(ops);
}

const char *dbb_ops_database_type(const struct dbb_ops *ops)
{
	return ops->drv->name;
}

const char *dbb_ops_target_name(const struct dbb_ops *ops)
{
	return ops->cfg->name[0] ? ops->cfg->name : ops->drv->name;
}

/* A driver's scratch file is a temporary of the backups directory: on the
 * file system the restore limits count, removed at start-up if left over. */
static void scratch_discard(struct dbb_scratch *s)
{
	struct dbb_storage_tmp *tmp = s->owner;
	dbb_storage_tmp_discard(tmp);
	free(tmp);
	s->owner = NULL;
	s->discard = NULL;
	s->fd = -1;
	s->path[0] = '\0';
}

static dbb_code scratch_create(const struct dbb_driver_ctx *ctx, struct dbb_scratch *out,
                               struct dbb_error *err)
{
	struct dbb_ops *ops = ctx->scratch_arg;
	memset(out, 0, sizeof(*out));
	out->fd = -1;
	struct dbb_storage_tmp *tmp = calloc(1, sizeof(*tmp));
	if (!tmp)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	tmp->fd = -1;
	dbb_code rc = dbb_storage_tmp_create(ops->st, tmp, err);
	if (rc) {
		free(tmp);
		return rc;
	}
	out->fd = tmp->fd;
	dbb_storage_tmp_path(tmp, out->path, sizeof(out->path));
	out->owner = tmp;
	out->discard = scratch_discard;
	return DBB_OK;
}

void dbb_ops_driver_ctx(const struct dbb_ops *ops, struct dbb_driver_ctx *ctx)
{
	ctx->cfg = ops->cfg;
	ctx->scratch = scratch_create;
	ctx->scratch_arg = (void *)ops;
}

dbb_code dbb_ops_lock(struct dbb_ops *ops, const char *what, struct dbb_error *err)
{
	return dbb_ops_lock_wait(ops, what, 0, err);
}

/* The deadline wait_ms from now on CLOCK_REALTIME (pthread_cond_timedwait's
 * clock). */
static struct timespec deadline_after(unsigned wait_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(wait_ms / 1000);
	ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

dbb_code dbb_ops_lock_wait(struct dbb_ops *ops, const char *what, unsigned wait_ms,
                           struct dbb_error *err)
{
	dbb_code rc = DBB_OK;
	unsigned brief_ms = wait_ms > DBB_DELETE_WAIT_MS ? wait_ms : DBB_DELETE_WAIT_MS;
	struct timespec until = deadline_after(wait_ms), until_brief = deadline_after(brief_ms);
	pthread_mutex_lock(&ops->mu);
	/* the holder may change while we wait: a brief one is waited for longer */
	while (ops->busy && (wait_ms > 0 || ops->brief)) {
		if (pthread_cond_timedwait(&ops->idle, &ops->mu,
		                           ops->brief ? &until_brief : &until) == ETIMEDOUT)
			break;
	}
	if (ops->busy) {
		char since[32];
		struct tm tm;
		gmtime_r(&ops->running_since, &tm);
		strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
		rc = dbb_fail(err, DBB_ERR_BUSY,
		              "another operation is running on the %s database: %s (since %s); "
		              "try again when it has finished",
		              ops->drv->name, ops->running, since);
	} else {
		ops->busy = true;
		snprintf(ops->running, sizeof(ops->running), "%s", what);
		ops->running_since = time(NULL);
	}
	pthread_mutex_unlock(&ops->mu);
	return rc;
}

void dbb_ops_lock_brief(struct dbb_ops *ops)
{
	pthread_mutex_lock(&ops->mu);
	ops->brief = true;
	pthread_mutex_unlock(&ops->mu);
}

void dbb_ops_unlock(struct dbb_ops *ops)
{
	pthread_mutex_lock(&ops->mu);
	ops->busy = false;
	ops->brief = false;
	ops->running[0] = '\0';
	pthread_cond_broadcast(&ops->idle);
	pthread_mutex_unlock(&ops->mu);
}

/* A dump that failed because the database went away in the middle says so
 * in its tool's words ("Lost connection"), as backup_failed; what the client
 * needs to know is that the database is gone (503, try again later), as it
 * is told when the database was gone before the dump began. So a failed dump
 * asks the driver's health check once; a database that answers leaves the
 * error as it was. */
static dbb_code dump_failure(struct dbb_ops *ops, const struct dbb_driver_ctx *ctx,
                             struct dbb_error *err)
{
	struct dbb_error health = {0};
	if (!ops->drv->health || ops->drv->health(ctx, &health) != DBB_ERR_DB_UNAVAILABLE)
		return err->code;
	dbb_error_prefix(err, "the database went away during the dump");
	err->code = DBB_ERR_DB_UNAVAILABLE;
	return err->code;
}

/* How a backup is written: the codec and its settings, and, for a safety
 * backup made while the restore's validation runs, a flag another thread
 * sets to stop it (the dump's next write fails). */
struct backup_spec {
	enum dbb_compression codec;
	struct dbb_codec_options gz, zs;
	const atomic_bool *cancel;           /* NULL: runs to its end */
	const atomic_bool *job_cancel;       /* a job's cancellation (progress.h); may be NULL */
	const struct dbb_age_recipients *to; /* NULL: not encrypted (issue 19) */
	const char *age_note;                /* the sidecar's recipients lines */
};

static void backup_spec_init(const struct dbb_ops *ops, struct backup_spec *b,
                             enum dbb_compression codec)
{
	memset(b, 0, sizeof(*b));
	b->codec = codec;
	b->gz = (struct dbb_codec_options){.level = ops->cfg->gzip_level,
	                                   .threads = ops->cfg->compress_threads};
	b->zs = (struct dbb_codec_options){.level = ops->cfg->zstd_level,
	                                   .threads = ops->cfg->compress_threads};
	if (ops->recipients.n) {
		b->to = &ops->recipients;
		b->age_note = ops->age_note;
	}
}

/* ---- issue 19: age encryption (docs/encryption.md) ---- */

/* "# age-recipient: age1...\n" for each of rs (malloc'd). */
static char *age_note_new(const struct dbb_age_recipients *rs, const char *last_comment)
{
	size_t cap = rs->n * (DBB_AGE_RECIPIENT_LEN + 32) + 128, at = 0;
	char *note = malloc(cap);
	for (size_t i = 0; note && i < rs->n; i++) {
		char r[DBB_AGE_RECIPIENT_LEN + 1];
		dbb_age_recipient_format(&rs->v[i], r);
		at += (size_t)snprintf(note + at, cap - at, "# age-recipient: %s%s\n", r,
		                       i + 1 == rs->n && last_comment ? last_comment : "");
	}
	return note;
}

/* The recipients of ENCRYPT_RECIPIENTS and ENCRYPT_RECIPIENTS_FILE into rs
 * (checked at start-up already: config.c). */
static dbb_code age_recipients_read(const struct dbb_config *cfg, struct dbb_age_recipients *rs,
                                    struct dbb_error *err)
{
	dbb_code rc = DBB_OK;
	if (cfg->encrypt_recipients[0])
		rc = dbb_age_recipients_parse_list(rs, cfg->encrypt_recipients, err);
	if (!rc && cfg->encrypt_recipients_file[0])
		rc = dbb_age_recipients_load_file(rs, cfg->encrypt_recipients_file, err);
	if (rc) {
		dbb_error_prefix(err, "ENCRYPT_RECIPIENTS");
		err->code = rc = DBB_ERR_CONFIG;
	}
	return rc;
}

static dbb_code age_load(struct dbb_ops *ops, struct dbb_error *err)
{
	char r[DBB_AGE_RECIPIENT_LEN + 1];
	if (!ops->cfg->encrypt_recipients[0] && !ops->cfg->encrypt_recipients_file[0])
		return DBB_OK;
	dbb_code rc = age_recipients_read(ops->cfg, &ops->recipients, err);
	if (!rc)
		rc = age_recipients_read(ops->cfg, &ops->safety_recipients, err);
	if (!rc)
		rc = dbb_age_keygen(&ops->run_id, err);
	if (!rc) {
		struct dbb_age_recipient run;
		dbb_age_identity_recipient(&ops->run_id, &run);
		dbb_age_recipient_format(&run, r);
		rc = dbb_age_recipients_parse_list(&ops->safety_recipients, r, err);
	}
	if (rc)
		return rc;
	ops->age_note = age_note_new(&ops->recipients, NULL);
	ops->safety_age_note =
	    age_note_new(&ops->safety_recipients, " (this daemon run's own key, for a rollback)");
	if (!ops->age_note || !ops->safety_age_note)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	return DBB_OK;
}

static void age_free(struct dbb_ops *ops)
{
	dbb_age_recipients_free(&ops->recipients);
	dbb_age_recipients_free(&ops->safety_recipients);
	OPENSSL_cleanse(&ops->run_id, sizeof(ops->run_id));
	free(ops->age_note);
	free(ops->safety_age_note);
}

static dbb_code age_sink_layer(struct dbb_sink *next, const void *arg, struct dbb_sink **out,
                               struct dbb_error *err)
{
	return dbb_age_sink_new(next, arg, out, err);
}

/* A pass-through sink that fails once *flag is set. */
struct cancel_sink {
	struct dbb_sink base;
	struct dbb_sink *next;
	const atomic_bool *flag;
	const atomic_bool *job_flag;
};

static dbb_code cancel_write(struct dbb_sink *self, const void *buf, size_t len,
                             struct dbb_error *err)
{
	struct cancel_sink *s = (struct cancel_sink *)self;
	if (s->flag && atomic_load(s->flag))
		return dbb_fail(err, DBB_ERR_INTERNAL, "stopped: the restore was refused");
	if (s->job_flag && atomic_load(s->job_flag))
		return dbb_fail(err, DBB_ERR_CANCELLED, "stopped: the job was cancelled");
	return dbb_sink_write(s->next, buf, len, err);
}

/* driver dump → [gzip|zstd] → [age] → sha256 → temporary file (not yet listed:
 * backup_commit names it). On failure tmp is discarded. */
static dbb_code backup_to_tmp(struct dbb_ops *ops, const struct backup_spec *b,
                              const struct dbb_dump_options *opt, struct dbb_storage_tmp *tmp,
                              struct dbb_stream_totals *totals, struct dbb_error *err)
{
	struct dbb_driver_ctx ctx;
	struct dbb_fd_sink file;
	struct dbb_sink_chain *chain = NULL;
	const struct dbb_sink_layer layers[] = {
	    {b->codec == DBB_COMPRESSION_GZIP ? dbb_gzip_layer : NULL, &b->gz},
	    {b->codec == DBB_COMPRESSION_ZSTD ? dbb_zstd_layer : NULL, &b->zs},
	    {b->to ? age_sink_layer : NULL, b->to}, /* above the hash: it sums the ciphertext */
	};

	dbb_ops_driver_ctx(ops, &ctx);
	memset(tmp, 0, sizeof(*tmp));
	tmp->fd = -1;
	dbb_code rc = dbb_storage_tmp_create(ops->st, tmp, err);
	if (rc)
		return rc;
	dbb_fd_sink_init(&file, tmp->fd);
	rc =
	    dbb_sink_chain_new(&file.base, layers, sizeof(layers) / sizeof(layers[0]), &chain, err);
	if (rc)
		goto out;
	/* the dump's bytes count into the bound progress (a job's, issue 20) */
	struct dbb_progress_sink prog;
	dbb_progress_sink_init(&prog, dbb_sink_chain_top(chain));
	struct cancel_sink top = {{cancel_write, NULL, NULL}, &prog.base, b->cancel, b->job_cancel};
	rc = ops->drv->dump(&ctx, opt, &top.base, err);
	if (rc == DBB_ERR_BACKUP_FAILED && !(b->cancel && atomic_load(b->cancel)))
		rc = dump_failure(ops, &ctx, err);
	if (!rc)
		rc = dbb_sink_chain_finish(chain, totals, err);
out:
	dbb_sink_chain_free(chain);
	if (rc)
		dbb_storage_tmp_discard(tmp);
	return rc;
}

/* Lists what backup_to_tmp wrote, named prefix_<db>_<when>.<ext><suffix>;
 * tmp is consumed whatever happens. */
static dbb_code backup_commit(struct dbb_ops *ops, const char *prefix, const struct backup_spec *b,
                              time_t when, struct dbb_storage_tmp *tmp,
                              const struct dbb_stream_totals *totals, struct dbb_backup_result *res,
                              struct dbb_error *err)
{
	char suffix[16];
	memcpy(res->sha256, totals->sha256, sizeof(res->sha256));
	res->size_bytes = totals->stored_bytes;
	struct dbb_backup_name nm = {
	    .prefix = prefix,
	    .db = dbb_ops_target_name(ops),
	    .extension = ops->drv->extension,
	    .suffix = suffix,
	    .when = when,
	};
	snprintf(suffix, sizeof(suffix), "%s%s", dbb_compression_suffix(b->codec),
	         b->to ? ".age" : "");
	dbb_code rc = dbb_storage_tmp_commit_note(tmp, &nm, res->sha256, b->to ? b->age_note : NULL,
	                                          res->filename, err);
	dbb_storage_tmp_discard(tmp); /* no-op after a commit */
	return rc;
}

static dbb_code write_backup(struct dbb_ops *ops, const char *prefix, const struct backup_spec *b,
                             const struct dbb_dump_options *opt, struct dbb_backup_result *res,
                             struct dbb_error *err)
{
	struct dbb_storage_tmp tmp;
	struct dbb_stream_totals totals;
	time_t when = time(NULL);
	memset(res, 0, sizeof(*res));
	dbb_code rc = backup_to_tmp(ops, b, opt, &tmp, &totals, err);
	return rc ? rc : backup_commit(ops, prefix, b, when, &tmp, &totals, res, err);
}

/* The codec of compress=true (COMPRESSION). */
static enum dbb_compression default_codec(const struct dbb_ops *ops)
{
	enum dbb_compression c = DBB_COMPRESSION_GZIP;
	dbb_compression_parse(ops->cfg->compression, &c);
	return c == DBB_COMPRESSION_NONE ? DBB_COMPRESSION_GZIP : c;
}

enum dbb_compression dbb_ops_default_compression(const struct dbb_ops *ops)
{
	return default_codec(ops);
}

/* A safety backup's codec and level: SAFETY_COMPRESSION (docs/compression.md);
 * empty means COMPRESSION's codec at its level, as before the setting. */
static dbb_code safety_spec_load(struct dbb_ops *ops, struct dbb_error *err)
{
	const char *s = ops->cfg->safety_compression;
	ops->safety_codec = default_codec(ops);
	ops->safety_level = 0;
	if (!s[0])
		return DBB_OK;
	if (!dbb_compression_parse_spec(s, &ops->safety_codec, &ops->safety_level))
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "SAFETY_COMPRESSION must be gzip[:1-9], zstd[:1-19] or none, got "
		                "'%s'",
		                s);
	return DBB_OK;
}

static void safety_spec(const struct dbb_ops *ops, struct backup_spec *b)
{
	backup_spec_init(ops, b, ops->safety_codec);
	if (ops->safety_level && b->codec == DBB_COMPRESSION_GZIP)
		b->gz.level = ops->safety_level;
	if (ops->safety_level && b->codec == DBB_COMPRESSION_ZSTD)
		b->zs.level = ops->safety_level;
	/* libzstd's smallest jobs: the workers' jobs in flight sit beside the
	 * validation's buffers (issue 15's 32 MiB bound); a safety backup's
	 * size matters less than a backup's (docs/compression.md) */
	b->zs.job_size = DBB_ZSTD_SAFETY_JOB_SIZE;
	if (b->to) {
		b->to = &ops->safety_recipients;
		b->age_note = ops->safety_age_note;
	}
}

/* A job's bytes_total while it dumps (progress.h): the driver's estimate of
 * the dump's size (the database's on disk); 0, unknown, for a request's
 * progress (no query for a log line) or without an estimate. */
static uint64_t dump_estimate(struct dbb_ops *ops)
{
	uint64_t bytes = 0;
	struct dbb_driver_ctx ctx;
	struct dbb_error e = {0};
	if (!ops->drv->size_estimate || !dbb_progress_wants_totals())
		return 0;
	dbb_ops_driver_ctx(ops, &ctx);
	if (ops->drv->size_estimate(&ctx, &bytes, &e)) {
		dbb_debug("no size estimate for the dump: %s", e.message);
		return 0;
	}
	return bytes;
}

dbb_code dbb_ops_create_backup(struct dbb_ops *ops, enum dbb_compression codec,
                               const struct dbb_dump_options *opt, struct dbb_backup_result *res,
                               struct dbb_error *err)
{
	struct dbb_ops_watch w;
	memset(res, 0, sizeof(*res));
	dbb_ops_watch_begin(ops, &w, DBB_METRIC_BACKUP);
	dbb_code rc = dbb_ops_lock(ops, "a backup", err);
	if (rc) {
		res->seconds = dbb_ops_watch_end(ops, &w, rc, 0, 0);
		return rc;
	}
	struct backup_spec b;
	backup_spec_init(ops, &b, codec);
	dbb_progress_phase("dumping", dump_estimate(ops));
	rc = write_backup(ops, "backup", &b, opt, res, err);
	dbb_ops_unlock(ops);
	double secs = res->seconds = dbb_ops_watch_end(ops, &w, rc, rc ? 0 : res->size_bytes, 0);
	if (rc)
		dbb_error("backup of the %s database failed after %.1fs: %s", ops->drv->name, secs,
		          err->message);
	else
		dbb_info("backup %s written: %llu bytes in %.1fs, sha256 %s", res->filename,
		         (unsigned long long)res->size_bytes, secs, res->sha256);
	if (rc == DBB_OK && ops->backup_hook)
		ops->backup_hook(ops->backup_hook_cls, res->filename);
	return rc;
}

/* Whether a restore input is age-encrypted (issue 19). */
enum input_age {
	INPUT_PLAIN = 0, /* not encrypted: no age layer */
	INPUT_AGE,       /* a .age backup: an age file, binary or armored */
	INPUT_AGE_MAYBE, /* an upload: an age file (by its first bytes), or plain */
	INPUT_AGE_OURS,  /* the safety backup this run just made, for a rollback:
	                  * the run's own key opens it, no key file is read */
};

/* How a restore input is read: how much it may decompress to (issue 14,
 * gzip bombs), and whether it is encrypted. */
struct input_limit {
	uint64_t bytes; /* UINT64_MAX: none */
	char why[160];  /* what set it, for the 413 */
	enum input_age age;
};

static const struct input_limit no_limit = {UINT64_MAX, "", INPUT_PLAIN};

/* A listed backup: no limit; encrypted when its name ends in .age. */
static struct input_limit listed_input(const char *name)
{
	struct input_limit l = no_limit;
	l.age = dbb_name_is_encrypted(name) ? INPUT_AGE : INPUT_PLAIN;
	return l;
}

/* The age layer's settings (issue 19), and what it found. */
struct age_input {
	enum dbb_age_input input;
	struct dbb_age_identities ids;
	enum dbb_age_failure *why;
};

/* fd (rewound) → [age] → [gunzip|unzstd, by magic bytes] → size limit:
 * what a driver reads. */
struct restore_input {
	struct dbb_fd_source file;
	struct dbb_progress_source prog; /* the file's bytes (progress.h) */
	struct age_input age;
	enum dbb_age_failure why;
	struct dbb_source_chain *chain;
	struct dbb_limit_source lim;
};

static dbb_code age_source_layer(struct dbb_source *next, const void *arg, struct dbb_source **out,
                                 struct dbb_error *err)
{
	const struct age_input *a = arg;
	return dbb_age_source_new(next, &a->ids, a->input, out, a->why, err);
}

/* What decrypts a restore input: AGE_IDENTITY_FILE, AGE_PASSPHRASE_FILE
 * (read now: either may have been put in place for this restore), and this
 * run's own key (safety backups). An error names the variable. */
static dbb_code age_identities_read(const struct dbb_ops *ops, bool files,
                                    struct dbb_age_identities *ids, struct dbb_error *err)
{
	const struct dbb_config *cfg = ops->cfg;
	dbb_code rc = DBB_OK;
	const char *var = "AGE_IDENTITY_FILE";
	if (files && cfg->age_identity_file[0])
		rc = dbb_age_identities_load_file(ids, cfg->age_identity_file, DBB_AGE_FILE_PRIVATE,
		                                  err);
	if (!rc && files && cfg->age_passphrase_file[0]) {
		var = "AGE_PASSPHRASE_FILE";
		rc = dbb_age_identities_load_passphrase_file(ids, cfg->age_passphrase_file,
		                                             DBB_AGE_FILE_PRIVATE, err);
	}
	if (rc) {
		dbb_error_prefix(err, "%s", var);
		err->code = rc = DBB_ERR_RESTORE_CONFLICT;
		return rc;
	}
	if (ops->recipients.n) {
		char text[DBB_AGE_IDENTITY_LEN + 1];
		dbb_age_identity_format(&ops->run_id, text);
		rc = dbb_age_identities_parse_file_text(ids, text, strlen(text), err);
		OPENSSL_cleanse(text, sizeof(text));
	}
	return rc;
}

/* An age file that nothing here can open for want of a key: the 409 that
 * names the setting (docs/encryption.md); any other failure stays as the
 * age layer put it (422 for a bad file or a wrong key). */
static dbb_code age_verdict(const struct dbb_ops *ops, enum dbb_age_failure why, dbb_code rc,
                            struct dbb_error *err)
{
	bool no_key = why == DBB_AGE_FAIL_NO_IDENTITY ||
	              (why == DBB_AGE_FAIL_NO_MATCH && !ops->cfg->age_identity_file[0]);
	if (!no_key)
		return rc;
	return dbb_fail(err, DBB_ERR_RESTORE_CONFLICT,
	                "the backup is encrypted (age) and AGE_IDENTITY_FILE is not set (nor, for "
	                "a file made with age -p, AGE_PASSPHRASE_FILE): set it to the identity "
	                "file that decrypts it; the database was not touched");
}

/* An upload that is not an age file by its first bytes is read as before,
 * with no age layer (and no key file read). */
static enum input_age input_age_of(int fd, enum input_age age)
{
	unsigned char head[DBB_AGE_SNIFF_MAX];
	if (age != INPUT_AGE_MAYBE)
		return age;
	ssize_t got = pread(fd, head, sizeof(head), 0);
	return got > 0 && dbb_age_sniff(head, (size_t)got) != DBB_AGE_KIND_NONE ? INPUT_AGE
	                                                                        : INPUT_PLAIN;
}

static dbb_code input_open(struct restore_input *in, const struct dbb_ops *ops, int fd,
                           const struct input_limit *limit, struct dbb_error *err)
{
	memset(in, 0, sizeof(*in));
	in->age.why = &in->why;
	in->age.input = DBB_AGE_INPUT_DETECT;
	enum input_age age = input_age_of(fd, limit->age);
	const struct dbb_source_layer layers[] = {
	    {age != INPUT_PLAIN ? age_source_layer : NULL, &in->age},
	    {dbb_decompress_layer, NULL},
	};
	if (lseek(fd, 0, SEEK_SET) < 0)
		return dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "seek failed");
	dbb_fd_source_init(&in->file, fd);
	dbb_progress_source_init(&in->prog, &in->file.base);
	dbb_code rc = age != INPUT_PLAIN
	                  ? age_identities_read(ops, age != INPUT_AGE_OURS, &in->age.ids, err)
	                  : DBB_OK;
	if (!rc)
		rc = dbb_source_chain_new(&in->prog.base, layers, 2, &in->chain, err);
	if (rc)
		rc = age_verdict(ops, in->why, rc, err);
	if (!rc)
		dbb_limit_source_init(&in->lim, dbb_source_chain_top(in->chain), limit->bytes);
	return rc;
}

static void input_close(struct restore_input *in)
{
	dbb_source_chain_free(in->chain);
	in->chain = NULL;
	dbb_age_identities_free(&in->age.ids);
}

/* The driver may have reported the limit in its own words (or wrapped it):
 * the answer is the 413 that says which limit. */
static dbb_code input_verdict(const struct restore_input *in, const struct input_limit *limit,
                              const char *label, dbb_code rc, struct dbb_error *err)
{
	if (!in->lim.exceeded)
		return rc;
	return dbb_fail(err, DBB_ERR_PAYLOAD_TOO_LARGE,
	                "%s decompresses to more than %llu bytes (%s); the database was not "
	                "touched",
	                label, (unsigned long long)limit->bytes, limit->why);
}

/* A pass-through source that fails once *flag is set. */
struct cancel_source {
	struct dbb_source base;
	struct dbb_source *next;
	const atomic_bool *flag;
};

static dbb_code cancel_read(struct dbb_source *self, void *buf, size_t cap, size_t *got,
                            struct dbb_error *err)
{
	struct cancel_source *s = (struct cancel_source *)self;
	if (atomic_load(s->flag))
		return dbb_fail(err, DBB_ERR_INTERNAL, "stopped: the safety backup failed");
	return dbb_source_read(s->next, buf, cap, got, err);
}

/* The whole file is read: the driver checks the content, and whatever it did
 * not read is drained (through the limit) so the gzip CRC and length, or
 * every zstd frame and its checksum, are verified to the end. With staged
 * non-NULL and a driver that stages, what it checked is kept there for
 * clean_and_restore (the caller discards it). cancel (may be NULL): set by
 * another thread to stop the validation early. */
static dbb_code check_input(struct dbb_ops *ops, int fd, const struct input_limit *limit,
                            const char *label, struct dbb_staged **staged,
                            const atomic_bool *cancel, struct dbb_error *err)
{
	struct dbb_driver_ctx ctx;
	struct restore_input in;
	struct dbb_stream_totals totals;
	dbb_ops_driver_ctx(ops, &ctx);
	dbb_code rc = input_open(&in, ops, fd, limit, err);
	struct cancel_source cs = {{cancel_read, NULL, NULL}, &in.lim.base, cancel};
	struct dbb_source *src = cancel ? &cs.base : &in.lim.base;
	if (!rc && staged && ops->drv->stage)
		rc = ops->drv->stage(&ctx, src, staged, err);
	else if (!rc)
		rc = ops->drv->validate(&ctx, src, err);
	if (!rc)
		rc = dbb_source_finish(src, err);
	if (!rc)
		rc = dbb_source_chain_finish(in.chain, &totals, err);
	rc = input_verdict(&in, limit, label, rc, err);
	input_close(&in);
	return rc;
}

/* check_input before anything was touched. */
static dbb_code validate_input(struct dbb_ops *ops, int fd, const struct input_limit *limit,
                               const char *label, struct dbb_staged **staged,
                               const atomic_bool *cancel, struct dbb_error *err)
{
	dbb_code rc = check_input(ops, fd, limit, label, staged, cancel, err);
	if (rc == DBB_ERR_INVALID_BACKUP)
		dbb_error_prefix(err, "%s is not a valid %s backup; the database was not touched",
		                 label, ops->drv->name);
	return rc;
}

/* For the progress of a phase that reads fd (0: unknown). */
static uint64_t file_size(int fd)
{
	struct stat sb;
	return fstat(fd, &sb) == 0 && sb.st_size > 0 ? (uint64_t)sb.st_size : 0;
}

dbb_code dbb_ops_read_listed(struct dbb_ops *ops, int fd, const char *name, bool validate_first,
                             dbb_ops_reader fn, void *arg, struct dbb_error *err)
{
	struct dbb_driver_ctx ctx;
	struct restore_input in;
	struct dbb_stream_totals totals;
	struct input_limit limit = listed_input(name);
	dbb_code rc =
	    validate_first ? validate_input(ops, fd, &limit, name, NULL, NULL, err) : DBB_OK;
	if (rc)
		return rc;
	dbb_ops_driver_ctx(ops, &ctx);
	rc = input_open(&in, ops, fd, &limit, err);
	if (!rc)
		rc = fn(arg, &ctx, &in.lim.base, err);
	if (!rc)
		rc = dbb_source_finish(&in.lim.base, err);
	if (!rc)
		rc = dbb_source_chain_finish(in.chain, &totals, err);
	input_close(&in);
	return rc;
}

/* staged: what validate_input kept, restored instead of reading fd again. */
static dbb_code clean_and_restore(struct dbb_ops *ops, int fd, const struct input_limit *limit,
                                  struct dbb_staged *staged, struct dbb_error *err)
{
	struct dbb_driver_ctx ctx;
	struct restore_input in;
	dbb_ops_driver_ctx(ops, &ctx);
	dbb_code rc = DBB_OK;
	if (ops->drv->clean) {
		dbb_progress_phase("cleaning", 0);
		rc = ops->drv->clean(&ctx, err);
		if (rc)
			return rc;
	}
	dbb_progress_phase("restoring", file_size(fd));
	if (staged)
		return ops->drv->restore_staged(&ctx, staged, err);
	rc = input_open(&in, ops, fd, limit, err);
	if (!rc)
		rc = ops->drv->restore(&ctx, &in.lim.base, err);
	if (in.lim.exceeded) /* cannot be: validation read the same bytes */
		rc = dbb_fail(err, DBB_ERR_RESTORE_FAILED,
		              "the input grew past %llu bytes after it was validated",
		              (unsigned long long)limit->bytes);
	input_close(&in);
	return rc;
}

static void rollback_from_safety(struct dbb_ops *ops, struct dbb_restore_result *res,
                                 struct dbb_error *err)
{
	struct dbb_error rb_err = {0};
	int fd;
	struct stat sb;
	res->rollback_attempted = true;
	dbb_warn("restore failed (%s); restoring the safety backup %s", err->message,
	         res->safety_backup_filename);
	/* a cancelled job's rollback runs to its end: its progress is unbound
	 * meanwhile (no cancellation, no counting) */
	dbb_progress_phase("rolling_back", 0);
	struct dbb_progress *job = dbb_progress_bind(NULL);
	dbb_code rc =
	    dbb_storage_open_backup(ops->st, res->safety_backup_filename, &fd, &sb, &rb_err);
	if (!rc) {
		struct input_limit safety_in = listed_input(res->safety_backup_filename);
		if (safety_in.age == INPUT_AGE) /* made just now: the run's key opens it */
			safety_in.age = INPUT_AGE_OURS;
		rc = clean_and_restore(ops, fd, &safety_in, NULL, &rb_err);
		close(fd);
	}
	dbb_progress_bind(job);
	res->rollback_succeeded = rc == DBB_OK;
	if (rc == DBB_OK) {
		dbb_info("safety backup %s restored: the database is as it was before the request",
		         res->safety_backup_filename);
		dbb_error_prefix(err,
		                 "restore failed and was rolled back: the safety backup %s was "
		                 "restored, so the database is as it was before the request",
		                 res->safety_backup_filename);
	} else {
		dbb_error("rollback from %s FAILED: %s; restore it by hand",
		          res->safety_backup_filename, rb_err.message);
		char msg[DBB_ERROR_MESSAGE_MAX];
		snprintf(msg, sizeof(msg), "%s", err->message);
		dbb_fail(err, DBB_ERR_RESTORE_FAILED,
		         "restore failed (%.400s) and restoring the safety backup %s also failed "
		         "(%.300s): the database may be partial; restore %s by hand",
		         msg, res->safety_backup_filename, rb_err.message,
		         res->safety_backup_filename);
	}
}

/* Records, before the database is touched, that a restore is under way.
 * An older journal (an earlier restore that never finished) is kept as it
 * is: its safety backup, not one taken of a partial database, is the one to
 * go back to. *mine says whether this restore wrote the journal. */
static dbb_code journal_begin(struct dbb_ops *ops, const char *label,
                              const struct dbb_restore_result *res, bool *mine,
                              struct dbb_error *err)
{
	char text[512], when[32], source[DBB_NAME_MAX + 32];
	struct tm tm;
	time_t now = time(NULL);
	*mine = false;
	pthread_mutex_lock(&ops->mu);
	bool older = ops->interrupted;
	pthread_mutex_unlock(&ops->mu);
	if (older)
		return DBB_OK;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(source, sizeof(source), "%s", label);
	for (char *p = source; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	snprintf(text, sizeof(text), "source=%s\nsafety_backup=%s\nstarted_at=%s\n", source,
	         res->safety_backup_created ? res->safety_backup_filename : "", when);
	dbb_code rc = dbb_storage_state_write(ops->st, DBB_RESTORE_JOURNAL, text, err);
	if (rc) {
		dbb_error_prefix(err, "cannot record the restore journal, so the restore was not "
		                      "started and the database was not touched");
		return rc;
	}
	pthread_mutex_lock(&ops->mu);
	journal_parse(text, &ops->intr);
	pthread_mutex_unlock(&ops->mu);
	*mine = true;
	return DBB_OK;
}

/* The database is whole again: the journal goes. After a failure only the
 * journal this restore wrote goes; after a success, any. */
static void journal_end(struct dbb_ops *ops, bool succeeded)
{
	struct dbb_error err = {0};
	if (dbb_storage_state_remove(ops->st, DBB_RESTORE_JOURNAL, &err)) {
		dbb_warn("%s", err.message);
		return;
	}
	pthread_mutex_lock(&ops->mu);
	if (succeeded && ops->interrupted)
		dbb_info("the interrupted restore from %s is resolved by this restore",
		         ops->intr.source);
	ops->interrupted = false;
	memset(&ops->intr, 0, sizeof(ops->intr));
	pthread_mutex_unlock(&ops->mu);
}

/* After validation: the driver's check that it can restore here. */
static dbb_code check_restore(struct dbb_ops *ops, struct dbb_error *err)
{
	if (!ops->drv->check_restore)
		return DBB_OK;
	struct dbb_driver_ctx ctx;
	dbb_ops_driver_ctx(ops, &ctx);
	dbb_code rc = ops->drv->check_restore(&ctx, err);
	if (rc)
		dbb_error_prefix(err,
		                 "the restore was not started and the database was not touched");
	return rc;
}

/* The safety backup, written on a thread of its own while the caller's
 * thread validates the backup file (issue 22): the two read different
 * things (the live database, the file) and touch nothing. The safety
 * backup stays a temporary file until both succeeded; either failing stops
 * the other (its next write or read fails) and the temporary file goes. */
struct safety_job {
	struct dbb_ops *ops;
	struct backup_spec spec;
	atomic_bool stop_safety;     /* set when validation failed */
	atomic_bool stop_validation; /* set when the safety backup failed */
	struct dbb_storage_tmp tmp;
	struct dbb_stream_totals totals;
	dbb_code rc;
	struct dbb_error err;
	double seconds; /* the safety backup's own time */
};

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void *safety_thread(void *arg)
{
	struct safety_job *j = arg;
	struct dbb_dump_options opt = {0};
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	j->rc = backup_to_tmp(j->ops, &j->spec, &opt, &j->tmp, &j->totals, &j->err);
	j->seconds = seconds_since(&t0);
	if (j->rc)
		atomic_store(&j->stop_validation, true);
	return NULL;
}

/* Validation failed on its own (not because the safety backup stopped it):
 * a stopped read is DBB_ERR_INTERNAL, which a driver may pass on as it is
 * but never turns into a verdict on the file. */
static bool validation_failed_itself(struct safety_job *j, dbb_code rc)
{
	return rc && (!atomic_load(&j->stop_validation) || rc == DBB_ERR_INVALID_BACKUP ||
	              rc == DBB_ERR_PAYLOAD_TOO_LARGE);
}

/* Validation (unless the caller did it) and check_restore on this thread,
 * the safety backup on another; on success the safety backup is listed
 * and named in res. */
static dbb_code validate_and_safety(struct dbb_ops *ops, int fd, const char *label,
                                    const struct input_limit *limit, bool validated,
                                    struct dbb_staged **staged, struct dbb_restore_result *res,
                                    struct dbb_error *err)
{
	struct safety_job *j = calloc(1, sizeof(*j));
	pthread_t th;
	time_t when = time(NULL);
	if (!j)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	j->ops = ops;
	safety_spec(ops, &j->spec);
	j->spec.cancel = &j->stop_safety;
	if (dbb_progress_current()) /* the thread has none bound: it sees the job's flag */
		j->spec.job_cancel = &dbb_progress_current()->cancel;
	j->tmp.fd = -1;
	atomic_init(&j->stop_safety, false);
	atomic_init(&j->stop_validation, false);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	bool threaded = pthread_create(&th, NULL, safety_thread, j) == 0;
	if (!threaded)
		dbb_warn("no thread for the safety backup: it runs after the validation");
	dbb_code rc = validated ? DBB_OK
	                        : validate_input(ops, fd, limit, label, staged,
	                                         threaded ? &j->stop_validation : NULL, err);
	if (!rc)
		rc = check_restore(ops, err);
	double checked_s = seconds_since(&t0);
	bool mine = validation_failed_itself(j, rc);
	if (mine)
		atomic_store(&j->stop_safety, true);
	if (threaded)
		pthread_join(th, NULL);
	else if (!mine)
		safety_thread(j);
	if (!mine && j->rc) {
		*err = j->err;
		rc = j->rc;
		dbb_error_prefix(err,
		                 "the safety backup failed, so the restore was not started and "
		                 "the database was not touched");
	}
	if (!rc) {
		struct dbb_backup_result sb;
		memset(&sb, 0, sizeof(sb));
		rc = backup_commit(ops, "safety_backup", &j->spec, when, &j->tmp, &j->totals, &sb,
		                   err);
		if (rc) {
			dbb_error_prefix(err,
			                 "the safety backup could not be kept, so the restore was "
			                 "not started and the database was not touched");
		} else {
			res->safety_backup_created = true;
			memcpy(res->safety_backup_filename, sb.filename, sizeof(sb.filename));
			dbb_info("safety backup %s written before restoring %s (%s, %llu bytes, "
			         "%.2fs; validation beside it %.2fs; both done after %.2fs)",
			         sb.filename, label, dbb_compression_name(j->spec.codec),
			         (unsigned long long)sb.size_bytes, j->seconds, checked_s,
			         seconds_since(&t0));
		}
	}
	dbb_storage_tmp_discard(&j->tmp); /* whatever was not committed */
	free(j);
	return rc;
}

/* The driver's restore checks everything validate checks, in the same
 * pass, and commits nothing unless all of it held (driver.h,
 * restore_validates): the file is decompressed once. */
static bool single_pass(const struct dbb_ops *ops)
{
	return ops->drv->atomic_restore && ops->drv->restore_validates && !ops->drv->stage;
}

/* A single-pass restore failed: was the file at fault, and how does
 * validation put it? The restore may have stopped (an SQL error) before
 * reaching what is wrong with the file, or refused it in other words than
 * validation's, so the file is read once more (only after a failure). */
static dbb_code single_pass_verdict(struct dbb_ops *ops, int fd, const char *label,
                                    const struct input_limit *limit, dbb_code rc,
                                    struct dbb_error *err)
{
	struct dbb_error verr = {0};
	if (rc != DBB_ERR_DB_UNAVAILABLE) {
		dbb_code vrc = check_input(ops, fd, limit, label, NULL, NULL, &verr);
		if (vrc == DBB_ERR_INVALID_BACKUP || vrc == DBB_ERR_PAYLOAD_TOO_LARGE) {
			*err = verr;
			rc = vrc;
		}
	}
	if (rc == DBB_ERR_INVALID_BACKUP)
		dbb_error_prefix(err, "%s is not a valid %s backup", label, ops->drv->name);
	return rc;
}

/* The restore flow, lock held: validate (unless the caller did) and the
 * driver's check that it can restore here, overlapped with the safety
 * backup; or, without a safety backup and for a driver whose restore
 * validates in one transaction, neither (single pass); then clean,
 * restore, roll back on failure. fd is the staged backup. */
static dbb_code restore_flow(struct dbb_ops *ops, int fd, const char *label, bool safety,
                             const struct input_limit *limit, bool validated,
                             struct dbb_staged **staged, struct dbb_restore_result *res,
                             struct dbb_error *err)
{
	memset(res, 0, sizeof(*res));
	bool single = !validated && !safety && single_pass(ops);
	dbb_code rc;
	if (safety)
		dbb_progress_phase("safety_backup", validated ? 0 : file_size(fd));
	else if (!validated && !single)
		dbb_progress_phase("validating", file_size(fd));
	if (safety) {
		rc = validate_and_safety(ops, fd, label, limit, validated, staged, res, err);
	} else {
		rc = validated || single ? DBB_OK
		                         : validate_input(ops, fd, limit, label, staged, NULL, err);
		if (!rc)
			rc = check_restore(ops, err);
	}
	if (rc)
		return rc;
	bool journal_mine = false;
	rc = journal_begin(ops, label, res, &journal_mine, err);
	if (rc)
		return rc;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = clean_and_restore(ops, fd, limit, *staged, err);
	dbb_info("%s: clean and restore took %.2fs%s", label, seconds_since(&t0),
	         single ? " (one pass: the file was checked as it was restored)" : "");
	if (rc == DBB_OK) {
		journal_end(ops, true);
		return DBB_OK;
	}
	if (single)
		rc = single_pass_verdict(ops, fd, label, limit, rc, err);
	if (rc != DBB_ERR_DB_UNAVAILABLE && rc != DBB_ERR_NO_SPACE &&
	    rc != DBB_ERR_PAYLOAD_TOO_LARGE)
		err->code = rc = (rc == DBB_ERR_INVALID_BACKUP ? rc : DBB_ERR_RESTORE_FAILED);
	if (ops->drv->atomic_restore) {
		dbb_error_prefix(err, "restore failed; it ran in one transaction, so the database "
		                      "is as it was before the request");
		if (journal_mine)
			journal_end(ops, false);
	} else if (res->safety_backup_created) {
		rollback_from_safety(ops, res, err);
		rc = err->code;
		if (journal_mine && res->rollback_succeeded)
			journal_end(ops, false);
	} else {
		dbb_error_prefix(err, "restore failed and no safety backup was made "
		                      "(create_safety_backup=false): the database is now PARTIAL");
	}
	if (journal_mine && (!ops->drv->atomic_restore && !res->rollback_succeeded)) {
		/* the database may be partial: reported until a restore succeeds */
		pthread_mutex_lock(&ops->mu);
		ops->interrupted = true;
		pthread_mutex_unlock(&ops->mu);
	}
	return rc;
}

/* staged: what validation before the lock kept (NULL: none, or not
 * validated yet); it is discarded here whatever happens. */
static dbb_code restore_locked(struct dbb_ops *ops, int fd, const char *label, bool safety,
                               const struct input_limit *limit, bool validated,
                               struct dbb_staged *staged, struct dbb_restore_result *res,
                               struct dbb_error *err)
{
	dbb_code rc = restore_flow(ops, fd, label, safety, limit, validated, &staged, res, err);
	if (ops->drv->discard_staged)
		ops->drv->discard_staged(staged);
	return rc;
}

dbb_code dbb_ops_restore_file(struct dbb_ops *ops, const char *name, bool safety_backup,
                              struct dbb_restore_result *res, struct dbb_error *err)
{
	int fd = -1;
	struct stat sb;
	char what[DBB_NAME_MAX + 32];
	struct dbb_ops_watch w;
	memset(res, 0, sizeof(*res));
	sb.st_size = 0;
	dbb_ops_watch_begin(ops, &w, DBB_METRIC_RESTORE);
	dbb_code rc = dbb_storage_open_backup(ops->st, name, &fd, &sb, err);
	if (!rc && dbb_name_is_encrypted(name) && !ops->cfg->age_identity_file[0])
		rc = age_verdict(ops, DBB_AGE_FAIL_NO_IDENTITY, rc, err); /* before any step */
	if (rc)
		goto out;
	snprintf(what, sizeof(what), "a restore from %s", name);
	rc = dbb_ops_lock(ops, what, err);
	if (rc)
		goto out;
	dbb_info("restore from %s started (safety backup: %s)", name, safety_backup ? "yes" : "no");
	/* a listed backup is one the daemon wrote: no size limit (docs) */
	struct input_limit in = listed_input(name);
	rc = restore_locked(ops, fd, name, safety_backup, &in, false, NULL, res, err);
	if (rc)
		dbb_error("restore from %s failed: %s", name, err->message);
	else
		dbb_info("restore from %s done", name);
	dbb_ops_unlock(ops);
out:
	if (fd >= 0)
		close(fd);
	res->bytes_read = rc ? 0 : (uint64_t)sb.st_size;
	res->seconds = dbb_ops_watch_end(ops, &w, rc, res->bytes_read, 0);
	return rc;
}

/* MAX_RESTORE_BYTES, and never more than the backups directory's free
 * space less a reserve (a tenth of the file system, at most 64 MiB): a
 * driver may stage the decompressed input there (SQLite does). */
static void upload_limit(struct dbb_ops *ops, struct input_limit *limit)
{
	uint64_t free_b, total_b;
	struct dbb_error err = {0};
	limit->bytes = ops->cfg->max_restore_bytes;
	limit->age = INPUT_AGE_MAYBE; /* files made by the age command, or plain */
	snprintf(limit->why, sizeof(limit->why), "MAX_RESTORE_BYTES");
	if (dbb_storage_space(ops->st, &free_b, &total_b, &err))
		return;
	uint64_t reserve = total_b / 10 < (64u << 20) ? total_b / 10 : (64u << 20);
	uint64_t room = free_b > reserve ? free_b - reserve : 0;
	if (room < limit->bytes) {
		limit->bytes = room;
		snprintf(limit->why, sizeof(limit->why),
		         "the free space of the backups directory, %llu bytes, less a reserve of "
		         "%llu",
		         (unsigned long long)free_b, (unsigned long long)reserve);
	}
}

/* A spooled file the daemon does not vouch for (an upload, an object
 * fetched from the store): validated before the lock, within upload_limit,
 * then restored; tmp is discarded whatever happens. label names it in the
 * log and messages, what in the 409 of a second operation. */
static dbb_code restore_spooled(struct dbb_ops *ops, struct dbb_storage_tmp *tmp, const char *label,
                                const char *what, bool safety_backup,
                                struct dbb_restore_result *res, struct dbb_error *err)
{
	struct input_limit limit;
	struct dbb_staged *staged = NULL;
	memset(res, 0, sizeof(*res));
	upload_limit(ops, &limit);
	dbb_progress_phase("validating", file_size(tmp->fd));
	/* validated before the lock: it reads only the spooled file, and a slow
	 * or large upload must not keep the nightly backup waiting */
	dbb_code rc = validate_input(ops, tmp->fd, &limit, label, &staged, NULL, err);
	if (!rc)
		rc = dbb_ops_lock(ops, what, err);
	if (rc) {
		if (ops->drv->discard_staged)
			ops->drv->discard_staged(staged);
		dbb_error("restore from %s refused: %s", label, err->message);
		dbb_storage_tmp_discard(tmp);
		return rc;
	}
	dbb_info("restore from %s started (safety backup: %s)", label,
	         safety_backup ? "yes" : "no");
	rc = restore_locked(ops, tmp->fd, label, safety_backup, &limit, true, staged, res, err);
	if (rc)
		dbb_error("restore from %s failed: %s", label, err->message);
	else
		dbb_info("restore from %s done", label);
	dbb_ops_unlock(ops);
	dbb_storage_tmp_discard(tmp);
	return rc;
}

dbb_code dbb_ops_restore_upload(struct dbb_ops *ops, struct dbb_storage_tmp *tmp,
                                bool safety_backup, struct dbb_restore_result *res,
                                struct dbb_error *err)
{
	return restore_spooled(ops, tmp, "the uploaded file", "a restore from an uploaded file",
	                       safety_backup, res, err);
}

/* issue 18: a backup fetched from the object store (ops/remote.c). Like an
 * upload, not like a listed backup: the daemon does not vouch for what the
 * bucket holds (anyone with its keys may have put it there). */
dbb_code dbb_ops_restore_fetched(struct dbb_ops *ops, struct dbb_storage_tmp *tmp,
                                 const char *label, bool safety_backup,
                                 struct dbb_restore_result *res, struct dbb_error *err)
{
	char what[DBB_NAME_MAX + 64];
	snprintf(what, sizeof(what), "a restore from %s", label);
	return restore_spooled(ops, tmp, label, what, safety_backup, res, err);
}

dbb_code dbb_ops_delete(struct dbb_ops *ops, const char *name, struct dbb_error *err)
{
	char what[DBB_NAME_MAX + 32];
	if (!dbb_name_is_valid(name))
		return dbb_fail(err, DBB_ERR_INVALID_FILENAME, "invalid backup file name");
	snprintf(what, sizeof(what), "the deletion of %s", name);
	dbb_code rc = dbb_ops_lock(ops, what, err);
	if (rc == DBB_ERR_BUSY) {
		dbb_info("delete of %s waits up to %u s: %s", name, DBB_DELETE_WAIT_MS / 1000,
		         err->message);
		rc = dbb_ops_lock_wait(ops, what, DBB_DELETE_WAIT_MS, err);
	}
	if (rc)
		return rc;
	dbb_ops_lock_brief(ops);
	dbb_progress_phase("deleting", 0);
	rc = dbb_storage_delete(ops->st, name, err);
	if (!rc)
		dbb_info("backup %s deleted", name);
	dbb_ops_unlock(ops);
	return rc;
}
