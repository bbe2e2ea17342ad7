/* The one table of error codes: HTTP status and stable machine name. */
#include "dbbackupd/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
	unsigned status;
	const char *name;
} code_table[DBB_CODE_COUNT] = {
    [DBB_OK] = {200, "ok"},
    [DBB_ERR_BAD_REQUEST] = {400, "bad_request"},
    [DBB_ERR_INVALID_FILENAME] = {400, "invalid_filename"},
    [DBB_ERR_INVALID_PARAMETER] = {400, "invalid_parameter"},
    [DBB_ERR_UNAUTHORIZED] = {401, "unauthorized"},
    [DBB_ERR_INVALID_TOKEN] = {401, "invalid_token"},
    [DBB_ERR_FORBIDDEN] = {403, "forbidden"},
    [DBB_ERR_NOT_FOUND] = {404, "not_found"},
    [DBB_ERR_UNKNOWN_TARGET] = {404, "unknown_target"},
    [DBB_ERR_UNKNOWN_JOB] = {404, "unknown_job"},
    [DBB_ERR_METHOD_NOT_ALLOWED] = {405, "method_not_allowed"},
    [DBB_ERR_BUSY] = {409, "operation_in_progress"},
    [DBB_ERR_EXISTS] = {409, "already_exists"},
    [DBB_ERR_RESTORE_CONFLICT] = {409, "restore_conflict"},
    [DBB_ERR_OFFSITE_OFF] = {409, "offsite_not_configured"},
    [DBB_ERR_JOB_FINISHED] = {409, "job_finished"},
    [DBB_ERR_CANCELLED] = {409, "cancelled"},
    [DBB_ERR_PAYLOAD_TOO_LARGE] = {413, "payload_too_large"},
    [DBB_ERR_UNSUPPORTED_MEDIA] = {415, "unsupported_media_type"},
    [DBB_ERR_RANGE] = {416, "range_not_satisfiable"},
    [DBB_ERR_INVALID_BACKUP] = {422, "invalid_backup"},
    [DBB_ERR_VERIFY_FAILED] = {422, "verify_failed"},
    [DBB_ERR_BACKUP_FAILED] = {500, "backup_failed"},
    [DBB_ERR_RESTORE_FAILED] = {500, "restore_failed"},
    [DBB_ERR_INTERNAL] = {500, "internal_error"},
    [DBB_ERR_NOT_IMPLEMENTED] = {501, "not_implemented"},
    [DBB_ERR_DB_UNAVAILABLE] = {503, "database_unavailable"},
    [DBB_ERR_AUTH_UNAVAILABLE] = {503, "auth_unavailable"},
    [DBB_ERR_SHUTTING_DOWN] = {503, "shutting_down"},
    [DBB_ERR_OFFSITE_DOWN] = {503, "offsite_unavailable"},
    [DBB_ERR_NO_SPACE] = {507, "insufficient_storage"},
    [DBB_ERR_CONFIG] = {500, "configuration_error"},
};

unsigned dbb_code_http_status(dbb_code code)
{
	if ((unsigned)code >= DBB_CODE_COUNT)
		return 500;
	return code_table[code].status;
}

const char *dbb_code_name(dbb_code code)
{
	if ((unsigned)code >= DBB_CODE_COUNT)
		return "internal_error";
	return code_table[code].name;
}

dbb_code dbb_fail(struct dbb_error *err, dbb_code code, const char *fmt, ...)
{
	if (err) {
		/* formatted apart: an argument may point into err->message */
		char msg[sizeof(err->message)];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		err->code = code;
		memcpy(err->message, msg, sizeof(msg));
	}
	return code;
}

dbb_code dbb_fail_errno(struct dbb_error *err, int errnum, dbb_code fallback, const char *fmt, ...)
{
	dbb_code code = (errnum == ENOSPC || errnum == EDQUOT) ? DBB_ERR_NO_SPACE : fallback;
	if (err) {
		/* formatted apart: an argument may point into err->message */
		char msg[sizeof(err->message)];
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < sizeof(msg))
			snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(errnum));
		err->code = code;
		memcpy(err->message, msg, sizeof(msg));
	}
	return code;
}

dbb_code dbb_error_recode(struct dbb_error *err, dbb_code code)
{
	if (err)
		err->code = code;
	return code;
}

void dbb_error_prefix(struct dbb_error *err, const char *fmt, ...)
{
	if (!err)
		return;
	char prefix[256];
	char old[DBB_ERROR_MESSAGE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->message, sizeof(old));
	size_t n = strlen(prefix);
	if (n > sizeof(err->message) - 3)
		n = sizeof(err->message) - 3;
	memcpy(err->message, prefix, n);
	memcpy(err->message + n, ": ", 2);
	size_t room = sizeof(err->message) - n - 2;
	size_t ol = strnlen(old, room - 1);
	memcpy(err->message + n + 2, old, ol);
	err->message[n + 2 + ol] = '\0';
}

void dbb_error_clear(struct dbb_error *err)
{
	if (err) {
		err->code = DBB_OK;
		err->message[0] = '\0';
	}
}
