#!/usr/bin/env bash
# Static checks, run as the CTest test "lint": clang-format (.clang-format),
# cppcheck, and banned unsafe functions in the daemon's code (after curl's
# checksrc).
set -uo pipefail
cd "$(dirname "$0")/.."
status=0

mapfile -t c_files < <(git ls-files 'src/*.c' 'src/*.h' 'include/*.h' 'tests/unit/*.c' 'tests/unit/*.h' 'tests/fuzz/*.c' 2>/dev/null)
if [ ${#c_files[@]} -eq 0 ]; then
	mapfile -t c_files < <(find src include tests/unit -name '*.[ch]')
fi

unformatted=()
for f in "${c_files[@]}"; do
	clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
done
if [ ${#unformatted[@]} -gt 0 ]; then
	echo "lint: not clang-formatted (run clang-format -i): ${unformatted[*]}" >&2
	status=1
else
	echo "lint: clang-format clean (${#c_files[@]} files)"
fi

# json_array_foreach and friends confuse cppcheck's return analysis
if ! cppcheck -q --enable=warning,portability,performance --std=c11 --error-exitcode=1 \
	-D_GNU_SOURCE -DDBB_VERSION='"lint"' --inline-suppr \
	--suppress=missingIncludeSystem --suppress=missingReturn \
	-I include -I src src; then
	echo "lint: cppcheck found problems" >&2
	status=1
else
	echo "lint: cppcheck clean"
fi

banned='\b(gets|strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|tmpnam|mktemp|system|popen)\s*\('
if grep -nE "$banned" $(git ls-files 'src/*.c' 2>/dev/null || find src -name '*.c'); then
	echo "lint: banned functions above (use snprintf, strtol, memcpy with lengths, posix_spawn)" >&2
	status=1
else
	echo "lint: no banned functions"
fi
# issue 15: a function of more than 80 lines in src/driver/ says why in the
# comment above it ("Over 80 lines ...").
long_fns=$(for f in $(git ls-files 'src/driver/*.c' 2>/dev/null || find src/driver -name '*.c'); do
	awk -v F="$f" '
		{ line[NR] = $0 }
		/^[a-z].*\(/ && !sig { sig = NR }
		/^\{$/ { start = sig }
		/^[^ \t{}#\/]/ && !/\($/ && !/,$/ && !/\(.*\)/ { sig = 0 }
		/^\}$/ && start {
			if (NR - start + 1 > 80) {
				why = 0
				for (i = start - 1; i > 0 && i > start - 15; i--) {
					if (line[i] ~ /[Oo]ver 80 lines/) why = 1
					if (line[i] ~ /^}/) break
				}
				if (!why) printf "%s:%d: %d lines\n", F, start, NR - start + 1
			}
			start = 0; sig = 0
		}' "$f"
done)
if [ -n "$long_fns" ]; then
	echo "$long_fns"
	echo "lint: functions of more than 80 lines above, without a comment saying why" >&2
	status=1
else
	echo "lint: every function of src/driver/ over 80 lines says why"
fi

# dbb_fail(err, X, "%s", err->message) formats an error over its own message:
# change the code with dbb_error_recode() (error.h) instead.
selffmt='dbb_fail(?:_errno)?\(\s*&?(\w+)\s*,[^;]*?\b\1\s*(?:->|\.)\s*message\b'
if perl -0777 -ne 'while (/'"$selffmt"'/g) { print "$ARGV: $&\n"; $found = 1 } END { exit($found ? 0 : 1) }' \
	$(git ls-files 'src/*.c' 2>/dev/null || find src -name '*.c'); then
	echo "lint: an error formatted over its own message above (use dbb_error_recode)" >&2
	status=1
else
	echo "lint: no error formatted over its own message"
fi
exit $status
