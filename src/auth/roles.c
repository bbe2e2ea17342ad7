/* The role names of the role matrix, one table. */
#include <stdio.h>
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

void dbb_principal_add_role(struct dbb_principal *who, const char *role)
{
	char base[16];
	const char *colon = role ? strchr(role, ':') : NULL;
	if (!role)
		return;
	if (!colon) {
		enum dbb_role r = dbb_role_parse(role);
		if (r > who->role)
			who->role = r;
		return;
	}
	if ((size_t)(colon - role) >= sizeof(base) || !dbb_target_name_is_valid(colon + 1))
		return;
	snprintf(base, sizeof(base), "%.*s", (int)(colon - role), role);
	enum dbb_role r = dbb_role_parse(base);
	if (r == DBB_ROLE_NONE)
		return;
	for (unsigned i = 0; i < who->nscoped; i++)
		if (strcmp(who->scoped[i].target, colon + 1) == 0) {
			if (r > who->scoped[i].role)
				who->scoped[i].role = r;
			return;
		}
	if (who->nscoped == DBB_SCOPED_ROLES_MAX)
		return;
	snprintf(who->scoped[who->nscoped].target, sizeof(who->scoped[0].target), "%s", colon + 1);
	who->scoped[who->nscoped].role = r;
	who->nscoped++;
}

enum dbb_role dbb_principal_role(const struct dbb_principal *who, const char *target)
{
	enum dbb_role r = who->role;
	for (unsigned i = 0; target && i < who->nscoped; i++)
		if (strcmp(who->scoped[i].target, target) == 0 && who->scoped[i].role > r)
			r = who->scoped[i].role;
	return r;
}

enum dbb_role dbb_principal_role_any(const struct dbb_principal *who)
{
	enum dbb_role r = who->role;
	for (unsigned i = 0; i < who->nscoped; i++)
		if (who->scoped[i].role > r)
			r = who->scoped[i].role;
	return r;
}
