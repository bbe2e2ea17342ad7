#!/usr/bin/env bash
# Asynchronous jobs behind a reverse proxy with a short timeout (issue 20):
# nginx (Debian's) with proxy_read_timeout 5s in front of the daemon; an
# async restore that takes longer than that is started and polled to its
# end through the proxy.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/operability_lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/postgresql_lib.sh"
e2e_init
e2e_use_service postgresql
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || op_apt nginx-light || {
	part_skipped "nginx is not installed and could not be"
	e2e_done
}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

pg_reset
pgq >/dev/null <<'SQL'
CREATE TABLE public.big (id int PRIMARY KEY, a text, b text);
INSERT INTO public.big SELECT g, md5(g::text), repeat(md5((g * 7)::text), 2)
	FROM generate_series(1, 1500000) g;
SQL
e2e_start DB_TYPE=postgresql
api POST "/backup/create?compress=gzip" operator
expect_status 200 "backup of the large table"
file=$(jq -r .filename "$BODY")
want=$(pg_value "SELECT count(*) FROM public.big")
pgq -c "DELETE FROM public.big WHERE id % 2 = 0" >/dev/null

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<CONF
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events {}
http {
	access_log $WORK/nginx/access.log;
	client_body_temp_path $WORK/nginx/body;
	proxy_temp_path $WORK/nginx/proxy;
	fastcgi_temp_path $WORK/nginx/fastcgi;
	uwsgi_temp_path $WORK/nginx/uwsgi;
	scgi_temp_path $WORK/nginx/scgi;
	server {
		listen 127.0.0.1:$port;
		location / {
			proxy_pass $BASE;
			proxy_read_timeout 5s;
			proxy_send_timeout 5s;
		}
	}
}
CONF
"$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
NGINX_PID=$!
trap 'kill $NGINX_PID 2>/dev/null; e2e_cleanup' EXIT
DIRECT=$BASE
BASE="http://127.0.0.1:$port"
for i in $(seq 1 50); do curl -fsS -o /dev/null "$BASE/health" 2>/dev/null && break; sleep 0.1; done
api GET /health none
expect_status 200 "the daemon answers through nginx"

# a reader holds the table for 8 s: the restore (its clean needs the
# table to itself) waits for it, so it takes longer than the proxy's 5 s
# however fast the machine
pgq -c "BEGIN; LOCK TABLE public.big IN ACCESS SHARE MODE; SELECT pg_sleep(8); COMMIT;" \
	>/dev/null 2>&1 &
LOCKER=$!
for i in $(seq 1 100); do
	[ "$(pg_value "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
		WHERE c.relname = 'big' AND l.mode = 'AccessShareLock' AND l.granted")" -gt 0 ] && break
	sleep 0.1
done
hdr="$WORK/headers"
STATUS=$(curl -sS -D "$hdr" -o "$BODY" -w '%{http_code}' -X POST \
	-H "Authorization: Bearer $(token operator)" "$BASE/backup/restore/$file?async=true")
expect_status 202 "async restore through the proxy answers 202"
job=$(jq -r .job_id "$BODY")
check "Location comes through" grep -qi "^Location: .*/jobs/$job" "$hdr"
check "the job was polled to its end through the proxy" poll_job "$job" operator
expect_json '.state == "succeeded" and .result.success == true' "the restore succeeded"
took=$(jq -r '(.finished_at | fromdateiso8601) - (.started_at | fromdateiso8601)' "$BODY")
check "the restore took ${took}s, longer than the proxy's 5 s timeout" test "$took" -gt 5
wait "$LOCKER" || true
check "the data is back" test "$(pg_value "SELECT count(*) FROM public.big")" = "$want"
BASE=$DIRECT
pg_reset
e2e_done
