/* A VFS that combines SQLite's consecutive page-sized writes into larger
 * ones, for the restore's copy into the live database: the backup API writes
 * every page as a WAL frame (two writes of 24 and 4096 bytes) and the
 * checkpoint writes them again one by one, about 800,000 system calls per
 * GiB; combined, the copy takes about half the system time.
 *
 * The rule that keeps it exact: a write is held back only while it extends
 * the held run of bytes without a gap, and every other call on the file
 * (read, sync, size, truncate, lock, unlock, shared memory, file control,
 * close) first writes out what is held. So whenever SQLite, or another
 * connection through the locks and the shared-memory index, can look at the
 * file, it holds exactly what it would hold without this layer. The caller
 * must use synchronous=FULL, so that a WAL commit is synced (and what is
 * held written, its errors reported) before the WAL index publishes it; if
 * writing out held bytes ever fails where no error can be returned (the
 * shared-memory barrier), the file refuses every later call. */
#include "driver/sqlite_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#define VFS_NAME "dbb-combining"
/* The unix VFS writes at most 128 KiB - 1 bytes per call. */
#define HELD_MAX (128 * 1024 - 1)

struct cfile {
	sqlite3_file base;
	sqlite3_file *real; /* follows this struct in the same allocation */
	unsigned char *held;
	sqlite3_int64 held_off;
	int held_len;
	int broken; /* an error that could not be returned */
};

static sqlite3_vfs *real_vfs;
static sqlite3_vfs vfs;
static pthread_once_t register_once = PTHREAD_ONCE_INIT;
static bool registered;

static struct cfile *cf(sqlite3_file *f)
{
	return (struct cfile *)f;
}

static int write_out(struct cfile *f)
{
	if (f->broken)
		return f->broken;
	if (f->held_len == 0)
		return SQLITE_OK;
	int rc = f->real->pMethods->xWrite(f->real, f->held, f->held_len, f->held_off);
	f->held_len = 0;
	if (rc != SQLITE_OK)
		f->broken = rc;
	return rc;
}

#define WRITE_OUT(f)                                                                               \
	do {                                                                                       \
		int rc_ = write_out(cf(f));                                                        \
		if (rc_ != SQLITE_OK)                                                              \
			return rc_;                                                                \
	} while (0)

#define REAL(f) (cf(f)->real)

static int c_close(sqlite3_file *f)
{
	int rc = write_out(cf(f));
	int rc2 = REAL(f)->pMethods->xClose(REAL(f));
	free(cf(f)->held);
	cf(f)->held = NULL;
	return rc != SQLITE_OK ? rc : rc2;
}

static int c_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	WRITE_OUT(f);
	return REAL(f)->pMethods->xRead(REAL(f), buf, n, off);
}

static int c_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	struct cfile *c = cf(f);
	if (c->broken)
		return c->broken;
	if (c->held_len > 0 && off == c->held_off + c->held_len && c->held_len + n <= HELD_MAX) {
		memcpy(c->held + c->held_len, buf, (size_t)n);
		c->held_len += n;
		return SQLITE_OK;
	}
	WRITE_OUT(f);
	if (n > HELD_MAX / 2)
		return REAL(f)->pMethods->xWrite(REAL(f), buf, n, off);
	if (!c->held) {
		c->held = malloc(HELD_MAX);
		if (!c->held)
			return REAL(f)->pMethods->xWrite(REAL(f), buf, n, off);
	}
	memcpy(c->held, buf, (size_t)n);
	c->held_off = off;
	c->held_len = n;
	return SQLITE_OK;
}

static int c_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	WRITE_OUT(f);
	return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int c_sync(sqlite3_file *f, int flags)
{
	WRITE_OUT(f);
	return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int c_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	WRITE_OUT(f);
	return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int c_lock(sqlite3_file *f, int level)
{
	WRITE_OUT(f);
	return REAL(f)->pMethods->xLock(REAL(f), level);
}

static int c_unlock(sqlite3_file *f, int level)
{
	WRITE_OUT(f);
	return REAL(f)->pMethods->xUnlock(REAL(f), level);
}

static int c_check_reserved_lock(sqlite3_file *f, int *out)
{
	WRITE_OUT(f);
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int c_file_control(sqlite3_file *f, int op, void *arg)
{
	WRITE_OUT(f);
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int c_sector_size(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int c_device_characteristics(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int c_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **out)
{
	WRITE_OUT(f);
	return REAL(f)->pMethods->xShmMap(REAL(f), region, size, extend, out);
}

static int c_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	WRITE_OUT(f);
	return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}

static void c_shm_barrier(sqlite3_file *f)
{
	write_out(cf(f)); /* a failure leaves the file broken: see above */
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int c_shm_unmap(sqlite3_file *f, int delete_flag)
{
	WRITE_OUT(f);
	return REAL(f)->pMethods->xShmUnmap(REAL(f), delete_flag);
}

/* Version 2: shared memory for WAL, no memory-mapped pages (xFetch), which
 * the daemon's connections do not use. */
static const sqlite3_io_methods methods = {
    .iVersion = 2,
    .xClose = c_close,
    .xRead = c_read,
    .xWrite = c_write,
    .xTruncate = c_truncate,
    .xSync = c_sync,
    .xFileSize = c_file_size,
    .xLock = c_lock,
    .xUnlock = c_unlock,
    .xCheckReservedLock = c_check_reserved_lock,
    .xFileControl = c_file_control,
    .xSectorSize = c_sector_size,
    .xDeviceCharacteristics = c_device_characteristics,
    .xShmMap = c_shm_map,
    .xShmLock = c_shm_lock,
    .xShmBarrier = c_shm_barrier,
    .xShmUnmap = c_shm_unmap,
};

static int v_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
	struct cfile *c = cf(f);
	memset(c, 0, sizeof(*c));
	c->real = (sqlite3_file *)(c + 1);
	int rc = real_vfs->xOpen(real_vfs, name, c->real, flags, out_flags);
	/* SQLite closes a file whose pMethods is set even when xOpen failed */
	f->pMethods = c->real->pMethods ? &methods : NULL;
	return rc;
}

static int v_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
	return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int v_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
	return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int v_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
	return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static void *v_dl_open(sqlite3_vfs *v, const char *name)
{
	return real_vfs->xDlOpen(real_vfs, name);
}

static void v_dl_error(sqlite3_vfs *v, int n, char *out)
{
	real_vfs->xDlError(real_vfs, n, out);
}

static void (*v_dl_sym(sqlite3_vfs *v, void *handle, const char *symbol))(void)
{
	return real_vfs->xDlSym(real_vfs, handle, symbol);
}

static void v_dl_close(sqlite3_vfs *v, void *handle)
{
	real_vfs->xDlClose(real_vfs, handle);
}

static int v_randomness(sqlite3_vfs *v, int n, char *out)
{
	return real_vfs->xRandomness(real_vfs, n, out);
}

static int v_sleep(sqlite3_vfs *v, int us)
{
	return real_vfs->xSleep(real_vfs, us);
}

static int v_current_time(sqlite3_vfs *v, double *out)
{
	return real_vfs->xCurrentTime(real_vfs, out);
}

static int v_get_last_error(sqlite3_vfs *v, int n, char *out)
{
	return real_vfs->xGetLastError(real_vfs, n, out);
}

static int v_current_time_int64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static void register_vfs(void)
{
	real_vfs = sqlite3_vfs_find(NULL);
	if (!real_vfs || real_vfs->iVersion < 2 || !real_vfs->xCurrentTimeInt64 ||
	    !real_vfs->xDlOpen)
		return;
	vfs = (sqlite3_vfs){
	    .iVersion = 2,
	    .szOsFile = (int)sizeof(struct cfile) + real_vfs->szOsFile,
	    .mxPathname = real_vfs->mxPathname,
	    .zName = VFS_NAME,
	    .xOpen = v_open,
	    .xDelete = v_delete,
	    .xAccess = v_access,
	    .xFullPathname = v_full_pathname,
	    .xDlOpen = v_dl_open,
	    .xDlError = v_dl_error,
	    .xDlSym = v_dl_sym,
	    .xDlClose = v_dl_close,
	    .xRandomness = v_randomness,
	    .xSleep = v_sleep,
	    .xCurrentTime = v_current_time,
	    .xGetLastError = v_get_last_error,
	    .xCurrentTimeInt64 = v_current_time_int64,
	};
	registered = sqlite3_vfs_register(&vfs, 0) == SQLITE_OK;
}

const char *dbb_sqlite_vfs_combining(void)
{
	pthread_once(&register_once, register_vfs);
	return registered ? VFS_NAME : NULL;
}
