#!/usr/bin/env bash
# dist.sh — build the offline install tarball (make dist).
#
#   deploy/dist.sh [OUTDIR]      (default dist/)
#
# VERSION, COMMIT, BUILD_DATE, GOOS, GOARCH come from the environment or git.
# Prints the tarball's path on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
commit=${COMMIT:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
build_date=${BUILD_DATE:-$(git log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)}
goos=${GOOS:-linux}
goarch=${GOARCH:-$(go env GOARCH)}
name=opsbot-$version-$goos-$goarch
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
dir=$stage/$name

mkdir -p "$dir/bin" "$dir/configs" "$dir/systemd" "$out"
CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch go build -trimpath \
	-ldflags "-s -w -X main.version=$version -X main.commit=$commit -X main.buildDate=$build_date" \
	-o "$dir/bin/opsbot" .
cp configs/opsbot.example.yaml "$dir/configs/"
cp deploy/systemd/* "$dir/systemd/"
cp deploy/install.sh deploy/Containerfile.dist "$dir/"
cp README.md "$dir/"
echo "$version" > "$dir/VERSION"
# Reproducible: fixed owner, order and times.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="$build_date" \
	-C "$stage" -czf "$out/$name.tar.gz" "$name"
(cd "$out" && sha256sum "$name.tar.gz" > "$name.tar.gz.sha256")
echo "$out/$name.tar.gz"
