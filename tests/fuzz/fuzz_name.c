/* libFuzzer target: backup file-name validation (the whitelist every client
 * name passes before anything is opened). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dbbackupd/storage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = malloc(size + 1);
	if (!name)
		return 0;
	memcpy(name, data, size);
	name[size] = '\0';
	time_t t;
	bool valid = dbb_name_is_valid(name);
	bool has_ts = dbb_name_timestamp(name, &t);
	if (valid) {
		/* what the whitelist promises: nothing that can leave the directory */
		if (!has_ts || strchr(name, '/') || strstr(name, "..") || name[0] == '.' ||
		    strlen(name) >= DBB_NAME_MAX ||
		    (strncmp(name, "backup_", 7) != 0 && strncmp(name, "safety_backup_", 14) != 0))
			abort();
		for (const char *p = name; *p; p++)
			if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
				abort();
	}
	free(name);
	return 0;
}
