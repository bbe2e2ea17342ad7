#!/usr/bin/env bash
# Interoperability of our age layers (src/age/, through age_tool) with
# Debian's age (1.1.1), both ways: files we encrypt are decrypted by
# `age -d`, files `age` encrypts (-r, -R, -a armored, -p passphrase) are
# decrypted by us, identity files made by either are read by the other, at
# the sizes around the 64 KiB chunk boundary. Wrong keys, wrong passphrases,
# a flipped byte and truncation are refused by us (and by age). `age -p`
# reads the passphrase from a terminal only: pty_passphrase.py gives it one.
set -euo pipefail

: "${AGE_TOOL:?set by CTest: the age_tool helper}"
here=$(cd "$(dirname "$0")" && pwd)
for c in age age-keygen python3 cmp; do
	if ! command -v "$c" >/dev/null 2>&1; then
		echo "interop: $c is not installed (setup/install-deps.sh --test installs age)" >&2
		exit 1
	fi
done
echo "interop: age $(age --version)"

base=${DBB_TEST_TMP:-/tmp}
mkdir -p "$base"
work=$(mktemp -d "$base/age-interop.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
failures=0
ok() { echo "ok   $*"; }
bad() {
	echo "FAIL $*" >&2
	failures=$((failures + 1))
}
# expect_fail KIND CMD...: CMD must fail, saying KIND on stderr
expect_fail() {
	local kind=$1
	shift
	if "$@" >out.tmp 2>err.tmp; then
		bad "$* succeeded, expected $kind"
	elif ! grep -q "$kind" err.tmp; then
		bad "$* failed without '$kind': $(cat err.tmp)"
	else
		ok "refused ($kind): $*"
	fi
}
same() { # same FILE1 FILE2 WHAT
	if cmp -s "$1" "$2"; then ok "$3"; else bad "$3: output differs"; fi
}

# keys: one made by age-keygen, one by us; each tool reads the other's
(umask 077 && age-keygen -o theirs.key 2>/dev/null)
their_r=$(age-keygen -y theirs.key)
"$AGE_TOOL" keygen -o ours.key >ours.pub
our_r=$(cat ours.pub)
[ "$(stat -c %a ours.key)" = 600 ] && ok "our identity file is 0600" || bad "ours.key is $(stat -c %a ours.key)"
[ "$(age-keygen -y ours.key)" = "$our_r" ] && ok "age-keygen -y reads our identity file" ||
	bad "age-keygen -y ours.key gives $(age-keygen -y ours.key), we printed $our_r"
[ "$("$AGE_TOOL" recipient -i theirs.key)" = "$their_r" ] && ok "we read age-keygen's identity file" ||
	bad "age_tool recipient -i theirs.key differs from age-keygen -y"
(umask 077 && age-keygen -o other.key 2>/dev/null)
printf '# backup recipients\n\n%s\n# the end\n' "$our_r" >recipients.txt

sizes=(0 1 65535 65536 65537 131072 3145728)
for n in "${sizes[@]}"; do
	head -c "$n" /dev/urandom >"p$n"
	# ours -> age, to two recipients
	"$AGE_TOOL" encrypt -r "$their_r" -r "$our_r" <"p$n" >"p$n.ours.age"
	age -d -i theirs.key "p$n.ours.age" >"p$n.a" && same "p$n" "p$n.a" "$n bytes: ours -> age -d (age-keygen key)"
	age -d -i ours.key "p$n.ours.age" >"p$n.b" && same "p$n" "p$n.b" "$n bytes: ours -> age -d (our key)"
	"$AGE_TOOL" decrypt -i ours.key <"p$n.ours.age" >"p$n.c" && same "p$n" "p$n.c" "$n bytes: ours -> ours"
	# age -> ours: -r, -R, armored
	age -r "$our_r" -o "p$n.age" "p$n"
	"$AGE_TOOL" decrypt -i ours.key <"p$n.age" >"p$n.d" && same "p$n" "p$n.d" "$n bytes: age -r -> ours"
	age -R recipients.txt -o "p$n.R.age" "p$n"
	"$AGE_TOOL" decrypt -i ours.key <"p$n.R.age" >"p$n.e" && same "p$n" "p$n.e" "$n bytes: age -R -> ours"
	age -a -r "$our_r" -o "p$n.asc" "p$n"
	"$AGE_TOOL" decrypt -i ours.key <"p$n.asc" >"p$n.f" && same "p$n" "p$n.f" "$n bytes: age -a -> ours (armor detected)"
	"$AGE_TOOL" decrypt --armored -i ours.key <"p$n.asc" >"p$n.g" && same "p$n" "p$n.g" "$n bytes: age -a -> ours --armored"
	rm -f "p$n".?
done

# what must be refused
expect_fail "no match" "$AGE_TOOL" decrypt -i other.key <p65537.age
expect_fail "header failure" "$AGE_TOOL" decrypt --binary -i ours.key <p65537.asc
expect_fail "header failure" "$AGE_TOOL" decrypt -i ours.key <p65537
cp p65537.age flipped.age
size=$(stat -c %s flipped.age)
printf '\x55' | dd of=flipped.age bs=1 seek=$((size - 100)) conv=notrunc status=none
cmp -s flipped.age p65537.age && printf '\xaa' | dd of=flipped.age bs=1 seek=$((size - 100)) conv=notrunc status=none
expect_fail "payload failure" "$AGE_TOOL" decrypt -i ours.key <flipped.age
if age -d -i ours.key flipped.age >/dev/null 2>&1; then bad "age accepted the flipped byte"; else ok "age refuses it too"; fi
head -c $((size - 1)) p65537.age >short.age
expect_fail "payload failure" "$AGE_TOOL" decrypt -i ours.key <short.age
# the plain file passes through only when asked for
"$AGE_TOOL" decrypt --plain <p65537 >plain.out && same p65537 plain.out "not encrypted: passes through with --plain"

# passphrases: age -p on a terminal, and ours with scrypt
printf 'correct horse battery staple\n' >pass.txt
printf 'wrong horse\n' >wrong.txt
for n in 0 65537; do
	python3 "$here/pty_passphrase.py" pass.txt age -p -o "p$n.pass.age" "p$n" >/dev/null
	head -c 60 "p$n.pass.age" | grep -q -- '-> scrypt ' || bad "age -p made no scrypt stanza"
	"$AGE_TOOL" decrypt -p pass.txt <"p$n.pass.age" >"p$n.h" && same "p$n" "p$n.h" "$n bytes: age -p -> ours"
	"$AGE_TOOL" encrypt -p pass.txt -w 12 <"p$n" >"p$n.ours.pass.age"
	: >"p$n.i" # age -o makes no file for an empty plaintext
	python3 "$here/pty_passphrase.py" pass.txt age -d -o "p$n.i" "p$n.ours.pass.age" >/dev/null &&
		same "p$n" "p$n.i" "$n bytes: ours -p -> age -d (passphrase on a terminal)"
done
expect_fail "no match" "$AGE_TOOL" decrypt -p wrong.txt <p65537.pass.age
expect_fail "no match" "$AGE_TOOL" decrypt -i ours.key <p65537.pass.age

if [ "$failures" -ne 0 ]; then
	echo "interop: $failures failure(s)" >&2
	exit 1
fi
echo "interop: all passed"
