/* The scratch database of a verification (issue 20, driver.h): the target's
 * settings pointed at VERIFY_DB_NAME (and VERIFY_DB_HOST/PORT/USER/PASSWORD
 * where set), never at the live database. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbbackupd/driver.h"

dbb_code dbb_verify_config(const struct dbb_config *cfg, struct dbb_config **out,
                           struct dbb_error *err)
{
	*out = NULL;
	if (!cfg->verify_db_name[0])
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "VERIFY_DB_NAME is empty: a verification "
		                "needs a scratch database of its own");
	if (cfg->verify_db_name[0] == '-' || cfg->verify_db_user[0] == '-' ||
	    cfg->verify_db_host[0] == '-')
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "VERIFY_DB_NAME, VERIFY_DB_USER and VERIFY_DB_HOST must not start "
		                "with '-'");
	bool same_host = !cfg->verify_db_host[0] || strcmp(cfg->verify_db_host, cfg->db_host) == 0;
	bool same_port = !cfg->verify_db_port || cfg->verify_db_port == cfg->db_port;
	if (same_host && same_port && strcmp(cfg->verify_db_name, cfg->db_name) == 0)
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "VERIFY_DB_NAME is the live database (%s) on the same server: a "
		                "verification creates and drops it, so it must name another one",
		                cfg->db_name);
	struct dbb_config *c = malloc(sizeof(*c));
	if (!c)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	memcpy(c, cfg, sizeof(*c));
	snprintf(c->db_name, sizeof(c->db_name), "%s", cfg->verify_db_name);
	if (cfg->verify_db_host[0])
		snprintf(c->db_host, sizeof(c->db_host), "%s", cfg->verify_db_host);
	if (cfg->verify_db_port)
		c->db_port = cfg->verify_db_port;
	if (cfg->verify_db_user[0]) {
		snprintf(c->db_user, sizeof(c->db_user), "%s", cfg->verify_db_user);
		/* another user: its own password, never the live one's */
		snprintf(c->db_password, sizeof(c->db_password), "%s", cfg->verify_db_password);
	} else if (cfg->verify_db_password[0]) {
		snprintf(c->db_password, sizeof(c->db_password), "%s", cfg->verify_db_password);
	}
	*out = c;
	return DBB_OK;
}

void dbb_verify_config_free(struct dbb_config *c)
{
	if (!c)
		return;
	explicit_bzero(c->db_password, sizeof(c->db_password));
	explicit_bzero(c->verify_db_password, sizeof(c->verify_db_password));
	free(c);
}
