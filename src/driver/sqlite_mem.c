/* SQLite's allocator with a budget for the connections that read untrusted
 * files: SQLite's own hard heap limit is process-wide, so a hostile file
 * would make the live database's connections fail too; this one charges
 * only the allocations made inside an "untrusted" section of a thread. */
#include "driver/sqlite_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include <sqlite3.h>

/* Every block carries a header with what it was charged (0: nothing), so a
 * block is uncharged correctly whichever thread frees it. 16 bytes keep
 * malloc's alignment. */
#define HDR 16
struct hdr {
	int64_t charged;
	int64_t unused;
};

static sqlite3_mem_methods base;
static _Atomic int64_t charged;
static _Atomic int64_t charged_peak;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static bool installed;

static _Thread_local int64_t untrusted_budget; /* 0: outside a section */
static _Thread_local bool untrusted_refused;

static struct hdr *hdr_of(void *p)
{
	return (struct hdr *)((unsigned char *)p - HDR);
}

/* Charges n bytes; false (nothing charged) if that would pass the budget. */
static bool charge(int64_t n)
{
	if (n <= 0)
		return true;
	int64_t now = atomic_fetch_add(&charged, n) + n;
	if (untrusted_budget > 0 && now > untrusted_budget) {
		atomic_fetch_sub(&charged, n);
		untrusted_refused = true;
		return false;
	}
	int64_t peak = atomic_load(&charged_peak);
	while (now > peak && !atomic_compare_exchange_weak(&charged_peak, &peak, now))
		;
	return true;
}

static void *acct_malloc(int n)
{
	int64_t c = untrusted_budget > 0 ? (int64_t)n + DBB_SQLITE_MEM_OVERHEAD : 0;
	if (!charge(c))
		return NULL;
	struct hdr *h = base.xMalloc(n + HDR);
	if (!h) {
		atomic_fetch_sub(&charged, c);
		return NULL;
	}
	h->charged = c;
	return (unsigned char *)h + HDR;
}

static void acct_free(void *p)
{
	if (!p)
		return;
	struct hdr *h = hdr_of(p);
	if (h->charged)
		atomic_fetch_sub(&charged, h->charged);
	base.xFree(h);
}

static void *acct_realloc(void *p, int n)
{
	struct hdr *h = hdr_of(p);
	int64_t old = h->charged;
	int64_t c = (old || untrusted_budget > 0) ? (int64_t)n + DBB_SQLITE_MEM_OVERHEAD : 0;
	if (c > old && !charge(c - old))
		return NULL;
	struct hdr *nh = base.xRealloc(h, n + HDR);
	if (!nh) {
		if (c > old)
			atomic_fetch_sub(&charged, c - old);
		return NULL;
	}
	if (c < old)
		atomic_fetch_sub(&charged, old - c);
	nh->charged = c;
	return (unsigned char *)nh + HDR;
}

static int acct_size(void *p)
{
	return p ? base.xSize(hdr_of(p)) - HDR : 0;
}

static int acct_roundup(int n)
{
	return base.xRoundup(n + HDR) - HDR;
}

static int acct_init(void *app)
{
	return base.xInit(base.pAppData);
}

static void acct_shutdown(void *app)
{
	base.xShutdown(base.pAppData);
}

static void install(void)
{
	static const sqlite3_mem_methods acct = {
	    acct_malloc,  acct_free, acct_realloc,  acct_size,
	    acct_roundup, acct_init, acct_shutdown, NULL,
	};
	if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &base) != SQLITE_OK)
		return;
	installed = sqlite3_config(SQLITE_CONFIG_MALLOC, &acct) == SQLITE_OK;
}

bool dbb_sqlite_mem_install(void)
{
	pthread_once(&install_once, install);
	return installed;
}

void dbb_sqlite_mem_untrusted_begin(int64_t budget)
{
	/* whatever SQLite initialises lazily is not the file's doing */
	sqlite3_initialize();
	untrusted_budget = budget > 0 ? budget : 1;
	untrusted_refused = false;
}

bool dbb_sqlite_mem_untrusted_end(void)
{
	untrusted_budget = 0;
	return untrusted_refused;
}

int64_t dbb_sqlite_mem_charged(void)
{
	return atomic_load(&charged);
}

int64_t dbb_sqlite_mem_charged_peak(void)
{
	return atomic_load(&charged_peak);
}
