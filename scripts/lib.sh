# shellcheck shell=bash
# Shared helpers for the opsbot set-up scripts. Source it; do not run it.
#
# Everything here writes to stderr, so callers can keep stdout for output that
# is meant to be eval'ed (see scripts/services.sh).

# log prints a progress message to stderr.
log() {
	printf '[opsbot] %s\n' "$*" >&2
}

# warn prints a warning to stderr.
warn() {
	printf '[opsbot] WARNING: %s\n' "$*" >&2
}

# die prints an error to stderr and exits non-zero.
die() {
	printf '[opsbot] ERROR: %s\n' "$*" >&2
	exit 1
}

# have reports whether a command is on PATH.
have() {
	command -v "$1" >/dev/null 2>&1
}

# is_root reports whether we run as root.
is_root() {
	[[ ${EUID:-$(id -u)} -eq 0 ]]
}

# as_root runs a command as root: directly when we are root, else via sudo.
as_root() {
	if is_root; then
		"$@"
	elif have sudo; then
		sudo -n "$@" || die "'sudo -n $*' failed: run this script as root, or allow passwordless sudo"
	else
		die "need root to run '$*' (not root and no sudo available)"
	fi
}

# Apt: wait up to APT_LOCK_TIMEOUT seconds for another apt/dpkg to finish.
APT_LOCK_TIMEOUT=${APT_LOCK_TIMEOUT:-600}
_APT_UPDATED=0

# _apt_logged CMD... runs an apt command as root with its output in a log file
# (shown when it fails, and also on success when OPSBOT_VERBOSE=1).
# The command gets no stdin/stdout/stderr of ours and not fd 3: package
# scripts may start daemons (e.g. redis-server's postinst), and a daemon that
# inherits our stdout or stderr keeps a caller's "$(...)" or pipe open forever.
_apt_logged() {
	local logf rc=0
	logf=$(mktemp "${TMPDIR:-/tmp}/opsbot-apt.XXXXXX.log")
	closed_fds as_root "$@" >"$logf" 2>&1 || rc=$?
	if [[ $rc -ne 0 ]]; then
		tail -n 40 "$logf" >&2 || true
		warn "'$*' failed (exit $rc); full output in $logf"
	elif [[ ${OPSBOT_VERBOSE:-0} == 1 ]]; then
		cat "$logf" >&2 || true
	fi
	if [[ $rc -eq 0 ]]; then rm -f "$logf"; fi
	return "$rc"
}

# apt_update runs 'apt-get update' once per script run, retrying while another
# apt process holds the list lock.
apt_update() {
	[[ $_APT_UPDATED -eq 1 ]] && return 0
	have apt-get || die "apt-get not found: this set-up supports Debian/Ubuntu only; install the missing tools by hand"
	local try
	for try in 1 2 3 4 5 6 7 8 9 10; do
		log "apt-get update (try $try)"
		if _apt_logged env DEBIAN_FRONTEND=noninteractive apt-get \
			-o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT" -o Acquire::Retries=3 -q update; then
			_APT_UPDATED=1
			return 0
		fi
		warn "apt-get update failed (another apt may hold the lock); retrying in 15s"
		sleep 15
	done
	die "apt-get update kept failing"
}

# apt_install PKG... installs Debian packages non-interactively, waiting for
# the dpkg lock if another apt/dpkg is running. Set APT_NO_RECOMMENDS=1 to skip
# recommended packages.
apt_install() {
	apt_update
	local extra=()
	[[ ${APT_NO_RECOMMENDS:-0} == 1 ]] && extra+=(--no-install-recommends)
	local try
	for try in 1 2 3; do
		log "apt-get install $* (try $try; this can take a few minutes)"
		if _apt_logged env DEBIAN_FRONTEND=noninteractive apt-get \
			-o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT" -o Acquire::Retries=3 \
			-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
			-q -y "${extra[@]}" install "$@"; then
			log "installed: $*"
			return 0
		fi
		warn "apt-get install $* failed; refreshing package lists and retrying in 10s"
		_APT_UPDATED=0
		sleep 10
		apt_update
	done
	die "could not install: $* (see apt-get output above)"
}

# closed_fds CMD... runs CMD (a command or function) with stdin from /dev/null
# and every inherited file descriptor above 2 closed, so that a daemon it
# starts keeps no pipe of ours or of our callers open (a caller reading such a
# pipe, e.g. "$(scripts/services.sh env)", would otherwise wait forever).
closed_fds() {
	(
		fds=()
		for f in "/proc/$BASHPID/fd/"*; do fds+=("${f##*/}"); done
		for f in "${fds[@]}"; do
			if [[ $f =~ ^[0-9]+$ ]] && ((f > 2)); then
				eval "exec $f>&-" 2>/dev/null || true
			fi
		done
		"$@" </dev/null
	)
}

# port_open HOST PORT reports whether something accepts TCP connections there.
port_open() {
	# shellcheck disable=SC2016 # $1/$2 expand in the inner bash
	timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" >/dev/null 2>&1
}
