#!/bin/sh
# install.sh — install opsbot from an unpacked `make dist` tarball.
#
#   ./install.sh [--prefix DIR] [--no-systemd]
#
# --prefix DIR   install under DIR (default /): DIR/usr/local/bin/opsbot,
#                DIR/etc/opsbot/{opsbot.yaml,opsbot.env,credentials/},
#                DIR/etc/systemd/system/opsbot*.service,
#                DIR/usr/local/share/doc/opsbot/. An empty directory works
#                (staging, packaging, tests); nothing outside DIR is touched.
# --no-systemd   do not run `systemctl daemon-reload` (implied when --prefix
#                is not / or systemd is not running).
#
# Existing opsbot.yaml, opsbot.env and credentials are never overwritten, so
# running it again upgrades the binary and units only. POSIX sh, no network.
set -eu

prefix=/
systemd=yes
while [ $# -gt 0 ]; do
	case "$1" in
	--prefix) [ $# -ge 2 ] || { echo "install.sh: --prefix needs a directory" >&2; exit 2; }; prefix=$2; shift 2 ;;
	--prefix=*) prefix=${1#--prefix=}; shift ;;
	--no-systemd) systemd=no; shift ;;
	-h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "install.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done

here=$(cd "$(dirname "$0")" && pwd)
[ -x "$here/bin/opsbot" ] || { echo "install.sh: $here/bin/opsbot missing: run me from the unpacked tarball" >&2; exit 1; }
mkdir -p "$prefix"
root=$(cd "$prefix" && pwd)
[ "$root" = / ] && root=

bindir=/usr/local/bin
confdir=/etc/opsbot
docdir=/usr/local/share/doc/opsbot
unitdir=/etc/systemd/system

install -d -m 0755 "$root$bindir" "$root$docdir" "$root$unitdir"
install -d -m 0755 "$root$confdir"
install -d -m 0700 "$root$confdir/credentials"
install -m 0755 "$here/bin/opsbot" "$root$bindir/opsbot"

# Config and environment: only when absent.
if [ ! -e "$root$confdir/opsbot.yaml" ]; then
	install -m 0640 "$here/configs/opsbot.example.yaml" "$root$confdir/opsbot.yaml"
	echo "installed $confdir/opsbot.yaml (edit it; \`opsbot check-config\` checks it)"
fi
install -m 0644 "$here/configs/opsbot.example.yaml" "$root$docdir/opsbot.example.yaml"

# Units, with this layout's paths (the prefix is a staging root: the units
# name the final paths).
for f in "$here"/systemd/*; do
	name=$(basename "$f")
	case "$name" in
	opsbot.env)
		dest="$root$confdir/opsbot.env"
		[ -e "$dest" ] && continue
		mode=0640 ;;
	*) dest="$root$unitdir/$name"; mode=0644 ;;
	esac
	sed -e "s|@BINDIR@|$bindir|g" -e "s|@CONFDIR@|$confdir|g" -e "s|@DOCDIR@|$docdir|g" "$f" > "$dest.tmp"
	chmod "$mode" "$dest.tmp"
	mv "$dest.tmp" "$dest"
done
for f in README.md VERSION; do
	[ -e "$here/$f" ] && install -m 0644 "$here/$f" "$root$docdir/$f"
done

cat <<MSG
opsbot $(cat "$here/VERSION" 2>/dev/null || echo "") installed under ${root:-/}.
Next:
  1. secrets (root-only files, one value each) in $confdir/credentials/:
       database_url  postgres://opsbot:PASSWORD@db1,db2/opsbot?target_session_attrs=read-write
       redis_url     redis://:PASSWORD@127.0.0.1:6379/0
       audit.key     \`openssl rand -hex 32\`
  2. edit $confdir/opsbot.yaml, then: opsbot check-config --config $confdir/opsbot.yaml
  3. systemctl enable --now opsbot-migrate.service opsbot.target
MSG

if [ "$systemd" = yes ] && [ -z "$root" ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload
fi
