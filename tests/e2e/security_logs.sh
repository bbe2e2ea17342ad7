#!/usr/bin/env bash
# Issue 14, item 10: the access and audit logs cannot be forged. Whatever a
# client puts in the path, the method or an uploaded file's name, and
# whatever a token's subject and user name hold, each stays one quoted
# logfmt field of one line: no field or line can be made up, and no raw
# control byte reaches the log.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_sqlite_demo
e2e_start SQLITE_PATH="$SQLITE_DB"
port=${BASE##*:}

b64url() { printf '%s' "$1" | base64 -w0 | tr '+/' '-_' | tr -d '='; }
b64url_decode() {
	local s=$1
	s=$(printf '%s' "$s" | tr '_-' '/+')
	while [ $((${#s} % 4)) -ne 0 ]; do s="$s="; done
	printf '%s' "$s" | base64 -d
}
# forged_token ROLE SUB: a valid token (the dev key signs it) whose sub and
# preferred_username are SUB (JSON string contents)
forged_token() {
	local t H P sig
	t=$(token "$1")
	H=${t%%.*}
	P=$(b64url "$(b64url_decode "$(cut -d. -f2 <<<"$t")" |
		jq -c --arg s "$2" '.sub = $s | .preferred_username = $s')")
	sig=$(printf '%s' "$H.$P" | openssl dgst -sha256 -sign "$WORK/keys/private.pem" -binary |
		base64 -w0 | tr '+/' '-_' | tr -d '=')
	printf '%s.%s.%s' "$H" "$P" "$sig"
}

# eventually CMD...: CMD succeeds within 5 s. The access line is written
# when the daemon has finished the request, which may be just after the
# client has read the answer.
eventually() {
	local i
	for i in $(seq 50); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

# 1. the path of the issue: spaces decoded from %20 forge status and subject
curl -s -o /dev/null "$BASE/backup/list%20200%200.2ms%20sub=dev-admin"
check "the forged path is one quoted field, answered 404" \
	eventually grep -q 'GET "/backup/list 200 0.2ms sub=dev-admin" 404 ' "$DAEMON_LOG"
check "no access line shows a list answered 200 (none was)" \
	bash -c "! grep -q 'GET /backup/list 200 ' '$DAEMON_LOG'"

# 2. raw control bytes in the request line (ESC, a bell) and a quote
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /x\033[2J\a"y HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
cat <&3 >/dev/null
exec 3>&-
check "control bytes and quotes of a path are escaped (\\x1b, \\x07, \\\")" \
	eventually grep -qF 'GET "/x\x1b[2J\x07\"y" ' "$DAEMON_LOG"

# 3. a token whose subject carries a line break, ESC and a forged line
evil=$'dev-operator\n2026-01-01T00:00:00Z info GET /backup/delete/x 200 0.1ms sub=dev-admin\033[0m'
api GET /backup/list none -H "Authorization: Bearer $(forged_token operator "$evil")"
expect_status 200 "a token with a strange subject is still a token"
check "its subject is one escaped field of the access line" \
	eventually grep -qF 'GET /backup/list 200 ' "$DAEMON_LOG"
# (the token layer may already have replaced the control bytes by '?')
check "  ... quoted, the forged sub= inside the quotes, no raw control byte" \
	bash -c "grep -F 'GET /backup/list 200 ' '$DAEMON_LOG' |
		grep -qE 'sub=\"dev-operator(\\\\n|\\?)2026-01-01T00:00:00Z info GET /backup/delete/x 200 0.1ms sub=dev-admin(\\\\x1b|\\?)\\[0m\" role=operator client=127\\.0\\.0\\.1 req=[0-9a-f]{16}\$'"
check "no line starts with the forged timestamp" bash -c "! grep -q '^2026-01-01T00:00:00Z' '$DAEMON_LOG'"

# 4. the audit line: the same subject, and an uploaded file's name with
#    control bytes and quotes
printf 'not a backup' >"$WORK/u.db"
api POST /backup/restore-upload none -H "Authorization: Bearer $(forged_token operator "$evil")" \
	-F $'file=@'"$WORK/u.db"$';filename="a\033[31m\\"b.db"'
expect_error 422 invalid_backup
check "the audit line escapes the subject" \
	eventually grep -qE 'audit action=restore-upload outcome=invalid_backup status=422 user="dev-operator(\\n|\?)2026-01-01T00:00:00Z [^"]*" sub="dev-operator' "$DAEMON_LOG"
check "  ... and the file name" grep -qF 'file="a\x1b[31m' "$DAEMON_LOG"

# 5. nowhere a raw control byte (every line ends in \n, nothing else)
check "no raw control byte in the whole log" \
	bash -c "! LC_ALL=C grep -q \$'[\x01-\x08\x0b-\x1f\x7f]' '$DAEMON_LOG'"
check "every line is a log line (timestamp first)" \
	bash -c "! grep -vqE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z (debug|info|warn|error) ' '$DAEMON_LOG'"
e2e_done
