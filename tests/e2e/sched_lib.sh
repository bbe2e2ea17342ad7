# shellcheck shell=bash
# Shared by the schedule tests (after lib.sh): a webhook receiver that
# checks the signature, the SMTP service's Maildir, waiting for log lines.

# sched_webhook_start: a receiver on a free port; sets WEBHOOK_URL,
# WEBHOOK_SECRET_FILE, WEBHOOK_EVENTS (one JSON line per event).
sched_webhook_start() {
	WEBHOOK_SECRET_FILE=$WORK/webhook.secret
	WEBHOOK_EVENTS=$WORK/webhook.events
	(umask 077 && head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$WEBHOOK_SECRET_FILE")
	: >"$WEBHOOK_EVENTS"
	python3 "$DBB_SOURCE_DIR/tests/e2e/sched_webhook.py" "$WEBHOOK_SECRET_FILE" \
		"$WEBHOOK_EVENTS" "$WORK/webhook.port" 2>"$WORK/webhook.log" &
	WEBHOOK_PID=$!
	for _ in $(seq 1 100); do
		[ -s "$WORK/webhook.port" ] && break
		sleep 0.1
	done
	WEBHOOK_URL="http://127.0.0.1:$(cat "$WORK/webhook.port")/hook"
	trap 'kill "$WEBHOOK_PID" 2>/dev/null; e2e_cleanup' EXIT
}

# wait_for SECONDS COMMAND...: true once the command succeeds.
wait_for() {
	local t=$1
	shift
	for _ in $(seq 1 $((t * 2))); do
		"$@" && return 0
		sleep 0.5
	done
	return 1
}

# audit lines of the scheduler (or retention) with an outcome
audit_count() { # USER OUTCOME-REGEX
	grep -cE "audit action=[a-z]+ outcome=$2 .*user=\"$1\"" "$DAEMON_LOG" || true
}
at_least() { [ "$(audit_count "$1" "$2")" -ge "$3" ]; }

# metric NAME: its value for this daemon (one series)
metric() {
	curl -sS -H "Authorization: Bearer $(token viewer)" "$BASE/metrics" |
		awk -v n="$1" '$1 ~ "^"n"({|$)" { print $2; exit }'
}

# webhook events matching a jq filter
webhook_has() { jq -se "[.[] | select($1)] | length > 0" "$WEBHOOK_EVENTS" >/dev/null 2>&1; }
# a mail in the Maildir containing TEXT
mail_has() { grep -rqs -- "$1" "$SMTP_MAILDIR/new" "$SMTP_MAILDIR/cur" 2>/dev/null; }
