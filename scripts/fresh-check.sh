#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fresh-check: do the README's set-up commands work on a fresh Debian 12
# machine? Builds (or takes from the cache) a bare bookworm root —
# debootstrap minbase plus git, make, gcc, libc6-dev and ca-certificates,
# nothing else — unpacks it into a new temporary directory, clones the
# current commit into it and runs the commands of the README's first ```sh
# block in a chroot, exactly as written (today `make demo` and `make test`).
# Every other package must come in through the project's own `make deps`.
#
# Run as root from the repository: `bash scripts/fresh-check.sh` (or
# `make fresh-check`). Only the committed HEAD is checked; uncommitted
# changes never are. Knobs and the cache are described in docs/fresh-check.md.
#
# Exit status: 0 every command passed; 1 a README command failed (or its
# promised output is missing); 2 the check itself could not run (not root,
# debootstrap or the network failed, lock not obtained, mount failure, ...);
# 130/143 interrupted.
#
# shellcheck disable=SC2317 # functions run from traps and run_step look unreachable to it
set -euo pipefail

readonly SUITE=bookworm
readonly VARIANT=minbase
readonly INCLUDE=git,make,gcc,libc6-dev,ca-certificates
# Bump when the way the cached base is prepared changes: it rebuilds it.
readonly BASE_FORMAT=1
readonly DEFAULT_MIRROR=http://deb.debian.org/debian
readonly CHROOT_PATH=/usr/sbin:/usr/bin:/sbin:/bin
readonly SRC_IN_ROOT=/root/certpress
readonly TAIL_LINES=60
readonly CHROOT_HOSTNAME=certpress-fresh

prog=fresh-check
t_start=$(date +%s)

say() { printf '%s: %s\n' "$prog" "$*"; }
die() {
	local code=$1
	shift
	printf '%s: error: %s\n' "$prog" "$*" >&2
	exit "$code"
}
fmt_dur() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# ---- knobs -----------------------------------------------------------------
runs=${FRESH_RUNS:-1}
case "$runs" in '' | *[!0-9]* | 0*) die 2 "FRESH_RUNS must be a positive integer (got '$runs')" ;; esac
step_timeout=${FRESH_STEP_TIMEOUT:-1800}
case "$step_timeout" in '' | *[!0-9]* | 0*) die 2 "FRESH_STEP_TIMEOUT must be a positive number of seconds" ;; esac
lock_wait=${FRESH_LOCK_WAIT:-3600}
case "$lock_wait" in '' | *[!0-9]*) die 2 "FRESH_LOCK_WAIT must be a number of seconds" ;; esac
cache=${FRESH_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/certpress/fresh-check}
rebuild=${FRESH_REBUILD:-0}
keep=${FRESH_KEEP:-0}

# ---- preconditions: these fail with status 2, never skip -----------------
[ "$(id -u)" = 0 ] || die 2 "must run as root (debootstrap, chroot and mount need it); try: sudo bash scripts/fresh-check.sh"
for tool in git tar chroot mount umount flock timeout sha256sum dpkg apt-get; do
	command -v "$tool" >/dev/null 2>&1 || die 2 "'$tool' not found on this machine (a Debian 12 host is expected)"
done

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(git -c safe.directory='*' -C "$script_dir/.." rev-parse --show-toplevel 2>/dev/null) ||
	die 2 "$script_dir/.. is not a git work tree"
head=$(git -c safe.directory='*' -C "$repo" rev-parse --verify 'HEAD^{commit}' 2>/dev/null) ||
	die 2 "$repo has no commit to check"

mkdir -p "$cache" || die 2 "cannot create the cache folder $cache"
cache=$(cd "$cache" && pwd -P)
case "$cache/" in "$(cd "$repo" && pwd -P)/"*) die 2 "FRESH_CACHE ($cache) must be outside the repository" ;; esac

if [ -n "${FRESH_LOG:-}" ]; then
	logs=$FRESH_LOG
	mkdir -p "$logs" || die 2 "cannot create the log folder $logs"
else
	logs=$(mktemp -d "${TMPDIR:-/tmp}/certpress-fresh-logs.XXXXXX")
fi
logs=$(cd "$logs" && pwd -P)

# ---- state for the exit trap ---------------------------------------------
work=""          # temporary folder holding the root (and the base being built)
root=""          # the chroot
current_child="" # the running step, killed on interrupt
declare -a st_name=() st_time=() st_result=()
declare -a test_failures=()

# Mount points at or below $1, deepest first (from /proc/self/mountinfo,
# whose octal escapes such as \040 are decoded).
mounts_under() {
	local base=$1 mp
	while read -r _ _ _ _ mp _; do
		mp=$(printf '%b' "$mp")
		case "$mp" in "$base" | "$base"/*) printf '%s\n' "$mp" ;; esac
	done </proc/self/mountinfo | sort -r
}

# Processes whose root directory is inside $1: only ever ones this script
# started (the directory is new), ended by their process id.
kill_inside() {
	local base=$1 pid r sig found
	for sig in TERM KILL; do
		found=0
		for pid in /proc/[0-9]*; do
			r=$(readlink "$pid/root" 2>/dev/null) || continue
			case "$r" in "$base" | "$base"/*)
				found=1
				kill "-$sig" "${pid#/proc/}" 2>/dev/null || true
				;;
			esac
		done
		[ "$found" = 1 ] || return 0
		sleep 2
	done
}

umount_all_under() {
	local base=$1 mp try
	for try in 1 2 3; do
		[ -n "$(mounts_under "$base")" ] || return 0
		while read -r mp; do
			[ -n "$mp" ] || continue
			umount "$mp" 2>/dev/null || { [ "$try" -lt 3 ] || umount -l "$mp" 2>/dev/null; } || true
		done < <(mounts_under "$base")
		sleep "$((try - 1))"
	done
	[ -z "$(mounts_under "$base")" ]
}

cleanup() {
	local rc=$? left pid t0
	trap - EXIT INT TERM HUP
	set +e
	if [ -n "$current_child" ]; then
		# A function step is a subshell: end what it started, then it.
		if command -v pgrep >/dev/null 2>&1; then
			for pid in $(pgrep -P "$current_child"); do kill -TERM "$pid" 2>/dev/null; done
		fi
		kill -TERM "$current_child" 2>/dev/null
		wait "$current_child" 2>/dev/null
	fi
	if [ -n "$work" ] && [ -d "$work" ]; then
		kill_inside "$work"
		if ! umount_all_under "$work"; then
			left=$(mounts_under "$work")
			printf '%s: error: could not unmount, %s left in place:\n%s\n' "$prog" "$work" "$left" >&2
			[ "$rc" -ne 0 ] || rc=2
		elif [ "$keep" = 1 ] && [ -n "$root" ] && [ -d "$root" ]; then
			say "FRESH_KEEP=1: the root is kept (unmounted) in $root"
		else
			# --one-file-system: never follow into anything still mounted.
			t0=$(date +%s)
			rm -rf --one-file-system "$work"
			say "unmounted and removed the root in $(fmt_dur $(($(date +%s) - t0)))"
		fi
	fi
	exit "$rc"
}
on_signal() {
	printf '\n%s: interrupted by SIG%s; cleaning up\n' "$prog" "$1" >&2
	case "$1" in INT) exit 130 ;; HUP) exit 129 ;; *) exit 143 ;; esac
}
# Anything failing that is not handled on purpose is the check's own error.
trap 'printf "%s: error: line %s: command failed (exit %s)\n" "$prog" "$LINENO" "$?" >&2; exit 2' ERR
trap cleanup EXIT
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP

# run_step NAME LOG COMMAND...: runs one step with its output in LOG, times
# it, and on failure prints the log's last lines. The step runs in the
# background and is waited for, so that an interrupt is handled at once;
# an external command goes through timeout(1), which also gives it default
# SIGINT/SIGQUIT handling (a background job would otherwise ignore them, and
# the test suite sends SIGINT on purpose). Returns the step's status.
run_step() {
	local name=$1 log=$2 t0 dt rc=0
	shift 2
	say "-> $name"
	t0=$(date +%s)
	if [ "$(type -t "$1")" = function ]; then
		"$@" >"$log" 2>&1 </dev/null 9<&- &
	else
		timeout --kill-after=15 "$step_timeout" "$@" >"$log" 2>&1 </dev/null 9<&- &
	fi
	current_child=$!
	wait "$current_child" || rc=$?
	current_child=""
	dt=$(($(date +%s) - t0))
	st_name+=("$name")
	st_time+=("$dt")
	if [ "$rc" -eq 0 ]; then
		st_result+=("ok")
		say "   ok in $(fmt_dur "$dt")"
	else
		if [ "$rc" -eq 124 ]; then
			st_result+=("FAILED (timed out after ${step_timeout}s)")
		else
			st_result+=("FAILED (exit $rc)")
		fi
		printf '%s:    %s %s after %s; last %d lines of %s:\n' "$prog" "$name" \
			"${st_result[${#st_result[@]} - 1]}" "$(fmt_dur "$dt")" "$TAIL_LINES" "$log"
		tail -n "$TAIL_LINES" "$log" | sed 's/^/    | /'
	fi
	return "$rc"
}

# A host-side step that did not involve the project: a failure is the
# check's own (status 2).
host_step() { run_step "$@" || die 2 "step '$1' failed (log: $2)"; }

summary() {
	local i
	printf '\n%s: summary for commit %s\n' "$prog" "$head"
	for i in "${!st_name[@]}"; do
		printf '  %-36s %8s  %s\n' "${st_name[$i]}" "$(fmt_dur "${st_time[$i]}")" "${st_result[$i]}"
	done
	printf '  %-36s %8s\n' "total" "$(fmt_dur $(($(date +%s) - t_start)))"
	if [ "${#test_failures[@]}" -gt 0 ]; then
		printf '  failing tests:\n'
		printf '    %s\n' "${test_failures[@]}"
	fi
	printf '  logs: %s\n' "$logs"
}

# ---- what is checked ------------------------------------------------------
say "checking commit $head of $repo"
say "only committed work is checked: uncommitted changes are NOT included"
if [ -n "$(git -c safe.directory='*' -C "$repo" status --porcelain 2>/dev/null | head -n 1)" ]; then
	say "(the work tree has uncommitted changes right now; they are left out)"
fi

# The README's set-up commands: the first ```sh block after the top heading,
# one command per line, a trailing `# comment` removed as sh would.
git -c safe.directory='*' -C "$repo" cat-file -e "$head:README.md" 2>/dev/null ||
	die 2 "commit $head has no README.md"
mapfile -t readme_cmds < <(git -c safe.directory='*' -C "$repo" show "$head:README.md" | awk '
	!top { if ($0 ~ /^# /) top = 1; next }
	!inblock { if ($0 ~ /^```sh[[:space:]]*$/) inblock = 1; next }
	/^```/ { exit }
	{
		line = $0
		sub(/^[[:space:]]*#.*$/, "", line)
		sub(/[[:space:]]#.*$/, "", line)
		sub(/^[[:space:]]+/, "", line)
		sub(/[[:space:]]+$/, "", line)
		if (line != "") print line
	}')
mapfile -t readme_notes < <(git -c safe.directory='*' -C "$repo" show "$head:README.md" | awk '
	!top { if ($0 ~ /^# /) top = 1; next }
	!inblock { if ($0 ~ /^```sh[[:space:]]*$/) inblock = 1; next }
	/^```/ { exit }
	/^[[:space:]]*#/ || /^[[:space:]]*$/ { next }
	{ n = index($0, " #"); print (n ? substr($0, n + 2) : "") }')
[ "${#readme_cmds[@]}" -gt 0 ] || die 2 "README.md at $head has no \`\`\`sh block after its top heading"
say "README set-up commands: $(printf '[%s] ' "${readme_cmds[@]}")"
[ "$runs" = 1 ] || say "the last one runs $runs times in a row (FRESH_RUNS=$runs)"

# ---- host tools -------------------------------------------------------------
if ! command -v debootstrap >/dev/null 2>&1 || [ ! -f /usr/share/keyrings/debian-archive-keyring.gpg ]; then
	host_step "install debootstrap on the host" "$logs/host-apt.log" \
		sh -c 'export DEBIAN_FRONTEND=noninteractive &&
			apt-get update -qq &&
			apt-get install -y -qq --no-install-recommends debootstrap debian-archive-keyring'
fi

# The mirror: FRESH_MIRROR, else the host's apt sources for bookworm, else
# deb.debian.org.
host_mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v suite="$SUITE" 'BEGIN { RS = "" }
			{
				deb = 0; uri = ""; ok = 0; off = 0
				n = split($0, l, "\n")
				for (i = 1; i <= n; i++) {
					if (l[i] ~ /^[Tt]ypes:/ && l[i] ~ /[[:space:]]deb([[:space:]]|$)/) deb = 1
					if (l[i] ~ /^URIs:/) { split(l[i], u, /[[:space:]]+/); uri = u[2] }
					if (l[i] ~ /^Suites:/ && (" " l[i] " ") ~ ("[[:space:]]" suite "[[:space:]]")) ok = 1
					if (l[i] ~ /^Enabled:[[:space:]]*no/) off = 1
				}
				if (deb && ok && !off && uri != "") { print uri; exit }
			}' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ ! -f "$f" ] || cat "$f"
	done | awk -v suite="$SUITE" '$1 == "deb" {
			i = 2; if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
			if ($(i + 1) == suite) print $i }'
}
mirror=${FRESH_MIRROR:-$(host_mirror | sed -n 1p)}
host_has_bookworm_sources=1
if [ -z "$mirror" ]; then
	host_has_bookworm_sources=0
	mirror=$DEFAULT_MIRROR
fi
case "$mirror" in http://* | https://*) ;; *) die 2 "mirror '$mirror' is not an http(s) URL (set FRESH_MIRROR)" ;; esac
mirror=${mirror%/}
say "mirror: $mirror"

# ---- lock, then the cached base ------------------------------------------
exec 9<"$cache"
if ! flock -n 9; then
	say "another fresh-check holds $cache; waiting up to ${lock_wait}s"
	flock -w "$lock_wait" 9 || die 2 "could not lock $cache within ${lock_wait}s"
fi

arch=$(dpkg --print-architecture)
key=$(printf '%s\n' "format=$BASE_FORMAT" "suite=$SUITE" "variant=$VARIANT" "arch=$arch" "include=$INCLUDE" |
	sha256sum | cut -c1-16)
base="$cache/base-$SUITE-$arch-$key.tar.gz"
say "cache: $base"

work=$(mktemp -d "${TMPDIR:-/var/tmp}/certpress-fresh.XXXXXX")
root="$work/root"

build_base() {
	local dir="$work/build"
	mkdir "$dir" &&
		debootstrap --variant="$VARIANT" --include="$INCLUDE" --arch="$arch" \
			"$SUITE" "$dir" "$mirror" &&
		[ -z "$(mounts_under "$dir")" ] &&
		rm -f "$dir"/var/cache/apt/archives/*.deb "$dir/etc/resolv.conf" "$dir/etc/hostname" &&
		printf '%s\n' "built $(date -u +%FT%TZ) by scripts/fresh-check.sh" \
			"debootstrap $(dpkg-query -W -f='${Version}' debootstrap) --variant=$VARIANT --include=$INCLUDE $SUITE $mirror" \
			>"$dir/etc/certpress-fresh-base" &&
		tar --numeric-owner --xattrs -C "$dir" -cf - . | gzip -1 >"$base.tmp.$$" &&
		mv -f "$base.tmp.$$" "$base" &&
		rm -rf --one-file-system "$dir"
}

if [ "$rebuild" = 1 ] || [ ! -s "$base" ]; then
	if [ "$rebuild" = 1 ]; then
		say "FRESH_REBUILD=1: building the base again with debootstrap"
	else
		say "no cached base for this package list: running debootstrap (cold cache)"
	fi
	if ! run_step "debootstrap $SUITE $VARIANT (cold)" "$logs/debootstrap.log" build_base; then
		rm -f "$base.tmp.$$"
		inner="$work/build/debootstrap/debootstrap.log"
		if [ -f "$inner" ]; then
			cp "$inner" "$logs/debootstrap-inner.log"
			printf '%s: last %d lines of debootstrap'\''s own log:\n' "$prog" "$TAIL_LINES"
			tail -n "$TAIL_LINES" "$inner" | sed 's/^/    | /'
		fi
		die 2 "debootstrap could not build the base (network, mirror or disk?); log: $logs/debootstrap.log"
	fi
	# Bases for an older package list or format are of no further use.
	for old in "$cache"/base-*.tar.gz; do
		[ "$old" = "$base" ] || rm -f "$old"
	done
else
	say "using the cached base ($(du -h "$base" | cut -f1), $(date -r "$base" +%F))"
fi

# ---- a fresh root from the base -------------------------------------------
mkdir "$root"
host_step "unpack the base" "$logs/unpack.log" \
	tar --numeric-owner --xattrs -xpzf "$base" -C "$root"
list_packages() {
	# shellcheck disable=SC2016 # a dpkg-query format, not a shell expansion
	chroot "$root" dpkg-query -W -f='${Package} ${Version}\n' | sort
}
list_packages >"$logs/packages-base.txt"

# apt inside: the host's name servers and (when it has bookworm sources) its
# apt sources, so that the chroot fetches from the same place. /etc/hostname
# and /etc/hosts as the Debian installer writes them on every machine (the
# base keeps neither: debootstrap copies the build host's hostname). No
# package, no other file.
cp -L /etc/resolv.conf "$root/etc/resolv.conf" || die 2 "cannot copy /etc/resolv.conf"
printf '%s\n' "$CHROOT_HOSTNAME" >"$root/etc/hostname"
[ -e "$root/etc/hosts" ] ||
	printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n' \
		"$CHROOT_HOSTNAME" >"$root/etc/hosts"
if [ "$host_has_bookworm_sources" = 1 ] && [ -z "${FRESH_MIRROR:-}" ]; then
	rm -f "$root/etc/apt/sources.list"
	[ ! -f /etc/apt/sources.list ] || cp /etc/apt/sources.list "$root/etc/apt/sources.list"
	for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		cp "$f" "$root/etc/apt/sources.list.d/"
		# A keyring a source names must exist inside too.
		while read -r kr; do
			case "$kr" in /*) ;; *) continue ;; esac
			if [ -f "$kr" ] && [ ! -e "$root$kr" ]; then
				mkdir -p "$root$(dirname "$kr")" && cp "$kr" "$root$kr"
			fi
		done < <(sed -n 's/.*[Ss]igned-[Bb]y[:=][[:space:]]*\([^] ]*\).*/\1/p' "$f")
	done
	say "apt sources: the host's ($(for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ ! -f "$f" ] || printf '%s ' "$f"
	done))"
else
	printf 'deb %s %s main\ndeb %s %s-updates main\n' "$mirror" "$SUITE" "$mirror" "$SUITE" \
		>"$root/etc/apt/sources.list"
	say "apt sources: $mirror $SUITE, $SUITE-updates"
fi
# A proxy the host's apt is told about must reach the chroot's apt as well.
for f in /etc/apt/apt.conf /etc/apt/apt.conf.d/*; do
	if [ -f "$f" ] && grep -qi 'proxy' "$f"; then
		cp "$f" "$root$f"
		say "apt proxy setting copied from $f"
	fi
done

# Mounts for apt, gcc and the tests; all undone by the exit trap.
mount -t proc proc "$root/proc" || die 2 "cannot mount /proc in $root"
mount -t sysfs -o ro sysfs "$root/sys" || die 2 "cannot mount /sys in $root"
# Private, so that nothing mounted below the chroot's /dev propagates to the
# host's /dev where mounts are shared (systemd's default).
mount --bind /dev "$root/dev" || die 2 "cannot bind /dev in $root"
mount --make-private "$root/dev" || die 2 "cannot make $root/dev private"
mount --bind /dev/pts "$root/dev/pts" || die 2 "cannot bind /dev/pts in $root"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm" || die 2 "cannot mount /dev/shm in $root"

# ---- the project, at its current commit -------------------------------------
clone_head() {
	local dst="$root$SRC_IN_ROOT"
	git -c safe.directory='*' clone --no-hardlinks --no-checkout "$repo" "$dst" &&
		{ git -C "$dst" cat-file -e "$head^{commit}" 2>/dev/null ||
			git -c safe.directory='*' -C "$dst" fetch origin HEAD; } &&
		git -C "$dst" checkout --detach "$head" &&
		git -C "$dst" log -1 --format='%H %s'
}
host_step "clone commit ${head:0:12}" "$logs/clone.log" clone_head

# ---- the README's commands, in the chroot, as a newcomer types them --------
chroot_env=(/usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/sh
	PATH="$CHROOT_PATH" LANG=C.UTF-8)
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
	[ -z "${!v:-}" ] || chroot_env+=("$v=${!v}")
done

# test_result LOG: the runner's closing "N passed, N failed" line, and the
# names of the failing programs and tests for the summary.
test_result() {
	local log=$1 label=$2 line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 || true)
	say "   $label: ${line:-no 'N passed, N failed' line}"
	while read -r line; do
		test_failures+=("$label: $line")
		say "     $line"
	done < <(grep -E '^FAIL |^[[:space:]]+not ok ' "$log" | sed 's/^[[:space:]]*//' || true)
}

status=0
last=$((${#readme_cmds[@]} - 1))
for i in "${!readme_cmds[@]}"; do
	cmd=${readme_cmds[$i]}
	n=1
	[ "$i" -ne "$last" ] || n=$runs
	for r in $(seq 1 "$n"); do
		label=$cmd
		[ "$n" = 1 ] || label="$cmd (run $r/$n)"
		slug=$(printf '%s' "$cmd" | tr -c 'A-Za-z0-9' '-' | sed 's/--*/-/g; s/-$//')
		log="$logs/$((i + 1))-$slug.log"
		[ "$n" = 1 ] || log="$logs/$((i + 1))-$slug.run$r.log"
		rc=0
		run_step "$label" "$log" chroot "$root" "${chroot_env[@]}" \
			/bin/sh -c "cd $SRC_IN_ROOT && $cmd" || rc=$?
		grep -qE '^[0-9]+ passed, [0-9]+ failed' "$log" && test_result "$log" "$label"
		if [ "$rc" -ne 0 ]; then
			status=1
			# A failed build step leaves nothing for the next command to use;
			# repeated runs of the last command all run, to show stability.
			[ "$i" -eq "$last" ] || break 2
			continue
		fi
		# The README's comment may promise a file (`… to out/sample.pdf`).
		promised=$(printf '%s\n' "${readme_notes[$i]:-}" | grep -oE '[A-Za-z0-9_./-]+\.pdf' | head -n 1 || true)
		if [ -n "$promised" ] && [ "$r" = 1 ]; then
			f="$root$SRC_IN_ROOT/$promised"
			if [ -s "$f" ] && [ "$(head -c 5 "$f")" = "%PDF-" ]; then
				say "   $promised: a PDF of $(stat -c %s "$f") bytes, as the README says"
			else
				say "   $promised: MISSING or not a PDF, though the README promises it"
				st_result[${#st_result[@]} - 1]="FAILED ($promised missing)"
				status=1
			fi
		fi
	done
done

list_packages >"$logs/packages-after.txt" || true
added=$(comm -13 "$logs/packages-base.txt" "$logs/packages-after.txt" | wc -l)
say "packages: $(wc -l <"$logs/packages-base.txt") in the base, $added added by the project's own install step (lists in $logs)"

summary
if [ "$status" -eq 0 ]; then
	say "PASSED: the README's set-up works on a fresh Debian 12 root"
else
	say "FAILED: the README's set-up does not work on a fresh Debian 12 root (see above)"
fi
exit "$status"
