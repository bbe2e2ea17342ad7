/* Errors as values: one table of codes, each with its HTTP status and a
 * stable machine-readable name, plus a human message filled by the failing
 * function. Nothing here is global or thread-local. */
#ifndef DBBACKUPD_ERROR_H
#define DBBACKUPD_ERROR_H

#include <stddef.h>

typedef enum dbb_code {
	DBB_OK = 0,
	DBB_ERR_BAD_REQUEST,        /* 400 bad_request */
	DBB_ERR_INVALID_FILENAME,   /* 400 invalid_filename */
	DBB_ERR_INVALID_PARAMETER,  /* 400 invalid_parameter */
	DBB_ERR_UNAUTHORIZED,       /* 401 unauthorized (no token) */
	DBB_ERR_INVALID_TOKEN,      /* 401 invalid_token */
	DBB_ERR_FORBIDDEN,          /* 403 forbidden */
	DBB_ERR_NOT_FOUND,          /* 404 not_found */
	DBB_ERR_UNKNOWN_TARGET,     /* 404 unknown_target (?target=, /targets/NAME/) */
	DBB_ERR_UNKNOWN_JOB,        /* 404 unknown_job (issue 20) */
	DBB_ERR_METHOD_NOT_ALLOWED, /* 405 method_not_allowed */
	DBB_ERR_BUSY,               /* 409 operation_in_progress */
	DBB_ERR_EXISTS,             /* 409 already_exists */
	DBB_ERR_RESTORE_CONFLICT,   /* 409 restore_conflict */
	DBB_ERR_OFFSITE_OFF,        /* 409 offsite_not_configured (issue 18) */
	DBB_ERR_JOB_FINISHED,       /* 409 job_finished: cancel of an ended job (issue 20) */
	DBB_ERR_CANCELLED,          /* 409 cancelled: the job was cancelled (issue 20) */
	DBB_ERR_PAYLOAD_TOO_LARGE,  /* 413 payload_too_large */
	DBB_ERR_UNSUPPORTED_MEDIA,  /* 415 unsupported_media_type */
	DBB_ERR_RANGE,              /* 416 range_not_satisfiable */
	DBB_ERR_INVALID_BACKUP,     /* 422 invalid_backup */
	DBB_ERR_VERIFY_FAILED,      /* 422 verify_failed (issue 20: a test-restore failed) */
	DBB_ERR_BACKUP_FAILED,      /* 500 backup_failed */
	DBB_ERR_RESTORE_FAILED,     /* 500 restore_failed */
	DBB_ERR_INTERNAL,           /* 500 internal_error */
	DBB_ERR_NOT_IMPLEMENTED,    /* 501 not_implemented (issue 20: no test-restore) */
	DBB_ERR_DB_UNAVAILABLE,     /* 503 database_unavailable */
	DBB_ERR_AUTH_UNAVAILABLE,   /* 503 auth_unavailable */
	DBB_ERR_SHUTTING_DOWN,      /* 503 shutting_down */
	DBB_ERR_OFFSITE_DOWN,       /* 503 offsite_unavailable (issue 18) */
	DBB_ERR_NO_SPACE,           /* 507 insufficient_storage */
	DBB_ERR_CONFIG,             /* config error (start-up only) */
	DBB_CODE_COUNT
} dbb_code;

#define DBB_ERROR_MESSAGE_MAX 1024

struct dbb_error {
	dbb_code code;
	char message[DBB_ERROR_MESSAGE_MAX];
};

/* Sets err (if non-NULL) to code and the printf-style message; returns code
 * so callers can write `return dbb_fail(err, CODE, "...")`. The message is
 * formatted apart and then copied, so an argument may point into
 * err->message itself; but to change an error's code keep its message with
 * dbb_error_recode() (and dbb_error_prefix() to add words), never
 * `dbb_fail(err, X, "%s", err->message)`: tests/lint.sh refuses that. */
dbb_code dbb_fail(struct dbb_error *err, dbb_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like dbb_fail, for a failed system call: ENOSPC/EDQUOT become
 * DBB_ERR_NO_SPACE, anything else `fallback`; strerror(errnum) is appended. */
dbb_code dbb_fail_errno(struct dbb_error *err, int errnum, dbb_code fallback, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Changes an error's code, keeping its message; returns the new code (also
 * when err is NULL), so callers can write `rc = dbb_error_recode(err, X)`. */
dbb_code dbb_error_recode(struct dbb_error *err, dbb_code code);

/* Prepends "prefix: " to an error's message, keeping its code. */
void dbb_error_prefix(struct dbb_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void dbb_error_clear(struct dbb_error *err);

unsigned dbb_code_http_status(dbb_code code);
const char *dbb_code_name(dbb_code code);

#endif
