#!/usr/bin/env bash
# Builds a database from PostgreSQL's own regression suite: the server's
# src/test/regress/sql/*.sql run with psql in parallel_schedule order (one
# file after another), failures ignored. The SQL comes from the Debian source
# tarball of the installed server version, cached by version.
#
#   pg_regress_db.sh fetch          prints the directory holding sql/, data/
#                                   and parallel_schedule (downloads once)
#   pg_regress_db.sh build DBNAME   runs the suite in DBNAME (which must
#                                   exist) as the libpq role in PGHOST,
#                                   PGPORT, PGUSER, PGPASSWORD; psql's output
#                                   goes to $REGRESS_LOG (default /dev/null)
#
# Not a test by itself: tests/e2e/postgresql_regress.sh uses it.
set -euo pipefail
SVC_NAME=pg_regress_db
# shellcheck source=../services/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../services/common.sh"

# The upstream version of the installed server (15.18 from 15.18-0+deb12u1).
server_version() {
	local v bindir
	bindir=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
	v=$("$bindir/postgres" --version 2>/dev/null | sed -nE 's/.* ([0-9]+\.[0-9]+).*/\1/p')
	echo "${v:-15.18}"
}

# fetch: the regression directory of the installed version, or of 15.18
# (known to be in Debian's pool) when that version's tarball is not there.
fetch() {
	local v major dir url tmp
	ensure_commands curl:curl bzip2:bzip2
	for v in "$(server_version)" 15.18; do
		major=${v%%.*}
		dir=$CACHE_ROOT/pg-regress/$v
		if [ -f "$dir/parallel_schedule" ]; then
			echo "$dir"
			return 0
		fi
		url=http://deb.debian.org/debian/pool/main/p/postgresql-$major/postgresql-${major}_$v.orig.tar.bz2
		tmp=$(mktemp -d "${CACHE_ROOT}/pg-regress.XXXXXX" 2>/dev/null) || {
			mkdir -p "$CACHE_ROOT"
			tmp=$(mktemp -d "${CACHE_ROOT}/pg-regress.XXXXXX")
		}
		log "fetching $url"
		if curl -fsSL --retry 3 -o "$tmp/src.tar.bz2" "$url" &&
			tar -xjf "$tmp/src.tar.bz2" -C "$tmp" --wildcards \
				"postgresql-$v/src/test/regress/sql/*" \
				"postgresql-$v/src/test/regress/data/*" \
				"postgresql-$v/src/test/regress/parallel_schedule"; then
			mkdir -p "$(dirname "$dir")"
			# another build may have put it there meanwhile: keep theirs
			mv -T "$tmp/postgresql-$v/src/test/regress" "$dir" 2>/dev/null || true
			rm -rf "$tmp"
			echo "$dir"
			return 0
		fi
		rm -rf "$tmp"
		log "no regression suite for PostgreSQL $v at $url"
	done
	die "cannot fetch PostgreSQL's regression suite"
}

# The schedule's test names, in order ("test: a b c" lines).
schedule() {
	sed -nE 's/^test: *//p' "$1/parallel_schedule" | tr ' ' '\n' | grep .
}

# A test file with server-side COPY FROM/TO :'filename' turned into psql's
# \copy (a non-superuser may not read server files), paths spelled out.
rewrite() {
	local src=$1 builddir=$2 file=$3
	awk -v src="$src" -v bld="$builddir" '
		/^\\set filename :abs_srcdir / { f = $4; gsub("\047", "", f); fn = src f; print; next }
		/^\\set filename :abs_builddir / { f = $4; gsub("\047", "", f); fn = bld f; print; next }
		/^COPY .* (FROM|TO) :\047filename\047/ {
			line = $0; sub(/;[ \t]*$/, "", line)
			sub(/:\047filename\047/, "\047" fn "\047", line)
			print "\\copy " substr(line, 6); next
		}
		{ print }' "$file"
}

build() {
	local db=$1 dir work t start
	ensure_commands psql:postgresql-client timeout:coreutils
	dir=$(fetch)
	work=$(mktemp -d "${TMPDIR:-/tmp}/pg-regress-build.XXXXXX")
	mkdir -p "$work/results" "$work/sql"
	chmod -R a+rwx "$work"
	start=$(date +%s)
	for t in $(schedule "$dir"); do
		[ -f "$dir/sql/$t.sql" ] || continue
		rewrite "$dir" "$work" "$dir/sql/$t.sql" >"$work/sql/$t.sql"
		PG_ABS_SRCDIR=$dir PG_ABS_BUILDDIR=$work PG_LIBDIR=$work PG_DLSUFFIX=.so \
			PGTZ=PST8PDT PGDATESTYLE='Postgres, MDY' PGDATABASE=$db \
			timeout 300 psql -X -a -q -f "$work/sql/$t.sql" >>"${REGRESS_LOG:-/dev/null}" 2>&1 ||
			log "$t: psql exited with status $? (ignored)"
	done
	log "built $db in $(($(date +%s) - start)) s"
	rm -rf "$work"
}

case "${1:-}" in
fetch) fetch ;;
build) build "$2" ;;
*)
	echo "usage: pg_regress_db.sh fetch | build DBNAME" >&2
	exit 2
	;;
esac
