#!/usr/bin/env bash
# MySQL/MariaDB benchmark: daemon create vs `mariadb-dump | gzip -6` (and
# `| pigz -6`), daemon in-place restore (POST /backup/restore, which checks
# the whole file, cleans the database and restores it) without and with a
# safety backup vs `gunzip -c | mariadb` into an empty database, on a
# database of ROWS rows (default 1,000,000 in two tables). The restores run
# RUNS times in turn (native, daemon, daemon + safety backup; the order
# turns from round to round); each ratio is taken within a round and the
# median is printed, with the load average. zstd (issue 15): daemon create
# with compress=zstd vs `mariadb-dump | zstd -3 -T0` and `| gzip -6`, and the
# restore of that .zst vs `zstd -dc | mariadb`, RUNS times in turn,
# and where the daemon's time went (its log). Prints the daemon's peak RSS.
# Needs a built daemon (DBBACKUPD, default build/dbbackupd); starts its own
# MariaDB with tests/services/mysql.sh under a private state dir unless
# DB_HOST/DB_PORT/DB_NAME/DB_USER/DB_PASSWORD are already set.
#
#   tests/bench/mysql.sh            ROWS=3900000 RUNS=5 tests/bench/mysql.sh
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
export DBB_SOURCE_DIR=${DBB_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
export DBBACKUPD=${DBBACKUPD:-$DBB_SOURCE_DIR/build/dbbackupd}
ROWS=${ROWS:-1000000}
RUNS=${RUNS:-3}
[ -x "$DBBACKUPD" ] || { echo "bench: build the daemon first ($DBBACKUPD)" >&2; exit 1; }

. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
own_server=false
if [ -z "${DB_HOST:-}" ]; then
	export DBB_SERVICE_STATE="$WORK/svc"
	bash "$DBB_SOURCE_DIR/tests/services/mysql.sh" start >"$WORK/svc.env" || exit 1
	. "$WORK/svc.env"
	own_server=true
fi
# The server's state lives under $WORK: stop it before e2e_cleanup removes it.
stop_all() {
	if $own_server; then bash "$DBB_SOURCE_DIR/tests/services/mysql.sh" stop >/dev/null 2>&1; fi
	e2e_cleanup
}
trap stop_all EXIT
. "$DBB_SOURCE_DIR/tests/e2e/mysql_lib.sh"

now() { date +%s.%N; }
elapsed() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.3f", a - b }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
# last "<what> ... in <seconds>s" figure of the daemon's log
phase() { grep -E "$1" "$DAEMON_LOG" | tail -n 1 | sed -E 's/.* in ([0-9.]+)s.*/\1/'; }
my_flags=(--no-defaults -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER" --default-character-set=utf8mb4)
export MYSQL_PWD="$DB_PASSWORD"

echo "bench: loading $ROWS rows..." >&2
my_reset
big=$((ROWS * 4 / 5))
small=$((ROWS - big))
my_sql "CREATE TABLE events (id BIGINT PRIMARY KEY, kind VARCHAR(20) NOT NULL,
		amount DECIMAL(12,2) NOT NULL, at DATETIME NOT NULL, payload VARCHAR(120), KEY (kind))
		ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
	CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(60) NOT NULL, email VARCHAR(120),
		bio TEXT, avatar VARBINARY(64)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
	INSERT INTO events SELECT seq, ELT(1 + seq % 5, 'click', 'view', 'buy', 'login', 'logout'),
		(seq * 7919 % 100000) / 100, '2024-01-01' + INTERVAL (seq * 37) SECOND,
		CONCAT(MD5(seq), ' ', SHA1(seq)) FROM seq_1_to_$big;
	INSERT INTO users SELECT seq, CONCAT('user ', seq, ' 😀'), CONCAT('u', seq, '@example.com'),
		REPEAT(CONCAT(MD5(seq), ' lorem ipsum '), 3), UNHEX(SHA2(seq, 256)) FROM seq_1_to_$small;" ||
	exit 1
rows=$(my_sql "SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM users)")
echo "bench: $rows rows" >&2

e2e_start DB_TYPE=mysql
dump=$(my_dumper)
client=$(my_client)
flags=(--single-transaction --routines --triggers --events --hex-blob --no-tablespaces)

# Warm the caches once so the first timed run is not penalised.
"$dump" "${my_flags[@]}" "${flags[@]}" "$DB_NAME" >/dev/null

load_create=$(load)
t=$(now)
"$dump" "${my_flags[@]}" "${flags[@]}" "$DB_NAME" | gzip -6 >"$WORK/native.sql.gz"
native_gzip=$(elapsed "$t")
pigz_time=""
if command -v pigz >/dev/null; then
	t=$(now)
	"$dump" "${my_flags[@]}" "${flags[@]}" "$DB_NAME" | pigz -6 >"$WORK/native-pigz.sql.gz"
	pigz_time=$(elapsed "$t")
fi

t=$(now)
api POST "/backup/create?compress=true" operator
daemon_create=$(elapsed "$t")
[ "$STATUS" = 200 ] || { echo "bench: create failed: $(cat "$BODY")" >&2; exit 1; }
name=$(jq -r .filename "$BODY")

t=$(now)
"$dump" "${my_flags[@]}" "${flags[@]}" "$DB_NAME" | zstd -q -3 -T0 >"$WORK/native.sql.zst"
native_zstd=$(elapsed "$t")
sleep 1 # backup names have a one-second resolution
t=$(now)
api POST "/backup/create?compress=zstd" operator
daemon_zstd=$(elapsed "$t")
[ "$STATUS" = 200 ] || { echo "bench: zstd create failed: $(cat "$BODY")" >&2; exit 1; }
zname=$(jq -r .filename "$BODY")

load_restore_start=$(load)
native_t=() plain_t=() safety_t=() plain_r=() safety_r=()
# Each restore leaves the server busy for a while (flushing, purge), which
# slows the next one: the order of the three turns from round to round.
run_native() {
	my_reset || exit 1
	local t
	t=$(now)
	gunzip -c "$WORK/native.sql.gz" | "$client" "${my_flags[@]}" "$DB_NAME" || exit 1
	n=$(elapsed "$t")
}
run_plain() {
	local t
	t=$(now)
	api POST "/backup/restore/$name?create_safety_backup=false" operator
	p=$(elapsed "$t")
	[ "$STATUS" = 200 ] || { echo "bench: restore failed: $(cat "$BODY")" >&2; exit 1; }
	check_s=$(phase 'mysql: checked the dump') clean_s=$(phase 'mysql: cleaned') client_s=$(phase 'restored the dump')
}
run_safety() {
	local t
	t=$(now)
	api POST "/backup/restore/$name?create_safety_backup=true" operator
	w=$(elapsed "$t")
	[ "$STATUS" = 200 ] || { echo "bench: restore failed: $(cat "$BODY")" >&2; exit 1; }
	# the safety backup: from the restore's start to the safety backup,
	# less the check (the log's timestamps are to the second)
	safety_s=$(awk -v a="$(date -d "$(grep 'started (safety backup: yes)' "$DAEMON_LOG" | tail -n 1 | cut -d' ' -f1)" +%s)" \
		-v b="$(date -d "$(grep 'written before restoring' "$DAEMON_LOG" | tail -n 1 | cut -d' ' -f1)" +%s)" \
		-v c="$(phase 'mysql: checked the dump')" 'BEGIN { printf "%.0f", b - a - c }')
	safety_client_s=$(phase 'restored the dump')
	rm -f "$WORK/backups"/safety_backup_*
}
orders=("native plain safety" "plain safety native" "safety native plain")
for round in $(seq 1 "$RUNS"); do
	order=${orders[$(((round - 1) % 3))]}
	echo "bench: restore round $round of $RUNS ($order; load $(load))" >&2
	for what in $order; do
		"run_$what"
	done
	native_t+=("$n") plain_t+=("$p") safety_t+=("$w")
	plain_r+=("$(ratio "$p" "$n")") safety_r+=("$(ratio "$w" "$n")")
	echo "bench:   native $n s, daemon $p s (check $check_s, clean $clean_s, client $client_s), with safety backup $w s (safety backup $safety_s, client $safety_client_s)" >&2
done
# zstd restores: native and daemon in turn, ratio within a round
zn_t=() zd_t=() z_r=()
for round in $(seq 1 "$RUNS"); do
	my_reset || exit 1
	t=$(now)
	zstd -q -dc "$WORK/native.sql.zst" | "$client" "${my_flags[@]}" "$DB_NAME" || exit 1
	zn=$(elapsed "$t")
	t=$(now)
	api POST "/backup/restore/$zname?create_safety_backup=false" operator
	zd=$(elapsed "$t")
	[ "$STATUS" = 200 ] || { echo "bench: zstd restore failed: $(cat "$BODY")" >&2; exit 1; }
	zn_t+=("$zn") zd_t+=("$zd") z_r+=("$(ratio "$zd" "$zn")")
	echo "bench: zstd round $round: native $zn s, daemon $zd s (load $(load))" >&2
done
load_restore_end=$(load)
rows_after=$(my_sql "SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM users)")
hwm_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DAEMON_PID/status")

printf '\nMySQL/MariaDB benchmark: %s rows, dump %s MiB gzipped\n' "$rows" \
	"$(($(stat -c %s "$WORK/backups/$name") / 1048576))"
printf '  create: load average %s at the start\n' "$load_create"
printf '  native mariadb-dump | gzip -6   %8.2f s\n' "$native_gzip"
[ -n "$pigz_time" ] && printf '  native mariadb-dump | pigz -6   %8.2f s\n' "$pigz_time"
printf '  daemon create                   %8.2f s   ratio vs gzip %s (target <= 0.5)' \
	"$daemon_create" "$(ratio "$daemon_create" "$native_gzip")"
[ -n "$pigz_time" ] && printf ', vs pigz %s (target <= 1.0)' "$(ratio "$daemon_create" "$pigz_time")"
printf '\n  native mariadb-dump | zstd -3 -T0 %6.2f s   file %s bytes\n' "$native_zstd" "$(stat -c %s "$WORK/native.sql.zst")"
printf '  daemon create zstd              %8.2f s   file %s bytes; ratio vs zstd -3 -T0 %s (target <= 1.1), vs gzip -6 %s (target <= 0.45), size vs zstd -3 %s (target <= 1.0)\n' \
	"$daemon_zstd" "$(stat -c %s "$WORK/backups/$zname")" "$(ratio "$daemon_zstd" "$native_zstd")" \
	"$(ratio "$daemon_zstd" "$native_gzip")" \
	"$(awk -v a="$(stat -c %s "$WORK/backups/$zname")" -v b="$(stat -c %s "$WORK/native.sql.zst")" 'BEGIN { printf "%.4f", a / b }')"
printf '  restores: %s runs, median figures; load average %s at the start, %s at the end\n' \
	"$RUNS" "$load_restore_start" "$load_restore_end"
printf '  native gunzip -c | mariadb (empty database)   %8.2f s\n' "$(median <<<"${native_t[*]}")"
printf '  daemon restore, no safety backup             %8.2f s   ratio %s (target <= 1.3)\n' \
	"$(median <<<"${plain_t[*]}")" "$(median <<<"${plain_r[*]}")"
printf '  daemon restore, with safety backup           %8.2f s   ratio %s\n' \
	"$(median <<<"${safety_t[*]}")" "$(median <<<"${safety_r[*]}")"
printf '  last run: check %ss, clean %ss, client %ss; safety backup %ss, then client %ss\n' \
	"$check_s" "$clean_s" "$client_s" "$safety_s" "$safety_client_s"
printf '  ratios per run: no safety backup %s; with safety backup %s\n' "${plain_r[*]}" "${safety_r[*]}"
printf '  native zstd -dc | mariadb (empty database)   %8.2f s\n' "$(median <<<"${zn_t[*]}")"
printf '  daemon restore .zst, no safety backup        %8.2f s   ratio %s (target <= 1.05); per run %s\n' \
	"$(median <<<"${zd_t[*]}")" "$(median <<<"${z_r[*]}")" "${z_r[*]}"
printf '  daemon peak RSS (VmHWM)         %8.1f MiB (target <= 32)\n' "$(awk -v k="$hwm_kb" 'BEGIN { print k / 1024 }')"
printf '  rows after restore              %8s\n' "$rows_after"
[ "$rows_after" = "$rows" ]
