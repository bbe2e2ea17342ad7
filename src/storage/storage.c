/* The backups directory: atomic writes, safe opens, listing, deletion. */
#include "dbbackupd/storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "dbbackupd/log.h"
#include "dbbackupd/stream.h"

struct dbb_storage {
	int dirfd;
	char path[PATH_MAX];
	atomic_uint tmp_counter;
	atomic_uint_fast64_t generation; /* bumped by every commit and delete */
};

#define SIDECAR_SUFFIX ".sha256"
#define OFFSITE_SUFFIX ".offsite"
#define VERIFY_SUFFIX  ".verify" /* issue 20: the last test-restore's outcome */

static dbb_code read_small(struct dbb_storage *st, const char *name, char *buf, size_t cap,
                           struct dbb_error *err);

static void remove_stale_temporaries(struct dbb_storage *st)
{
	int fd = dup(st->dirfd);
	if (fd < 0)
		return;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, DBB_TMP_PREFIX, strlen(DBB_TMP_PREFIX)) != 0)
			continue;
		if (unlinkat(st->dirfd, e->d_name, 0) == 0)
			dbb_warn("removed temporary %s left by an interrupted operation",
			         e->d_name);
	}
	closedir(d);
}

dbb_code dbb_storage_open(struct dbb_storage **out, const char *dir, struct dbb_error *err)
{
	*out = NULL;
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return dbb_fail_errno(err, errno, DBB_ERR_CONFIG,
		                      "BACKUP_DIR: cannot create directory %s", dir);
	struct dbb_storage *st = calloc(1, sizeof(*st));
	if (!st)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	st->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dirfd < 0) {
		int e = errno;
		free(st);
		return dbb_fail_errno(err, e, DBB_ERR_CONFIG, "BACKUP_DIR: cannot open %s", dir);
	}
	if (!realpath(dir, st->path)) {
		int e = errno;
		close(st->dirfd);
		free(st);
		return dbb_fail_errno(err, e, DBB_ERR_CONFIG, "BACKUP_DIR: cannot resolve %s", dir);
	}
	if (faccessat(st->dirfd, ".", W_OK, AT_EACCESS) != 0) {
		int e = errno;
		close(st->dirfd);
		free(st);
		return dbb_fail_errno(err, e, DBB_ERR_CONFIG, "BACKUP_DIR: %s is not writable",
		                      dir);
	}
	remove_stale_temporaries(st);
	*out = st;
	return DBB_OK;
}

void dbb_storage_close(struct dbb_storage *st)
{
	if (!st)
		return;
	close(st->dirfd);
	free(st);
}

const char *dbb_storage_dir(const struct dbb_storage *st)
{
	return st->path;
}

dbb_code dbb_storage_tmp_create(struct dbb_storage *st, struct dbb_storage_tmp *tmp,
                                struct dbb_error *err)
{
	tmp->st = st;
	tmp->fd = -1;
	for (int attempt = 0; attempt < 100; attempt++) {
		unsigned n = atomic_fetch_add(&st->tmp_counter, 1);
		snprintf(tmp->name, sizeof(tmp->name), DBB_TMP_PREFIX "%ld-%u", (long)getpid(), n);
		tmp->fd = openat(st->dirfd, tmp->name,
		                 O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
		if (tmp->fd >= 0)
			return DBB_OK;
		if (errno != EEXIST)
			break;
	}
	int e = errno;
	tmp->name[0] = '\0';
	return dbb_fail_errno(err, e, DBB_ERR_INTERNAL, "cannot create a temporary file in %s",
	                      st->path);
}

void dbb_storage_tmp_path(const struct dbb_storage_tmp *tmp, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%s", tmp->st->path, tmp->name);
}

void dbb_storage_tmp_discard(struct dbb_storage_tmp *tmp)
{
	if (tmp->fd >= 0)
		close(tmp->fd);
	tmp->fd = -1;
	if (tmp->st && tmp->name[0])
		unlinkat(tmp->st->dirfd, tmp->name, 0);
	tmp->name[0] = '\0';
}

static int rename_noreplace(int dirfd, const char *from, const char *to)
{
	if (renameat2(dirfd, from, dirfd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* file systems without RENAME_NOREPLACE: link fails if `to` exists */
	if (linkat(dirfd, from, dirfd, to, 0) != 0)
		return -1;
	unlinkat(dirfd, from, 0);
	return 0;
}

static void build_name(char *out, size_t cap, const struct dbb_backup_name *nm, unsigned seq)
{
	struct tm tm;
	char ts[32];
	gmtime_r(&nm->when, &tm);
	strftime(ts, sizeof(ts), "%Y%m%d_%H%M%S", &tm);
	char suffix[16] = "";
	if (seq > 1)
		snprintf(suffix, sizeof(suffix), "_%u", seq);
	snprintf(out, cap, "%s_%s_%s%s.%s%s", nm->prefix, nm->db, ts, suffix, nm->extension,
	         nm->suffix ? nm->suffix : "");
}

/* "<hex>  <name>" as sha256sum writes it, then note's "# ..." lines (which
 * sha256sum -c skips). */
static dbb_code write_sidecar(struct dbb_storage *st, const char *name, const char *hex,
                              const char *note, struct dbb_error *err)
{
	struct dbb_storage_tmp t;
	dbb_code rc = dbb_storage_tmp_create(st, &t, err);
	if (rc)
		return rc;
	char line[DBB_NAME_MAX + 80 + 4096];
	int n = snprintf(line, sizeof(line), "%s  %s\n%s", hex, name, note ? note : "");
	if (n < 0 || (size_t)n >= sizeof(line))
		n = (int)strlen(line);
	char target[DBB_NAME_MAX + 16];
	snprintf(target, sizeof(target), "%.*s" SIDECAR_SUFFIX, DBB_NAME_MAX - 1, name);
	if (write(t.fd, line, (size_t)n) != n || fsync(t.fd) != 0 ||
	    renameat(st->dirfd, t.name, st->dirfd, target) != 0) {
		int e = errno;
		dbb_storage_tmp_discard(&t);
		return dbb_fail_errno(err, e, DBB_ERR_INTERNAL, "cannot write %s", target);
	}
	close(t.fd);
	return DBB_OK;
}

dbb_code dbb_storage_tmp_commit(struct dbb_storage_tmp *tmp, const struct dbb_backup_name *nm,
                                const char *sha256_hex, char final_name[DBB_NAME_MAX],
                                struct dbb_error *err)
{
	return dbb_storage_tmp_commit_note(tmp, nm, sha256_hex, NULL, final_name, err);
}

dbb_code dbb_storage_tmp_commit_note(struct dbb_storage_tmp *tmp, const struct dbb_backup_name *nm,
                                     const char *sha256_hex, const char *note,
                                     char final_name[DBB_NAME_MAX], struct dbb_error *err)
{
	struct dbb_storage *st = tmp->st;
	dbb_code rc = DBB_OK;
	if (fsync(tmp->fd) != 0) {
		rc = dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "fsync failed");
		goto fail;
	}
	for (unsigned seq = 1;; seq++) {
		if (seq > 9999) {
			rc = dbb_fail(err, DBB_ERR_INTERNAL, "no free backup name");
			goto fail;
		}
		build_name(final_name, DBB_NAME_MAX, nm, seq);
		if (rename_noreplace(st->dirfd, tmp->name, final_name) == 0)
			break;
		if (errno != EEXIST) {
			rc = dbb_fail_errno(err, errno, DBB_ERR_INTERNAL,
			                    "cannot rename into place");
			goto fail;
		}
	}
	close(tmp->fd);
	tmp->fd = -1;
	tmp->name[0] = '\0';
	if (sha256_hex && sha256_hex[0]) {
		rc = write_sidecar(st, final_name, sha256_hex, note, err);
		if (rc) {
			/* a backup without its checksum is still a backup: keep it */
			dbb_warn("backup %s has no checksum sidecar: %s", final_name, err->message);
			rc = DBB_OK;
		}
	}
	if (fsync(st->dirfd) != 0)
		dbb_warn("fsync of %s failed: %s", st->path, strerror(errno));
	atomic_fetch_add(&st->generation, 1);
	return DBB_OK;
fail:
	dbb_storage_tmp_discard(tmp);
	return rc;
}

/* A file the daemon wrote: regular, and its only name is the one in this
 * directory. A second hard link means someone planted it (a link to a file
 * elsewhere, under a valid name); it is refused like a symlink. */
static bool plain_file(const struct stat *sb)
{
	return S_ISREG(sb->st_mode) && sb->st_nlink == 1;
}

dbb_code dbb_storage_open_backup(struct dbb_storage *st, const char *name, int *fd, struct stat *sb,
                                 struct dbb_error *err)
{
	*fd = -1;
	if (!dbb_name_is_valid(name))
		return dbb_fail(err, DBB_ERR_INVALID_FILENAME,
		                "invalid backup file name (expected "
		                "backup_<db>_<YYYYMMDD>_<HHMMSS>.<ext>[.gz|.zst][.age])");
	int f = openat(st->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (f < 0) {
		if (errno == ENOENT || errno == ELOOP)
			return dbb_fail(err, DBB_ERR_NOT_FOUND, "backup not found: %s", name);
		return dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "cannot open %s", name);
	}
	if (fstat(f, sb) != 0 || !plain_file(sb)) {
		close(f);
		return dbb_fail(err, DBB_ERR_NOT_FOUND, "backup not found: %s", name);
	}
	/* back to blocking reads (O_NONBLOCK only guarded against FIFOs) */
	fcntl(f, F_SETFL, fcntl(f, F_GETFL) & ~O_NONBLOCK);
	*fd = f;
	return DBB_OK;
}

static void read_info(struct dbb_storage *st, const char *name, const struct stat *sb,
                      struct dbb_backup_info *bi)
{
	memset(bi, 0, sizeof(*bi));
	snprintf(bi->name, sizeof(bi->name), "%.*s", DBB_NAME_MAX - 1, name);
	bi->size_bytes = (uint64_t)sb->st_size;
	bi->modified_at = sb->st_mtime;
	if (!dbb_name_timestamp(name, &bi->created_at))
		bi->created_at = sb->st_mtime;
	bi->safety = strncmp(name, "safety_", 7) == 0;
	if (!dbb_name_target(name, bi->db, sizeof(bi->db)))
		bi->db[0] = '\0';

	unsigned char magic[4] = {0};
	ssize_t got_magic = 0;
	enum dbb_compression c = DBB_COMPRESSION_NONE;
	int fd = openat(st->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0) {
		ssize_t got = got_magic = read(fd, magic, sizeof(magic));
		if (got > 0)
			c = dbb_compression_sniff(magic, (size_t)got);
		close(fd);
	}
	/* issue 19: an age file's codec is under the encryption: its name says */
	bi->encrypted =
	    dbb_name_is_encrypted(name) && got_magic >= 4 && memcmp(magic, "age-", 4) == 0;
	bi->compression = bi->encrypted ? dbb_name_compression(name) : dbb_compression_name(c);
	bi->compressed = strcmp(bi->compression, "none") != 0;
	char side[DBB_NAME_MAX + 16];
	snprintf(side, sizeof(side), "%.*s" SIDECAR_SUFFIX, DBB_NAME_MAX - 1, name);
	fd = openat(st->dirfd, side, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0) {
		char hex[65] = {0};
		struct stat ss;
		if (fstat(fd, &ss) == 0 && plain_file(&ss) && read(fd, hex, 64) == 64 &&
		    strspn(hex, "0123456789abcdef") == 64)
			memcpy(bi->sha256, hex, 65);
		close(fd);
	}
	snprintf(side, sizeof(side), "%.*s" OFFSITE_SUFFIX, DBB_NAME_MAX - 1, name);
	struct dbb_error ignored;
	if (read_small(st, side, bi->offsite, sizeof(bi->offsite), &ignored) != DBB_OK)
		bi->offsite[0] = '\0';
	snprintf(side, sizeof(side), "%.*s" VERIFY_SUFFIX, DBB_NAME_MAX - 1, name);
	if (read_small(st, side, bi->verify, sizeof(bi->verify), &ignored) != DBB_OK)
		bi->verify[0] = '\0';
}

static int newest_first(const void *a, const void *b)
{
	const struct dbb_backup_info *x = a, *y = b;
	if (x->created_at != y->created_at)
		return x->created_at < y->created_at ? 1 : -1;
	return -strcmp(x->name, y->name);
}

dbb_code dbb_storage_list(struct dbb_storage *st, struct dbb_backup_info **items, size_t *count,
                          struct dbb_error *err)
{
	*items = NULL;
	*count = 0;
	int fd = dup(st->dirfd);
	if (fd < 0)
		return dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "cannot list %s", st->path);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "cannot list %s", st->path);
	}
	rewinddir(d);
	struct dbb_backup_info *v = NULL;
	size_t n = 0, cap = 0;
	dbb_code rc = DBB_OK;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!dbb_name_is_valid(e->d_name))
			continue;
		struct stat sb;
		if (fstatat(st->dirfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !plain_file(&sb))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct dbb_backup_info *nv = realloc(v, ncap * sizeof(*v));
			if (!nv) {
				rc = dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
				break;
			}
			v = nv;
			cap = ncap;
		}
		read_info(st, e->d_name, &sb, &v[n++]);
	}
	closedir(d);
	if (rc) {
		free(v);
		return rc;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), newest_first);
	*items = v;
	*count = n;
	return DBB_OK;
}

dbb_code dbb_storage_delete(struct dbb_storage *st, const char *name, struct dbb_error *err)
{
	int fd;
	struct stat sb;
	dbb_code rc = dbb_storage_open_backup(st, name, &fd, &sb, err);
	if (rc)
		return rc;
	close(fd);
	if (unlinkat(st->dirfd, name, 0) != 0) {
		if (errno == ENOENT)
			return dbb_fail(err, DBB_ERR_NOT_FOUND, "backup not found: %s", name);
		return dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "cannot delete %s", name);
	}
	char side[DBB_NAME_MAX + 16];
	snprintf(side, sizeof(side), "%.*s" SIDECAR_SUFFIX, DBB_NAME_MAX - 1, name);
	unlinkat(st->dirfd, side, 0);
	snprintf(side, sizeof(side), "%.*s" OFFSITE_SUFFIX, DBB_NAME_MAX - 1, name);
	unlinkat(st->dirfd, side, 0);
	snprintf(side, sizeof(side), "%.*s" VERIFY_SUFFIX, DBB_NAME_MAX - 1, name);
	unlinkat(st->dirfd, side, 0);
	fsync(st->dirfd);
	atomic_fetch_add(&st->generation, 1);
	return DBB_OK;
}

dbb_code dbb_storage_space(struct dbb_storage *st, uint64_t *free_bytes, uint64_t *total_bytes,
                           struct dbb_error *err)
{
	struct statvfs vs;
	if (fstatvfs(st->dirfd, &vs) != 0)
		return dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "statvfs failed");
	*free_bytes = (uint64_t)vs.f_bavail * vs.f_frsize;
	*total_bytes = (uint64_t)vs.f_blocks * vs.f_frsize;
	return DBB_OK;
}

dbb_code dbb_storage_free_bytes(struct dbb_storage *st, uint64_t *out, struct dbb_error *err)
{
	struct statvfs vs;
	if (fstatvfs(st->dirfd, &vs) != 0)
		return dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "statvfs failed");
	*out = (uint64_t)vs.f_bavail * vs.f_frsize;
	return DBB_OK;
}

static bool state_name_ok(const char *name)
{
	return name[0] == '.' && strncmp(name, DBB_TMP_PREFIX, strlen(DBB_TMP_PREFIX)) != 0 &&
	       !strchr(name, '/') && strlen(name) < 64;
}

/* Writes text to name: temporary, fsync, rename, directory fsync. */
static dbb_code write_atomic(struct dbb_storage *st, const char *name, const char *text,
                             struct dbb_error *err)
{
	struct dbb_storage_tmp t;
	dbb_code rc = dbb_storage_tmp_create(st, &t, err);
	if (rc)
		return rc;
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t n = write(t.fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(t.fd) != 0 || renameat(st->dirfd, t.name, st->dirfd, name) != 0)
		goto fail;
	close(t.fd);
	if (fsync(st->dirfd) != 0)
		return dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "fsync of %s failed", st->path);
	return DBB_OK;
fail:;
	int e = errno;
	dbb_storage_tmp_discard(&t);
	return dbb_fail_errno(err, e, DBB_ERR_INTERNAL, "cannot write %s in %s", name, st->path);
}

dbb_code dbb_storage_state_write(struct dbb_storage *st, const char *name, const char *text,
                                 struct dbb_error *err)
{
	if (!state_name_ok(name))
		return dbb_fail(err, DBB_ERR_INTERNAL, "bad state file name %s", name);
	return write_atomic(st, name, text, err);
}

/* Reads at most cap-1 bytes of a plain file of its own. */
static dbb_code read_small(struct dbb_storage *st, const char *name, char *buf, size_t cap,
                           struct dbb_error *err)
{
	buf[0] = '\0';
	int fd = openat(st->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return dbb_fail(err, DBB_ERR_NOT_FOUND, "no %s", name);
		return dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "cannot open %s", name);
	}
	struct stat sb;
	if (fstat(fd, &sb) != 0 || !plain_file(&sb)) {
		close(fd);
		return dbb_fail(err, DBB_ERR_INTERNAL,
		                "%s is not a plain file of its own (a link or a special file)",
		                name);
	}
	size_t got = 0;
	while (got + 1 < cap) {
		ssize_t n = read(fd, buf + got, cap - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(fd);
	return DBB_OK;
}

dbb_code dbb_storage_state_read(struct dbb_storage *st, const char *name, char *buf, size_t cap,
                                struct dbb_error *err)
{
	buf[0] = '\0';
	if (!state_name_ok(name))
		return dbb_fail(err, DBB_ERR_INTERNAL, "bad state file name %s", name);
	return read_small(st, name, buf, cap, err);
}

/* "<name>.<kind>" for a valid backup name and a known kind. */
static bool record_name(const char *name, const char *kind, bool writable, char *out, size_t cap)
{
	bool known = strcmp(kind, "offsite") == 0 || strcmp(kind, "verify") == 0 ||
	             (!writable && strcmp(kind, "sha256") == 0);
	if (!known || !dbb_name_is_valid(name))
		return false;
	int n = snprintf(out, cap, "%s.%s", name, kind);
	return n > 0 && (size_t)n < cap;
}

dbb_code dbb_storage_record_write(struct dbb_storage *st, const char *name, const char *kind,
                                  const char *text, struct dbb_error *err)
{
	char file[DBB_NAME_MAX + 16];
	struct stat sb;
	if (!record_name(name, kind, true, file, sizeof(file)))
		return dbb_fail(err, DBB_ERR_INTERNAL, "bad record %s of %s", kind, name);
	if (fstatat(st->dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !plain_file(&sb))
		return dbb_fail(err, DBB_ERR_NOT_FOUND, "backup not found: %s", name);
	dbb_code rc = write_atomic(st, file, text, err);
	if (rc == DBB_OK)
		atomic_fetch_add(&st->generation, 1);
	return rc;
}

dbb_code dbb_storage_record_read(struct dbb_storage *st, const char *name, const char *kind,
                                 char *buf, size_t cap, struct dbb_error *err)
{
	char file[DBB_NAME_MAX + 16];
	buf[0] = '\0';
	if (!record_name(name, kind, false, file, sizeof(file)))
		return dbb_fail(err, DBB_ERR_INTERNAL, "bad record %s of %s", kind, name);
	return read_small(st, file, buf, cap, err);
}

dbb_code dbb_storage_state_remove(struct dbb_storage *st, const char *name, struct dbb_error *err)
{
	if (!state_name_ok(name))
		return dbb_fail(err, DBB_ERR_INTERNAL, "bad state file name %s", name);
	if (unlinkat(st->dirfd, name, 0) != 0 && errno != ENOENT)
		return dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "cannot remove %s", name);
	fsync(st->dirfd);
	return DBB_OK;
}

void dbb_storage_stamp(struct dbb_storage *st, struct dbb_storage_stamp *out)
{
	struct stat sb;
	memset(out, 0, sizeof(*out));
	out->generation = atomic_load(&st->generation);
	clock_gettime(CLOCK_REALTIME, &out->taken);
	if (fstat(st->dirfd, &sb) != 0)
		return; /* not settled: never current */
	out->mtime = sb.st_mtim;
	out->ctime = sb.st_ctim;
	out->settled =
	    sb.st_mtim.tv_sec < out->taken.tv_sec - 1 && sb.st_ctim.tv_sec < out->taken.tv_sec - 1;
}

static bool ts_equal(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

bool dbb_storage_stamp_current(struct dbb_storage *st, const struct dbb_storage_stamp *s,
                               unsigned max_age_s)
{
	struct dbb_storage_stamp now;
	if (!s->settled)
		return false;
	dbb_storage_stamp(st, &now);
	return now.generation == s->generation && ts_equal(&now.mtime, &s->mtime) &&
	       ts_equal(&now.ctime, &s->ctime) && now.taken.tv_sec >= s->taken.tv_sec &&
	       now.taken.tv_sec - s->taken.tv_sec <= (time_t)max_age_s;
}
