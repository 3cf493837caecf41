#!/bin/sh
# Writes random secrets for deploy/compose.yaml into deploy/compose/secrets/
# (git-ignored). Existing files are kept, so it is safe to run again.
set -eu
cd "$(dirname "$0")"
umask 022 # compose bind-mounts these files; each image runs as its own uid
mkdir -p secrets
rand() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
[ -e secrets/postgres_password ] || rand > secrets/postgres_password
[ -e secrets/redis_password ] || rand > secrets/redis_password
[ -e secrets/alert_token ] || rand > secrets/alert_token
[ -e secrets/audit_key ] || od -An -N32 -tx1 /dev/urandom | tr -d ' \n' > secrets/audit_key
[ -e secrets/database_url ] ||
	printf 'postgres://opsbot:%s@postgres:5432/opsbot?sslmode=disable\n' "$(cat secrets/postgres_password)" > secrets/database_url
echo "secrets in $(pwd)/secrets"
