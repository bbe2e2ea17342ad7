#!/usr/bin/env bash
# Promise (issue 14 item 12): a child tool (pg_dump, psql, mariadb-dump,
# mariadb) gets only the base environment of include/dbbackupd/child.h
# (PATH, HOME, LANG, LANGUAGE, LC_*, TZ, TMPDIR), the driver's own variables
# (PostgreSQL: PGPASSWORD, PGCONNECT_TIMEOUT, PGAPPNAME, psql's
# PGCLIENTENCODING=UTF8 and PGOPTIONS=standard_conforming_strings, and libpq's
# non-secret connection settings such as PGSSLMODE) and nothing else: no
# DB_PASSWORD (MySQL/MariaDB: the password is nowhere in the environment,
# it is in a 0600 option file), no NEO4J_PASSWORD, METRICS_TOKEN, S3 or
# Keycloak secret, no other variable the daemon was started with. Read from
# /proc/<pid>/environ of every child of the daemon while a backup and a
# restore run.
# Usage: security_child_env.sh DRIVER (postgresql, mysql)
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/fault_lib.sh"
e2e_init
fdb_init "${1:-${FAULT_DB:-postgresql}}"
if [ ${#FDB_TOOLS[@]} -eq 0 ]; then
	echo "FAIL - security_child_env: $FDB runs no child tool" >&2
	exit 1
fi
: "${DB_PASSWORD:?the service gives a password}"

canaries=(NEO4J_PASSWORD=neo4j-canary-a1 METRICS_TOKEN=metrics-canary-0123456789
	AWS_SECRET_ACCESS_KEY=s3-canary-b2 S3_SECRET_KEY=s3-canary-c3
	KEYCLOAK_CLIENT_SECRET=kc-canary-d4 CRON_CLIENT_SECRET=cron-canary-e5
	MYSQL_PWD=mysql-canary-f6 DBB_UNRELATED=plain-canary-g7)
base_names='PATH HOME LANG LANGUAGE TZ TMPDIR'
case "$FDB" in
postgresql)
	# what the driver sets (env_extra) and passes on (env_pass)
	driver_names='PGPASSWORD PGCONNECT_TIMEOUT PGAPPNAME PGCLIENTENCODING PGOPTIONS PGSSLMODE PGSSLROOTCERT PGSSLCERT
		PGSSLKEY PGSSLCRL PGSSLCRLDIR PGSSLSNI PGREQUIRESSL PGSSLMINPROTOCOLVERSION
		PGSSLMAXPROTOCOLVERSION PGGSSENCMODE PGKRBSRVNAME PGGSSLIB PGREQUIREAUTH
		PGCHANNELBINDING PGSERVICE PGSERVICEFILE PGSYSCONFDIR PGPASSFILE
		PGTARGETSESSIONATTRS PGLOADBALANCEHOSTS'
	passed=PGSSLMODE=prefer # a libpq setting the tools must still get
	# Debian's pg_wrapper (/usr/bin/pg_dump, psql) picks the client version
	# and execs it with PGCLUSTER and, from the cluster's configuration,
	# PGHOST/PGPORT: added after the daemon handed over, not secrets (the
	# canary and password checks below still apply to them). Seen or not
	# depending on when a child is sampled.
	case "$(readlink -f "$(command -v pg_dump)")" in
	*/pg_wrapper) driver_names="$driver_names PGCLUSTER PGHOST PGPORT" ;;
	esac
	;;
mysql)
	driver_names=''
	passed=''
	;;
esac

fdb_grow 4
fault_start "${canaries[@]}" ${passed:+"$passed"} LC_MESSAGES=C TZ=UTC
exe=$(readlink "/proc/$DAEMON_PID/exe")

# sample_children OUTDIR: while the request in the background runs, copies
# the environment of every child of the daemon that has exec'd its tool (a
# child between posix_spawn and exec still shares the daemon's memory).
sample_children() {
	local out=$1 cpid=$2 pid n=0
	mkdir -p "$out"
	while kill -0 "$cpid" 2>/dev/null; do
		for pid in $(pgrep -P "$DAEMON_PID"); do
			[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" != "$exe" ] || continue
			[ -e "$out/$pid" ] && continue
			# (a child that ended between the two reads has no command line
			# left to say what it was, and one read in the middle of an
			# execve (pg_wrapper exec'ing the versioned tool) shows an empty
			# environment for a moment: such samples are dropped; every
			# child the daemon starts has PATH at least)
			cat "/proc/$pid/environ" >"$out/$pid.tmp" 2>/dev/null &&
				[ -s "$out/$pid.tmp" ] &&
				tr '\0' ' ' <"/proc/$pid/cmdline" >"$out/$pid.cmd" 2>/dev/null &&
				[ -s "$out/$pid.cmd" ] &&
				mv "$out/$pid.tmp" "$out/$pid" && n=$((n + 1))
			rm -f "$out/$pid.tmp"
		done
		sleep 0.02
	done
}

# check_environs OUTDIR TOOL: every sampled environment holds only allowed
# names and no secret; at least one is TOOL's.
check_environs() {
	local out=$1 tool=$2 f seen=0 bad=0 name entry
	for f in "$out"/[0-9]*; do
		[ -e "$f" ] || continue
		case "$f" in *.cmd) continue ;; esac
		grep -q -- "$tool" "$f.cmd" && seen=1
		while IFS= read -r -d '' entry; do
			name=${entry%%=*}
			case " $base_names $driver_names " in
			*" $name "*) ;;
			*)
				case "$name" in
				LC_?*) ;;
				*)
					echo "  $(cut -d' ' -f1 "$f.cmd"): unexpected variable $name" >&2
					bad=1
					;;
				esac
				;;
			esac
			if [ "$FDB" = mysql ] || [ "$name" != PGPASSWORD ]; then
				if grep -qF -- "$DB_PASSWORD" <<<"$entry"; then
					echo "  $(cut -d" " -f1 "$f.cmd"): DB_PASSWORD's value in $name" >&2
					bad=1
				fi
			fi
		done <"$f"
		for c in "${canaries[@]}"; do
			if grep -qaF -- "${c#*=}" "$f"; then
				echo "  $(cut -d" " -f1 "$f.cmd"): ${c%%=*} reached it" >&2
				bad=1
			fi
		done
		if grep -qa '^DB_PASSWORD=' <(tr '\0' '\n' <"$f"); then
			echo "  $(cut -d" " -f1 "$f.cmd"): DB_PASSWORD reached it" >&2
			bad=1
		fi
		# (`TOOL --version` connects nowhere: the driver passes it nothing)
		if [ -n "$passed" ] && ! grep -q -- ' --version' "$f.cmd" &&
			! grep -qaxF -- "$passed" <(tr '\0' '\n' <"$f"); then
			echo "  $(cut -d" " -f1 "$f.cmd"): $passed did not reach it" >&2
			bad=1
		fi
		if ! grep -qax 'TZ=UTC' <(tr '\0' '\n' <"$f") || ! grep -qax 'LC_MESSAGES=C' <(tr '\0' '\n' <"$f"); then
			echo "  $(cut -d" " -f1 "$f.cmd"): the base environment (TZ, LC_*) did not reach it" >&2
			bad=1
		fi
	done
	check "$tool was seen running ($(ls "$out" | grep -vc cmd) environment(s) sampled)" test $seen -eq 1
	check "$tool and the other children had only the listed variables and no secret" test $bad -eq 0
}

atok=$(token admin)
curl -s -o "$WORK/dump.json" -X POST -H "Authorization: Bearer $atok" "$BASE/backup/create" &
cpid=$!
sample_children "$WORK/env-dump" $cpid
wait $cpid
succeeded() { jq -e '.success == true' "$1" >/dev/null; }
check "the backup succeeded" succeeded "$WORK/dump.json"
good=$(jq -r .filename "$WORK/dump.json")
check_environs "$WORK/env-dump" "${FDB_TOOLS[0]}"

curl -s -o "$WORK/restore.json" -X POST -H "Authorization: Bearer $atok" \
	"$BASE/backup/restore/$good?create_safety_backup=false" &
cpid=$!
sample_children "$WORK/env-restore" $cpid
wait $cpid
check "the restore succeeded" succeeded "$WORK/restore.json"
check_environs "$WORK/env-restore" "${FDB_TOOLS[1]}"
check_backups_sound
e2e_done
