#!/usr/bin/env bash
# Makes the seed corpus of fuzz_age (tests/fuzz/corpus/age/): valid files
# for the key and passphrase baked into fuzz_age.c, made by age_tool (and
# by Debian's age when it is installed: armored, and its own encoder), and
# malformed variants in the spirit of the CCTV vectors, written here; plus
# a few STREAM plans. Run by hand when the target changes:
#   tests/fuzz/age_seeds.sh build-asan/tests/age_tool
# The first byte of a seed is the target's mode byte (see fuzz_age.c).
set -euo pipefail
tool=${1:?usage: age_seeds.sh path/to/age_tool}
tool=$(cd "$(dirname "$tool")" && pwd)/$(basename "$tool")
out=$(cd "$(dirname "$0")" && pwd)/corpus/age
mkdir -p "$out"
rm -f "$out"/seed-*
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# the spec's example key: 32 bytes of 0x42
key=AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX
rcpt=age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj
echo "$key" >key.txt
echo fuzz >pass.txt
"$tool" keygen -o other.key >other.pub
printf 'hello, age\n' >small
head -c 1000 /dev/zero | tr '\0' 'a' >k1
: >empty
"$tool" encrypt -r "$rcpt" <small >x25519
"$tool" encrypt -r "$rcpt" <empty >x25519_empty
"$tool" encrypt -r "$rcpt" <k1 >x25519_1000
"$tool" encrypt -r "$(cat other.pub)" -r "$rcpt" <small >two_recipients
"$tool" encrypt -r "$(cat other.pub)" <small >no_match
"$tool" encrypt -p pass.txt -w 2 <small >scrypt
"$tool" encrypt -p pass.txt -w 5 <small >scrypt_too_slow
if command -v age >/dev/null 2>&1; then
	age -r "$rcpt" -o age_binary small
	age -a -r "$rcpt" -o age_armored k1
	age -a -r "$rcpt" -o age_armored_empty empty
fi
python3 - <<'PY'
import os, re
def rd(n): return open(n, "rb").read()
def wr(n, b): open(n, "wb").write(b)
x = rd("x25519_1000")
hdr_end = x.index(b"\n---") + 1
mac_line_end = x.index(b"\n", hdr_end) + 1
hdr, payload = x[:mac_line_end], x[mac_line_end:]
lines = hdr.split(b"\n")
def mutate(name, f):
    wr(name, f(hdr) + payload)
# the MAC: one character changed (still canonical), or not canonical
mutate("mac_bad", lambda h: h[:-10] + (b"B" if h[-10:-9] != b"B" else b"C") + h[-9:])
mutate("mac_not_canonical", lambda h: h[:-2] + (b"B" if h[-2:-1] == b"A" else b"A") + h[-1:])
mutate("mac_missing", lambda h: h[:hdr_end] + b"---\n")
mutate("header_crlf", lambda h: h.replace(b"\n", b"\r\n"))
mutate("version_v2", lambda h: h.replace(b"/v1\n", b"/v2\n", 1))
mutate("stanza_extra_arg", lambda h: h.replace(b"-> X25519 ", b"-> X25519 abc ", 1))
mutate("stanza_unknown_only", lambda h: h.replace(b"-> X25519 ", b"-> x25519 ", 1))
mutate("stanza_padding", lambda h: re.sub(rb"(-> X25519 [^\n]*\n)([^\n]*)\n", rb"\1\2=\n", h, 1))
mutate("stanza_long_line", lambda h: re.sub(rb"(-> X25519 [^\n]*\n)", rb"\1" + b"A" * 64 + b"AAAA\n", h, 1))
mutate("stanza_no_short_line", lambda h: re.sub(rb"(-> X25519 [^\n]*\n)[^\n]*\n", rb"\1" + b"A" * 64 + b"\n", h, 1))
mutate("stanza_grease", lambda h: h.replace(b"-> X25519", b"-> grease-1 a b\nAAAA\n-> X25519", 1))
mutate("stanza_empty_arg", lambda h: h.replace(b"-> X25519 ", b"-> X25519  ", 1))
mutate("scrypt_and_x25519", lambda h: h.replace(b"-> X25519", b"-> scrypt AAAAAAAAAAAAAAAAAAAAAA 2\n" + b"A" * 43 + b"\n-> X25519", 1))
wr("stream_truncated_tag", x[:-1])
wr("stream_trailing", x + b"\0")
wr("stream_no_nonce", hdr)
wr("stream_short_nonce", hdr + payload[:10])
wr("stream_no_chunks", hdr + payload[:16])
wr("stream_flipped", x[:-20] + bytes([x[-20] ^ 1]) + x[-19:])
s = rd("scrypt")
wr("scrypt_work_factor_zero_padded", s.replace(b" 2\n", b" 02\n", 1))
wr("scrypt_work_factor_23", s.replace(b" 2\n", b" 23\n", 1))
if os.path.exists("age_armored"):
    a = rd("age_armored")
    wr("armor_crlf", a.replace(b"\n", b"\r\n"))
    wr("armor_long_line", a.replace(b"\n", b"A\n", 2))
    wr("armor_trailing_garbage", a + b"x")
    wr("armor_no_end", a[: a.rindex(b"-----END")])
    wr("armor_leading_space", b"  \n\t\n" + a)
PY
n=0
for f in *; do
	case $f in key.txt | pass.txt | other.key | other.pub | small | k1 | empty) continue ;; esac
	case $f in
	armor_* | age_armored*) modes="02 00" ;;
	*) modes="01 00 7f" ;; # binary; detect; detect-or-plain with reads of 31 x 97
	esac
	for m in $modes; do
		{ printf "\\x$m"; cat "$f"; } >"$out/seed-$f-$m"
		n=$((n + 1))
	done
done
# STREAM plans (mode byte >= 0x80): one full final chunk; a full chunk and
# a short final one; two final chunks; an empty final chunk after a full one;
# an empty payload; a cut; trailing bytes
plan() { printf "$2" >"$out/seed-plan-$1"; n=$((n + 1)); }
plan one_full '\x80\x01\x40\x00\x00\x00'
plan full_then_short '\x81\x02\x00\x00\x00\xc0\x00\x64\x00'
plan two_final '\x82\x02\x20\x00\x00\x20\x00\x00\x00'
plan empty_last '\x83\x02\x00\x00\x00\xc0\x00\x00\x00'
plan empty_payload '\x84\x01\xc0\x00\x00\x00'
plan cut '\x85\x02\x00\x00\x00\xc0\x00\x64\x80\x00\x05'
plan trailing '\x86\x01\xc0\x01\x00\x41'
echo "age_seeds: $n seeds in $out"
