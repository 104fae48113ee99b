#!/bin/sh
# SPDX-License-Identifier: MIT
# Keeps the shape of src/ (docs/HACKING.md, "Layout"): the stages' includes
# run one way. Each quoted #include in src/ names its header by stage
# ("input/csv.h"), or is a header of the base at the top of src/
# ("certpress.h", "error.h", "atomic.h", "i18n.h"). A file may include its own
# stage, the base, and the stages its row below allows; anything else is
# reported as FILE:LINE and the script exits 1.
#
# usage: scripts/check-layers.sh [SRCDIR]      (default: src/ of this checkout)
set -eu
src=${1:-$(cd "$(dirname "$0")/.." && pwd)/src}

# stage: the stages it may use besides itself and the base.
allowed() {
	case "$1" in
	base)   echo "" ;;
	input)  echo "" ;;
	layout) echo "input" ;;
	output) echo "input layout" ;;
	ledger) echo "input" ;;
	trust)  echo "input output" ;;
	cli)    echo "input layout output ledger trust" ;;
	console) echo "input layout output ledger trust cli" ;;
	*)      return 1 ;;
	esac
}

status=0
for dir in "$src" "$src"/*/; do
	dir=${dir%/}
	if [ "$dir" = "$src" ]; then stage=base; else stage=$(basename "$dir"); fi
	if ! may=$(allowed "$stage"); then
		echo "check-layers: $dir: stage '$stage' is not in the table of scripts/check-layers.sh and docs/HACKING.md" >&2
		status=1
		continue
	fi
	for f in "$dir"/*.c "$dir"/*.h; do
		[ -f "$f" ] || continue
		# LINE:HEADER for each quoted include.
		grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
			sed 's/^\([0-9]*\):.*"\(.*\)".*/\1:\2/' >"${TMPDIR:-/tmp}/check-layers.$$" || true
		while IFS=: read -r line hdr; do
			case "$hdr" in
			*/*) target=${hdr%%/*} ;;
			*)
				if [ -f "$src/$hdr" ]; then target=base
				else
					echo "$f:$line: #include \"$hdr\": name the header with its stage (\"STAGE/$hdr\") or move it to the base" >&2
					status=1
					continue
				fi ;;
			esac
			if [ "$target" != base ] && [ ! -f "$src/$hdr" ]; then
				echo "$f:$line: #include \"$hdr\": no such header under src/" >&2
				status=1
				continue
			fi
			case " base $stage $may " in
			*" $target "*) ;;
			*)
				echo "$f:$line: #include \"$hdr\": the $stage stage may not use the $target stage (docs/HACKING.md, Layout)" >&2
				status=1 ;;
			esac
		done <"${TMPDIR:-/tmp}/check-layers.$$"
	done
done
rm -f "${TMPDIR:-/tmp}/check-layers.$$"
[ "$status" -eq 0 ] && echo "check-layers: the includes of $src run one way"
exit "$status"
