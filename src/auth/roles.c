/* The role names of the role matrix, one table. */
#include <string.h>

#include "dbbackupd/auth.h"

static const char *const role_names[] = {
    [DBB_ROLE_NONE] = "none",
    [DBB_ROLE_VIEWER] = "viewer",
    [DBB_ROLE_OPERATOR] = "operator",
    [DBB_ROLE_ADMIN] = "admin",
};

const char *dbb_role_name(enum dbb_role r)
{
	if ((unsigned)r < sizeof(role_names) / sizeof(role_names[0]))
		return role_names[r];
	return "none";
}

enum dbb_role dbb_role_parse(const char *s)
{
	if (!s)
		return DBB_ROLE_NONE;
	for (unsigned r = DBB_ROLE_VIEWER; r < sizeof(role_names) / sizeof(role_names[0]); r++)
		if (strcmp(s, role_names[r]) == 0)
			return (enum dbb_role)r;
	return DBB_ROLE_NONE;
}
