#!/usr/bin/env bash
# Finds or starts the services opsbot needs for development and tests.
#
# Usage:
#   eval "$(scripts/services.sh env)"           Postgres + Redis; prints export lines
#   eval "$(scripts/services.sh browser)"       Chromium; prints CHROMIUM_PATH
#   eval "$(scripts/services.sh alertmanager)"  Alertmanager; prints ALERTMANAGER_PATH, AMTOOL_PATH
#   eval "$(scripts/services.sh toolchain)"     C compiler for 'go test -race'
#   scripts/services.sh stop                    stop the private instances started here
#
# Only the export lines go to stdout; every progress message goes to stderr.
# Missing tools are installed with apt-get (Debian), which needs root or sudo.
#
# Postgres, in order of preference:
#   1. $OPSBOT_DATABASE_URL (what opsbot itself reads), else $DATABASE_URL,
#      when set and reachable;
#   2. a server on 127.0.0.1:$OPSBOT_PG_PORT_USUAL (5432), or on the unix socket
#      in $OPSBOT_PG_SOCKET_USUAL (/var/run/postgresql), that lets user postgres
#      (or root) in without a password;
#   3. a private instance in .data/pg on 127.0.0.1:$OPSBOT_PG_PORT_PRIVATE
#      (55432), trust auth, started (and reused on later calls) by this script.
# The databases opsbot and opsbot_test are created when missing.
#
# Redis, likewise: $OPSBOT_REDIS_URL, else $REDIS_URL, then 127.0.0.1:$OPSBOT_REDIS_PORT_USUAL (6379),
# then a private redis-server on 127.0.0.1:$OPSBOT_REDIS_PORT_PRIVATE (56379)
# keeping its files in .data/redis.
#
# Other knobs: OPSBOT_DATA_DIR (default <repo>/.data), APT_LOCK_TIMEOUT (600 s).
set -euo pipefail

# Keep the real stdout on fd 3 for the export lines; everything else (our
# messages, apt-get, initdb, pg_ctl...) goes to stderr.
exec 3>&1 1>&2

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
# shellcheck source=scripts/lib.sh
source "$SCRIPT_DIR/lib.sh"

DATA_DIR=${OPSBOT_DATA_DIR:-$REPO_ROOT/.data}
PG_PORT_USUAL=${OPSBOT_PG_PORT_USUAL:-5432}
PG_SOCKET_USUAL=${OPSBOT_PG_SOCKET_USUAL:-/var/run/postgresql}
PG_PORT_PRIVATE=${OPSBOT_PG_PORT_PRIVATE:-55432}
REDIS_PORT_USUAL=${OPSBOT_REDIS_PORT_USUAL:-6379}
REDIS_PORT_PRIVATE=${OPSBOT_REDIS_PORT_PRIVATE:-56379}
DB_NAME=opsbot
TEST_DB_NAME=opsbot_test

# Never wait long for a connection, never prompt for a password.
export PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-5}

# ---------------------------------------------------------------- helpers ---

# emit NAME VALUE prints one export line, single-quoted, on the real stdout.
emit() {
	local v=${2//\'/\'\\\'\'}
	printf "export %s='%s'\n" "$1" "$v" >&3
}

# redact hides the password in a URL for log messages.
redact() {
	sed -E 's#(://[^:/@?]*):[^@/?]*@#\1:***@#' <<<"$1"
}

# short_hash prints a short stable hash of the repo path (for fallback dirs).
short_hash() {
	printf '%s' "$REPO_ROOT" | sha1sum | cut -c1-10
}

# resolve_data_dir makes DATA_DIR absolute (creating it when $1 is "create").
resolve_data_dir() {
	if [[ ${1:-} == create ]]; then
		mkdir -p "$DATA_DIR" || die "cannot create data dir $DATA_DIR"
	fi
	if [[ -d $DATA_DIR ]]; then
		DATA_DIR=$(cd "$DATA_DIR" && pwd)
	fi
}

# --------------------------------------------------------------- Postgres ---

ensure_pg_client() {
	if ! have psql || ! have pg_isready; then
		log "psql/pg_isready not found; installing postgresql-client"
		APT_NO_RECOMMENDS=1 apt_install postgresql-client
		hash -r
	fi
	have psql || die "psql still not found after installing postgresql-client"
	have pg_isready || die "pg_isready still not found after installing postgresql-client"
	# README's API examples are curl commands, and a test runs them.
	if ! have curl; then
		log "curl not found; installing curl"
		APT_NO_RECOMMENDS=1 apt_install curl
		hash -r
	fi
}

# pg_url_split URL sets _PG_BASE (scheme://userinfo@host:port), _PG_DB, _PG_QUERY.
pg_url_split() {
	local re='^(postgres(ql)?://[^/?]*)(/([^?]*))?(\?(.*))?$'
	[[ $1 =~ $re ]] || die "cannot parse Postgres URL '$(redact "$1")' (expected postgres://user@host:port/db?params)"
	_PG_BASE=${BASH_REMATCH[1]}
	_PG_DB=${BASH_REMATCH[4]}
	_PG_QUERY=${BASH_REMATCH[6]}
}

# pg_url BASE DB QUERY joins the parts of a Postgres URL.
pg_url() {
	printf '%s/%s%s' "$1" "$2" "${3:+?$3}"
}

# pg_try URL reports whether psql can run a query there without a password.
pg_try() {
	psql "$1" -w -X -q -At -c 'SELECT 1' >/dev/null 2>&1
}

# pg_try_server BASE QUERY reports whether the server accepts us (via one of
# its always-present databases).
pg_try_server() {
	pg_try "$(pg_url "$1" postgres "$2")" || pg_try "$(pg_url "$1" template1 "$2")"
}

# pg_use BASE QUERY sets the chosen URLs from a server base URL.
pg_use() {
	PG_MAIN_URL=$(pg_url "$1" "$DB_NAME" "$2")
	PG_TEST_URL=$(pg_url "$1" "$TEST_DB_NAME" "$2")
}

# pg_ensure_db URL creates the database named in URL if it does not exist.
pg_ensure_db() {
	pg_url_split "$1"
	local db=$_PG_DB admin="" m exists
	[[ -n $db ]] || die "no database name in '$(redact "$1")'"
	for m in postgres template1; do
		if pg_try "$(pg_url "$_PG_BASE" "$m" "$_PG_QUERY")"; then
			admin=$(pg_url "$_PG_BASE" "$m" "$_PG_QUERY")
			break
		fi
	done
	if [[ -z $admin ]]; then
		pg_try "$1" || die "cannot connect to $(redact "$_PG_BASE") to create database '$db'"
		log "Postgres: database '$db' reachable"
		return 0
	fi
	_pg_db_exists() {
		exists=$(psql "$admin" -w -X -q -At -v ON_ERROR_STOP=1 -v d="$db" \
			<<<"SELECT 1 FROM pg_database WHERE datname = :'d';") ||
			die "cannot list databases on $(redact "$_PG_BASE")"
		[[ $exists == 1 ]]
	}
	if _pg_db_exists; then
		log "Postgres: database '$db' exists"
		return 0
	fi
	log "Postgres: creating database '$db'"
	if ! psql "$admin" -w -X -q -v ON_ERROR_STOP=1 -v d="$db" <<<'CREATE DATABASE :"d";'; then
		# Another run may have created it at the same moment.
		_pg_db_exists || die "could not create database '$db' on $(redact "$_PG_BASE")"
	fi
}

# pg_private_paths sets PG_DIR (data) and PG_SOCK_DIR (unix socket) of the
# private instance: .data/pg and .data/pg-run, unless user postgres cannot
# reach .data (e.g. repo under /root) or the socket path would be too long,
# then under /var/tmp or /tmp.
pg_private_paths() {
	resolve_data_dir "${1:-}"
	PG_DIR=$DATA_DIR/pg
	PG_SOCK_DIR=$DATA_DIR/pg-run
	PG_LOG=$PG_DIR/server.log
	local alt
	alt=/var/tmp/opsbot-$(short_hash)
	if is_root && id -u postgres >/dev/null 2>&1 && [[ -d $DATA_DIR ]] &&
		! runuser -u postgres -- test -x "$DATA_DIR" 2>/dev/null; then
		[[ ${1:-} == create ]] && warn "user postgres cannot enter $DATA_DIR; keeping the private Postgres in $alt instead"
		PG_DIR=$alt/pg
		PG_SOCK_DIR=$alt/pg-run
		PG_LOG=$PG_DIR/server.log
	fi
	# Unix socket paths are limited to ~107 bytes.
	if ((${#PG_SOCK_DIR} + 20 > 100)); then
		PG_SOCK_DIR=/tmp/opsbot-pg-$(short_hash)
	fi
}

# pg_as runs a command as the postgres system user when we are root (initdb
# and postgres refuse to run as root), else as ourselves.
pg_as() {
	if is_root; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

ensure_pg_user() {
	is_root || return 0
	id -u postgres >/dev/null 2>&1 && return 0
	log "creating system user 'postgres'"
	useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home \
		--shell /bin/sh postgres || die "could not create user postgres"
}

# pg_major BINDIR prints the major version of the server in BINDIR.
pg_major() {
	"$1/postgres" --version 2>/dev/null | grep -oE '[0-9]+' | head -n1
}

# find_pg_bin [WANT] sets PG_BIN to a directory with initdb, pg_ctl and
# postgres (of major version WANT, if given). Returns 1 if there is none.
find_pg_bin() {
	local want=${1:-} d cands=()
	if compgen -G '/usr/lib/postgresql/*/bin' >/dev/null; then
		while IFS= read -r d; do cands+=("$d"); done < <(
			printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5,5 -V -r)
	fi
	if have pg_ctl; then
		d=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
		cands+=("$d")
	fi
	for d in "${cands[@]}"; do
		[[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]] || continue
		if [[ -n $want && $(pg_major "$d") != "$want" ]]; then
			continue
		fi
		PG_BIN=$d
		return 0
	done
	return 1
}

# pg_write_conf (re)writes the settings of the private instance.
pg_write_conf() {
	local conf=$PG_DIR/postgresql.conf
	if ! grep -q "^include_if_exists = 'opsbot.conf'" "$conf"; then
		printf "\n# Settings written by scripts/services.sh on every start.\ninclude_if_exists = 'opsbot.conf'\n" >>"$conf"
	fi
	local sock=${PG_SOCK_DIR//\'/\'\'}
	cat >"$PG_DIR/opsbot.conf" <<EOF
# Written by scripts/services.sh; rewritten on every start. Dev/test only.
listen_addresses = '127.0.0.1'
port = $PG_PORT_PRIVATE
unix_socket_directories = '$sock'
max_connections = 300
# Throwaway data: trade durability for speed.
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
	if is_root; then chown postgres:postgres "$PG_DIR/opsbot.conf"; fi
}

start_private_pg() {
	local port=$PG_PORT_PRIVATE base="postgres://postgres@127.0.0.1:$PG_PORT_PRIVATE" query=sslmode=disable
	pg_private_paths create

	if pg_try_server "$base" "$query"; then
		log "Postgres: reusing the private instance on 127.0.0.1:$port"
		pg_use "$base" "$query"
		return 0
	fi

	local want=""
	[[ -f $PG_DIR/PG_VERSION ]] && want=$(<"$PG_DIR/PG_VERSION")
	if ! find_pg_bin "$want"; then
		if [[ -n $want ]]; then
			if find_pg_bin; then
				die "$PG_DIR was made by PostgreSQL $want but only PostgreSQL $(pg_major "$PG_BIN") is installed; run 'scripts/services.sh stop' and remove $PG_DIR (its data is lost), or install postgresql-$want"
			fi
		fi
		log "PostgreSQL server binaries not found; installing postgresql"
		APT_NO_RECOMMENDS=1 apt_install postgresql postgresql-client
		hash -r
		find_pg_bin "$want" || die "PostgreSQL${want:+ $want} server binaries still not found after installing postgresql"
	fi
	log "Postgres: using binaries in $PG_BIN"
	ensure_pg_user

	mkdir -p "$PG_DIR" "$PG_SOCK_DIR"
	chmod 700 "$PG_DIR"
	if is_root; then
		chown postgres:postgres "$PG_DIR" "$PG_SOCK_DIR"
		pg_as test -w "$PG_DIR" || die "user postgres cannot write to $PG_DIR (check the permissions of its parent directories)"
	fi

	if [[ ! -f $PG_DIR/PG_VERSION ]]; then
		if [[ -n $(ls -A "$PG_DIR") ]]; then
			die "$PG_DIR is not empty but holds no PostgreSQL cluster; remove it and retry"
		fi
		log "Postgres: initdb $PG_DIR (trust auth, user postgres)"
		pg_as "$PG_BIN/initdb" -D "$PG_DIR" -U postgres --auth=trust -E UTF8 --no-locale \
			--no-instructions >&2 || die "initdb failed"
	fi
	pg_write_conf

	# A server from this data dir that does not answer on our port (e.g. the
	# port setting changed): restart it.
	if pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1; then
		log "Postgres: private server runs but does not answer on port $port; restarting it"
		closed_fds pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR" -m fast -w stop >&2 || true
	fi
	if port_open 127.0.0.1 "$port"; then
		die "port $port is taken by something that is not a usable Postgres; free it or set OPSBOT_PG_PORT_PRIVATE to another port"
	fi

	log "Postgres: starting private server on 127.0.0.1:$port (log: $PG_LOG)"
	# setsid: keep the server out of our caller's process group and terminal.
	# closed_fds: the server must not inherit our real stdout (fd 3) or any
	# other pipe, or a caller's "$(scripts/services.sh env)" would wait forever.
	if ! closed_fds pg_as setsid -w "$PG_BIN/pg_ctl" -D "$PG_DIR" -l "$PG_LOG" -w -t 60 start >&2; then
		tail -n 30 "$PG_LOG" >&2 2>/dev/null || true
		die "could not start the private Postgres (log above: $PG_LOG)"
	fi
	pg_try_server "$base" "$query" || die "private Postgres started but does not accept connections on 127.0.0.1:$port (log: $PG_LOG)"
	pg_use "$base" "$query"
}

choose_pg() {
	ensure_pg_client

	# OPSBOT_DATABASE_URL is what opsbot reads, so it wins over DATABASE_URL.
	local var=DATABASE_URL
	[[ -n ${OPSBOT_DATABASE_URL:-} ]] && var=OPSBOT_DATABASE_URL
	local url=${!var:-}
	if [[ -n $url ]]; then
		if pg_isready -q -d "$url" >/dev/null 2>&1; then
			pg_url_split "$url"
			if [[ -n $_PG_DB ]]; then
				PG_MAIN_URL=$url
			else
				PG_MAIN_URL=$(pg_url "$_PG_BASE" "$DB_NAME" "$_PG_QUERY")
			fi
			PG_TEST_URL=${TEST_DATABASE_URL:-$(pg_url "$_PG_BASE" "$TEST_DB_NAME" "$_PG_QUERY")}
			log "Postgres: using $var ($(redact "$PG_MAIN_URL"))"
			return 0
		fi
		warn "$var ($(redact "$url")) is set but not reachable; ignoring it"
	fi

	local port=$PG_PORT_USUAL
	if port_open 127.0.0.1 "$port" || [[ -S $PG_SOCKET_USUAL/.s.PGSQL.$port ]]; then
		local cand u base query
		for cand in tcp:postgres tcp:root sock:postgres sock:root; do
			u=${cand#*:}
			if [[ $cand == tcp:* ]]; then
				base="postgres://$u@127.0.0.1:$port"
				query=sslmode=disable
			else
				[[ -S $PG_SOCKET_USUAL/.s.PGSQL.$port ]] || continue
				base="postgres://$u@"
				query="host=$PG_SOCKET_USUAL&port=$port&sslmode=disable"
			fi
			if pg_try_server "$base" "$query"; then
				log "Postgres: using the server on ${cand%%:*} port $port as user $u"
				pg_use "$base" "$query"
				return 0
			fi
		done
		log "Postgres: a server listens on port $port but does not let postgres/root in without a password; using a private instance"
	else
		log "Postgres: nothing on 127.0.0.1:$port; using a private instance"
	fi
	start_private_pg
}

stop_private_pg() {
	pg_private_paths
	if [[ ! -f $PG_DIR/PG_VERSION ]]; then
		log "Postgres: no private instance in $PG_DIR"
		return 0
	fi
	if ! find_pg_bin "$(<"$PG_DIR/PG_VERSION")"; then
		warn "Postgres: binaries for $PG_DIR not found; cannot stop it with pg_ctl"
		return 0
	fi
	if pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1; then
		log "Postgres: stopping the private instance ($PG_DIR)"
		pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR" -m fast -w -t 60 stop >&2 || die "pg_ctl stop failed"
	else
		log "Postgres: the private instance ($PG_DIR) is not running"
	fi
}

# ------------------------------------------------------------------ Redis ---

ensure_redis_cli() {
	if ! have redis-cli; then
		log "redis-cli not found; installing redis-tools"
		APT_NO_RECOMMENDS=1 apt_install redis-tools
		hash -r
	fi
	have redis-cli || die "redis-cli still not found after installing redis-tools"
}

redis_ping() { # HOST PORT
	[[ $(timeout 5 redis-cli -h "$1" -p "$2" ping 2>/dev/null) == PONG ]]
}

redis_ping_url() { # URL
	[[ $(timeout 5 redis-cli --no-auth-warning -u "$1" ping 2>/dev/null) == PONG ]]
}

# redis_strip_db URL drops the database number: redis://h:p/3 -> redis://h:p
redis_strip_db() {
	local re='^(rediss?://[^/?]*)(/[0-9]*)?(\?.*)?$'
	if [[ $1 =~ $re ]]; then
		printf '%s%s' "${BASH_REMATCH[1]}" "${BASH_REMATCH[3]}"
	else
		die "cannot parse Redis URL '$(redact "$1")' (expected redis://host:port/db)"
	fi
}

redis_use() { # HOST PORT
	REDIS_MAIN_URL="redis://$1:$2/0"
	REDIS_TEST_URL="redis://$1:$2"
}

start_private_redis() {
	local port=$REDIS_PORT_PRIVATE dir
	resolve_data_dir create
	dir=$DATA_DIR/redis
	mkdir -p "$dir"

	if redis_ping 127.0.0.1 "$port"; then
		local their
		their=$(timeout 5 redis-cli -h 127.0.0.1 -p "$port" config get dir 2>/dev/null | sed -n 2p || true)
		if [[ -n $their && $their != "$dir" ]]; then
			log "Redis: reusing the redis on 127.0.0.1:$port (its dir is $their, not ours)"
		else
			log "Redis: reusing the private instance on 127.0.0.1:$port"
		fi
		redis_use 127.0.0.1 "$port"
		return 0
	fi
	if port_open 127.0.0.1 "$port"; then
		die "port $port is taken by something that is not a usable Redis; free it or set OPSBOT_REDIS_PORT_PRIVATE to another port"
	fi

	log "Redis: starting private redis-server on 127.0.0.1:$port (dir: $dir)"
	closed_fds redis-server --port "$port" --bind 127.0.0.1 --protected-mode yes \
		--dir "$dir" --save "" --appendonly no --daemonize yes \
		--pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >&2 ||
		die "redis-server failed to start (log: $dir/redis.log)"
	local _
	for _ in $(seq 1 50); do
		redis_ping 127.0.0.1 "$port" && break
		sleep 0.2
	done
	if ! redis_ping 127.0.0.1 "$port"; then
		tail -n 30 "$dir/redis.log" >&2 2>/dev/null || true
		die "private redis-server does not answer on 127.0.0.1:$port (log: $dir/redis.log)"
	fi
	redis_use 127.0.0.1 "$port"
}

choose_redis() {
	ensure_redis_cli

	# OPSBOT_REDIS_URL is what opsbot reads, so it wins over REDIS_URL.
	local var=REDIS_URL
	[[ -n ${OPSBOT_REDIS_URL:-} ]] && var=OPSBOT_REDIS_URL
	local url=${!var:-}
	if [[ -n $url ]]; then
		if redis_ping_url "$url"; then
			REDIS_MAIN_URL=$url
			REDIS_TEST_URL=$(redis_strip_db "$url")
			log "Redis: using $var ($(redact "$url"))"
			return 0
		fi
		warn "$var ($(redact "$url")) is set but does not answer PING; ignoring it"
	fi

	if redis_ping 127.0.0.1 "$REDIS_PORT_USUAL"; then
		log "Redis: using the server on 127.0.0.1:$REDIS_PORT_USUAL"
		redis_use 127.0.0.1 "$REDIS_PORT_USUAL"
		return 0
	fi

	if ! have redis-server; then
		log "redis-server not found; installing redis-server"
		APT_NO_RECOMMENDS=1 apt_install redis-server
		hash -r
		have redis-server || die "redis-server still not found after installing it"
		# Debian may start its own service on the usual port.
		if redis_ping 127.0.0.1 "$REDIS_PORT_USUAL"; then
			log "Redis: using the freshly installed server on 127.0.0.1:$REDIS_PORT_USUAL"
			redis_use 127.0.0.1 "$REDIS_PORT_USUAL"
			return 0
		fi
	fi
	log "Redis: nothing usable on 127.0.0.1:$REDIS_PORT_USUAL; using a private instance"
	start_private_redis
}

stop_private_redis() {
	resolve_data_dir
	local pidfile=$DATA_DIR/redis/redis.pid pid _
	if [[ ! -f $pidfile ]]; then
		log "Redis: no private instance (no $pidfile)"
		return 0
	fi
	pid=$(<"$pidfile")
	if [[ $pid =~ ^[0-9]+$ ]] && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == redis-server* ]]; then
		log "Redis: stopping the private instance (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "$pid" 2>/dev/null; then
			die "redis-server (pid $pid) did not stop"
		fi
	else
		log "Redis: the private instance is not running"
	fi
	rm -f "$pidfile"
}

# --------------------------------------------------------------- commands ---

cmd_env() {
	choose_pg
	pg_ensure_db "$PG_MAIN_URL"
	pg_ensure_db "$PG_TEST_URL"
	choose_redis

	emit DATABASE_URL "$PG_MAIN_URL"
	emit OPSBOT_DATABASE_URL "$PG_MAIN_URL"
	emit TEST_DATABASE_URL "$PG_TEST_URL"
	emit REDIS_URL "$REDIS_MAIN_URL"
	emit OPSBOT_REDIS_URL "$REDIS_MAIN_URL"
	emit TEST_REDIS_URL "$REDIS_TEST_URL"
	log "Postgres: $(redact "$PG_MAIN_URL") (tests: $(redact "$PG_TEST_URL"))"
	log "Redis: $(redact "$REDIS_MAIN_URL") (tests: $(redact "$REDIS_TEST_URL") + their own db index)"
}

cmd_browser() {
	if ! have chromium; then
		log "chromium not found; installing it"
		apt_install chromium
		hash -r
	fi
	have chromium || die "chromium still not found after installing it"
	# Pages are Chinese first: without a CJK font the screenshots the
	# console tests keep show boxes instead of characters.
	if have fc-list && [ -z "$(fc-list :lang=zh 2>/dev/null | head -1)" ]; then
		log "no CJK font found; installing fonts-noto-cjk"
		APT_NO_RECOMMENDS=1 apt_install fonts-noto-cjk || log "fonts-noto-cjk could not be installed; screenshots will show boxes"
	fi
	# Incident cards lead with their level's emoji (🔴🟠🟡🔵).
	if have fc-list && [ -z "$(fc-list 2>/dev/null | grep -i emoji | head -1)" ]; then
		log "no emoji font found; installing fonts-noto-color-emoji"
		APT_NO_RECOMMENDS=1 apt_install fonts-noto-color-emoji || log "fonts-noto-color-emoji could not be installed; card emoji will show boxes"
	fi
	local path
	path=$(command -v chromium)
	log "Chromium: $path ($(dpkg-query -W -f '${Version}' chromium 2>/dev/null || echo 'version unknown'))"
	emit CHROMIUM_PATH "$path"
}

cmd_alertmanager() {
	if ! have prometheus-alertmanager || ! have amtool; then
		log "prometheus-alertmanager/amtool not found; installing prometheus-alertmanager"
		APT_NO_RECOMMENDS=1 apt_install prometheus-alertmanager
		hash -r
	fi
	have prometheus-alertmanager || die "prometheus-alertmanager still not found after installing it"
	have amtool || die "amtool still not found after installing prometheus-alertmanager"
	log "Alertmanager: $(command -v prometheus-alertmanager), amtool: $(command -v amtool)"
	emit ALERTMANAGER_PATH "$(command -v prometheus-alertmanager)"
	emit AMTOOL_PATH "$(command -v amtool)"
}

cmd_toolchain() {
	# 'go test -race' needs cgo, hence a C compiler.
	if ! have gcc; then
		log "gcc not found (needed by 'go test -race'); installing gcc and libc6-dev"
		APT_NO_RECOMMENDS=1 apt_install gcc libc6-dev
		hash -r
	fi
	have gcc || die "gcc still not found after installing it"
	emit CGO_ENABLED 1
}

cmd_stop() {
	stop_private_pg
	stop_private_redis
}

usage() {
	sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
}

case ${1:-} in
env) cmd_env ;;
browser) cmd_browser ;;
alertmanager) cmd_alertmanager ;;
toolchain) cmd_toolchain ;;
stop) cmd_stop ;;
-h | --help | help)
	usage
	;;
*)
	usage
	exit 2
	;;
esac
