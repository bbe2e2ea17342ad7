#!/usr/bin/env bash
# Starts (or stops) a throw-away SeaweedFS (master, volume, filer and S3
# gateway in one `weed server -s3`) on free loopback ports for the tests.
# `start` prints only export lines on stdout, the bucket already created:
#   export S3_ENDPOINT=http://127.0.0.1:PORT S3_REGION=us-east-1 S3_BUCKET=dbbackupd-test S3_ACCESS_KEY_ID=... S3_SECRET_ACCESS_KEY=...
# SeaweedFS is built from its Go module (go build of a generated wrapper
# module: `go install` refuses a module with replace directives), binary,
# module and build caches kept under ${DBB_CACHE_DIR:-$HOME/.cache/dbbackupd}
# keyed by version; a cold build takes 10 to 30 minutes on 2 cores. Its state
# is under ${DBB_SERVICE_STATE:-/tmp/dbbackupd-services}/s3. Idempotent:
# `start` while it runs prints the same exports.
# `pause` kills the server (SIGKILL, as in a crash) and keeps its state;
# `resume` starts the same server again (same ports, keys and data: the same
# exports) and waits until it answers. `go` prints the go it
# would build with. `build` only builds (a warm-up that
# setup/test.sh runs in the background from its start; `start` waits for a
# build under way instead of starting a second one).
#
# Go: SeaweedFS needs go >= 1.26. A go that new on PATH is used; otherwise
# (Debian 12's golang-go is 1.19) the official toolchain is fetched as the Go
# module proxy serves it (golang.org/toolchain, the zip `go` itself downloads
# when it switches toolchains), its size and SHA-256 checked against the
# values pinned below, and unpacked under the cache keyed by version.
set -euo pipefail

SVC_NAME=s3
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SEAWEEDFS_MODULE=github.com/seaweedfs/seaweedfs
SEAWEEDFS_VERSION=v0.0.0-20261109003541-7506e5f91cd6
DIST=$CACHE_ROOT/seaweedfs-$SEAWEEDFS_VERSION
WEED=$DIST/bin/weed
STATE=${DBB_SERVICE_STATE:-/tmp/dbbackupd-services}/s3
# The SeaweedFS module's go.mod says go 1.26.6.
GO_MIN=1.26
GO_VERSION=1.26.8
GO_TOOLCHAIN_MODULE=golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-amd64
GO_TOOLCHAIN_URL=${GOPROXY_URL:-https://proxy.golang.org}/golang.org/toolchain/@v/v0.0.1-go$GO_VERSION.linux-amd64.zip
# Pinned from `go mod download -json $GO_TOOLCHAIN_MODULE`, which checked the
# zip against the checksum database (sum.golang.org:
# h1:ZOmGe1OnfREDMIdb1Qi4G9JSuDPBLGExZMQ4nis1RXM=).
GO_TOOLCHAIN_SIZE=71680185
GO_TOOLCHAIN_SHA256=30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7
GO_ROOT=$CACHE_ROOT/go-$GO_VERSION.linux-amd64
GO=go
BUCKET=dbbackupd-test
REGION=us-east-1

# The weed binary, built once per version. The wrapper module requires
# SeaweedFS and repeats its one replace directive.
# go_new_enough GO: GO runs and says a version >= GO_MIN.
go_new_enough() {
	local v major minor
	v=$("$1" env GOVERSION 2>/dev/null) || return 1
	v=${v#go}
	major=${v%%.*}
	minor=${v#*.}
	minor=${minor%%[!0-9]*}
	[[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ ]] || return 1
	((major > ${GO_MIN%%.*} || (major == ${GO_MIN%%.*} && minor >= ${GO_MIN#*.})))
}

# Sets GO to a go >= GO_MIN: the one on PATH, or the pinned toolchain from
# the module proxy (downloaded, checked and unpacked once per version).
ensure_go() {
	if command -v go >/dev/null && GOTOOLCHAIN=local go_new_enough go; then
		GO=go
		return 0
	fi
	GO=$GO_ROOT/bin/go
	if [ -x "$GO" ] && GOTOOLCHAIN=local go_new_enough "$GO"; then
		return 0
	fi
	ensure_commands curl:curl python3:python3
	local zip=$CACHE_ROOT/go-$GO_VERSION.linux-amd64.zip tmp=$GO_ROOT.tmp size sum
	if [ ! -f "$zip" ] || [ "$(stat -c %s "$zip")" != "$GO_TOOLCHAIN_SIZE" ]; then
		log "no go >= $GO_MIN on PATH: downloading $GO_TOOLCHAIN_MODULE from the Go module proxy"
		curl -fsSL --retry 3 -o "$zip.part" "$GO_TOOLCHAIN_URL" || die "downloading $GO_TOOLCHAIN_URL failed"
		mv "$zip.part" "$zip"
	fi
	size=$(stat -c %s "$zip")
	sum=$(sha256sum "$zip" | cut -d' ' -f1)
	if [ "$size" != "$GO_TOOLCHAIN_SIZE" ] || [ "$sum" != "$GO_TOOLCHAIN_SHA256" ]; then
		rm -f "$zip"
		die "$GO_TOOLCHAIN_MODULE: got $size bytes with SHA-256 $sum, expected $GO_TOOLCHAIN_SIZE bytes with $GO_TOOLCHAIN_SHA256"
	fi
	rm -rf "$tmp"
	mkdir -p "$tmp"
	python3 -m zipfile -e "$zip" "$tmp" || die "unpacking $zip failed"
	# Module zips keep no file modes: the programs get their x bit back, as
	# go does when it switches to a downloaded toolchain.
	chmod -R a+rX,go-w "$tmp"
	chmod a+x "$tmp/$GO_TOOLCHAIN_MODULE"/bin/* "$tmp/$GO_TOOLCHAIN_MODULE"/pkg/tool/linux_amd64/*
	rm -rf "$GO_ROOT"
	mv "$tmp/$GO_TOOLCHAIN_MODULE" "$GO_ROOT"
	rm -rf "$tmp" "$zip"
	GOTOOLCHAIN=local go_new_enough "$GO" || die "$GO does not run or is older than go $GO_MIN"
	log "using $("$GO" version) from $GO_ROOT"
}

ensure_weed() {
	[ -x "$WEED" ] && return 0
	mkdir -p "$DIST"
	# One build at a time: `start` waits for a warm-up `build` under way.
	exec 9>"$DIST.lock"
	if ! flock -n 9; then
		log "waiting for a SeaweedFS build under way (another s3.sh)"
		flock 9
	fi
	if [ -x "$WEED" ]; then
		exec 9>&-
		return 0
	fi
	ensure_go
	mkdir -p "$DIST/wrapper" "$DIST/bin"
	cat >"$DIST/wrapper/go.mod" <<EOF
module local.dbbackupd/weed

go 1.26

require $SEAWEEDFS_MODULE $SEAWEEDFS_VERSION

replace github.com/tyler-smith/go-bip39 => github.com/cosmos/go-bip39 v1.0.0
EOF
	log "building SeaweedFS $SEAWEEDFS_VERSION from the Go module proxy (10 to 30 minutes the first time)"
	local start=$SECONDS
	if ! (cd "$DIST/wrapper" && GOMODCACHE=$DIST/gomod GOCACHE=$DIST/gocache GOTOOLCHAIN=local \
		GOFLAGS="-mod=mod -modcacherw -buildvcs=false" CGO_ENABLED=0 \
		"$GO" build -trimpath -ldflags "-s -w" -o "$WEED.tmp" "$SEAWEEDFS_MODULE/weed" >&2); then
		rm -f "$WEED.tmp"
		die "building SeaweedFS failed"
	fi
	mv "$WEED.tmp" "$WEED"
	exec 9>&-
	log "SeaweedFS built in $((SECONDS - start)) s"
}

running() {
	[ -f "$STATE/pid" ] && kill -0 "$(cat "$STATE/pid")" 2>/dev/null
}

print_exports() {
	echo "export S3_ENDPOINT=http://127.0.0.1:$(cat "$STATE/s3_port") S3_REGION=$REGION S3_BUCKET=$BUCKET S3_ACCESS_KEY_ID=$(cat "$STATE/access_key") S3_SECRET_ACCESS_KEY=$(cat "$STATE/secret_key")"
}

# curl signing with SigV4 (curl's own --aws-sigv4); the keys come from a 0600
# config file, never from the command line.
s3_curl() {
	curl -s -K "$STATE/curl.conf" --aws-sigv4 "aws:amz:$REGION:s3" \
		-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" --max-time 20 "$@"
}

# The S3 gateway answers and accepts the identity: a probe object is put,
# read back and deleted.
s3_ok() {
	local url="http://127.0.0.1:$(cat "$STATE/s3_port")/$BUCKET/.dbb-probe" got
	[ "$(s3_curl -o /dev/null -w '%{http_code}' -X PUT --data-binary probe "$url" 2>/dev/null)" = 200 ] || return 1
	got=$(s3_curl "$url" 2>/dev/null) || return 1
	[ "$got" = probe ] || return 1
	s3_curl -o /dev/null -X DELETE "$url" 2>/dev/null || true
}

weed_args() {
	local p=$STATE
	echo server -dir="$p/data" -master.dir="$p/master" \
		-ip=127.0.0.1 -ip.bind=127.0.0.1 \
		-master.port="$(cat "$p/master_port")" -master.port.grpc="$(cat "$p/master_grpc")" \
		-volume.port="$(cat "$p/volume_port")" -volume.port.grpc="$(cat "$p/volume_grpc")" \
		-filer -filer.port="$(cat "$p/filer_port")" -filer.port.grpc="$(cat "$p/filer_grpc")" \
		-filer.localSocket="$p/filer.sock" \
		-s3 -s3.port="$(cat "$p/s3_port")" -s3.port.grpc="$(cat "$p/s3_grpc")" \
		-s3.localSocket="$p/s3.sock" -s3.config="$p/s3.json" \
		-s3.port.iceberg=0 -s3.port.lance=0 -s3.autoCreateBucket=false -s3.domainName=localhost \
		-master.telemetry=false -master.telemetry.url=http://127.0.0.1:9/ \
		-master.volumeSizeLimitMB=128 -master.volumePreallocate=false -volume.max=100 \
		-master.garbageThreshold=0.1 -master.vacuumIntervalSeconds=60 -volume.preStopSeconds=0 \
		-metricsPort=0
}

do_start() {
	if running && s3_ok; then
		print_exports
		return 0
	fi
	if running; then
		do_stop
	fi
	ensure_commands curl:curl ss:iproute2
	mkdir -p "$CACHE_ROOT"
	ensure_weed
	rm -rf "$STATE"
	mkdir -p "$STATE/data" "$STATE/master" "$STATE/logs"
	chmod 700 "$STATE"
	umask 077
	local name port used=""
	for name in master_port master_grpc volume_port volume_grpc filer_port filer_grpc s3_port s3_grpc; do
		while :; do
			port=$(free_port)
			case " $used " in *" $port "*) continue ;; esac
			break
		done
		used+=" $port"
		echo "$port" >"$STATE/$name"
	done
	local ak sk
	ak="DBB$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)"
	sk=$(head -c 30 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)
	[ ${#sk} -ge 30 ] || sk="dbb$(date +%s%N)secret"
	echo "$ak" >"$STATE/access_key"
	echo "$sk" >"$STATE/secret_key"
	cat >"$STATE/s3.json" <<EOF
{
  "identities": [
    {
      "name": "dbbackupd-test",
      "credentials": [{"accessKey": "$ak", "secretKey": "$sk"}],
      "actions": ["Admin", "Read", "List", "Tagging", "Write"]
    }
  ]
}
EOF
	printf 'user = "%s:%s"\n' "$ak" "$sk" >"$STATE/curl.conf"
	launch
	create_bucket
	if ! wait_s3; then
		tail -n 40 "$STATE/logs/weed.log" >&2
		do_stop
		die "SeaweedFS's S3 gateway does not accept requests"
	fi
	log "SeaweedFS is up (pid $(cat "$STATE/pid")), bucket $BUCKET created"
	print_exports
}

# weed shell; SeaweedFS names a server host:port.grpcport when the gRPC port
# is not port + 10000.
weed_shell() {
	(cd "$STATE" && HOME=$STATE timeout 60 "$WEED" shell \
		-master="127.0.0.1:$(cat "$STATE/master_port").$(cat "$STATE/master_grpc")" \
		-filer="127.0.0.1:$(cat "$STATE/filer_port").$(cat "$STATE/filer_grpc")" 2>>"$STATE/logs/shell.log")
}

create_bucket() {
	for _ in $(seq 1 60); do
		if echo "s3.bucket.create -name $BUCKET" | weed_shell >>"$STATE/logs/shell.log" &&
			echo "s3.bucket.list" | weed_shell | grep -q "$BUCKET"; then
			return 0
		fi
		running || break
		sleep 1
	done
	tail -n 40 "$STATE/logs/weed.log" "$STATE/logs/shell.log" >&2
	do_stop
	die "could not create bucket $BUCKET"
}

wait_s3() {
	for _ in $(seq 1 120); do
		s3_ok && return 0
		running || return 1
		sleep 1
	done
	return 1
}

# Starts weed on the state in $STATE and waits until its S3 port listens.
launch() {
	local pid
	log "starting SeaweedFS: S3 on 127.0.0.1:$(cat "$STATE/s3_port"), master 127.0.0.1:$(cat "$STATE/master_port")"
	# shellcheck disable=SC2046
	(cd "$STATE" && exec env -u SENTRY_DSN HOME="$STATE" setsid "$WEED" $(weed_args) \
		>>"$STATE/logs/weed.log" 2>&1 </dev/null) &
	pid=$!
	echo "$pid" >"$STATE/pid"
	for _ in $(seq 1 240); do
		if ! port_free "$(cat "$STATE/s3_port")"; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			tail -n 40 "$STATE/logs/weed.log" >&2
			die "SeaweedFS exited during start-up"
		fi
		sleep 0.5
	done
	tail -n 40 "$STATE/logs/weed.log" >&2
	do_stop
	die "SeaweedFS's S3 port did not open within 120 s"
}

# pause: the server goes away as in a crash (SIGKILL: open connections are
# reset, new ones refused); its state is kept. resume: the same server (same
# ports, keys, bucket and data, so the same exports) starts again.
do_pause() {
	[ -f "$STATE/s3_port" ] || die "no SeaweedFS state in $STATE (start it first)"
	if running; then
		local pid
		pid=$(cat "$STATE/pid")
		signal_and_wait KILL "$pid" 10 && log "SeaweedFS (pid $pid) killed"
	fi
}

do_resume() {
	[ -f "$STATE/s3_port" ] && [ -f "$STATE/s3.json" ] || die "no SeaweedFS state in $STATE (start it first)"
	if running && s3_ok; then
		print_exports
		return 0
	fi
	running && die "SeaweedFS runs (pid $(cat "$STATE/pid")) but its S3 gateway does not answer"
	launch
	if ! wait_s3; then
		tail -n 40 "$STATE/logs/weed.log" >&2
		die "SeaweedFS's S3 gateway does not accept requests after resume"
	fi
	log "SeaweedFS resumed (pid $(cat "$STATE/pid"))"
	print_exports
}

do_stop() {
	local pid
	if [ -f "$STATE/pid" ]; then
		pid=$(cat "$STATE/pid")
		if ! signal_and_wait TERM "$pid" 30; then
			log "SeaweedFS (pid $pid) did not stop, killing it"
			kill -9 "$pid" 2>/dev/null || true
		fi
	fi
	rm -rf "$STATE"
}

case "${1:-}" in
start) do_start ;;
stop) do_stop ;;
pause) do_pause ;;
resume) do_resume ;;
build) ensure_weed ;;
go)
	ensure_go
	command -v "$GO"
	;;
*)
	echo "usage: $0 start|stop|pause|resume|build|go" >&2
	exit 2
	;;
esac
