#!/usr/bin/env bash
# CTest fixture glue: runs tests/services/<name>.sh start|stop and keeps the
# export lines it prints in ENVFILE for the tests that need the service.
set -euo pipefail
name=$1 verb=$2 envfile=$3
here=$(cd "$(dirname "$0")" && pwd)
case "$verb" in
start)
	tmp=$(mktemp "$envfile.XXXXXX")
	if ! bash "$here/$name.sh" start >"$tmp"; then
		rm -f "$tmp"
		echo "fixture: $name.sh start failed" >&2
		exit 1
	fi
	mv "$tmp" "$envfile"
	echo "fixture: $name started:" >&2
	sed -E 's/(PASSWORD|SECRET)=[^ ]*/\1=***/g' "$envfile" >&2
	;;
stop)
	bash "$here/$name.sh" stop
	rm -f "$envfile"
	;;
*)
	echo "usage: fixture.sh NAME start|stop ENVFILE" >&2
	exit 2
	;;
esac
