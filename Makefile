# opsbot developer entry points.
#
# On a fresh Debian machine `make run` and `make test` work as they are:
# scripts/services.sh finds Postgres and Redis (or starts private ones under
# .data/) and installs whatever is missing with apt-get (Postgres, Redis,
# Chromium, Alertmanager, a C compiler for -race).
#
#   make run            start opsbot (all components) with configs/dev.yaml
#   make test           go vet + go test -race with every service available, then make faults
#   make faults         the fault suite: private Postgres/Redis stopped, frozen, killed (scripts/faults.sh)
#   make scaleout       3 serve, 2 worker, 2 scheduler under load, kill -9 and a Sentinel failover (SCALEOUT_DURATION=2m)
#   make build          build bin/opsbot
#   make dist           offline install tarball in dist/ (static binary, units, install.sh)
#   make deploy-check   render deploy/k8s with kubectl kustomize, test the deploy/ artefacts
#   make migrate        apply the database migrations (configs/dev.yaml)
#   make lint           go vet, gofmt, staticcheck (best effort)
#   make bench          run the benchmarks in bench/, if any
#   make chart-font     regenerate the digest chart's subset font from its labels (scripts/chart-font.sh)
#   make cover          coverage of core/... and bot: by their own tests, then with every test
#   make services-stop  stop the private Postgres/Redis started under .data/
#   make clean          remove bin/

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
# Each recipe runs in one shell, so the exported environment carries over
# from line to line and any failing line stops the recipe.
.ONESHELL:
.DEFAULT_GOAL := help

# Go from /usr/local/go when it is not on PATH already.
ifeq ($(shell command -v go 2>/dev/null),)
ifneq ($(wildcard /usr/local/go/bin/go),)
export PATH := /usr/local/go/bin:$(PATH)
endif
endif

GO                 ?= go
CONFIG             ?= configs/dev.yaml
SERVICES           := scripts/services.sh
STATICCHECK        := honnef.co/go/tools/cmd/staticcheck
# staticcheck release 2025.1.1 is module version v0.6.1; the Go module proxy
# only serves the semver name.
STATICCHECK_VERSION := v0.6.1

# $(call load,WHAT) runs `scripts/services.sh WHAT` and evals its export
# lines. The assignment makes a failing script stop the recipe (a bare
# eval "$(...)" would not).
load = _svc_out="$$($(SERVICES) $(1))"; eval "$$_svc_out"

.PHONY: help run test faults scaleout build dist deploy-check migrate lint bench chart-font cover services-stop clean

help:
	@sed -n '3,22p' $(firstword $(MAKEFILE_LIST)) | sed 's/^# \{0,1\}//'

run:
	@echo "==> Services: Postgres + Redis (scripts/services.sh env)"
	$(call load,env)
	echo "==> go run . all --config $(CONFIG)"
	exec $(GO) run . all --config $(CONFIG)

test:
	@echo "==> [1/7] Services: Postgres + Redis (scripts/services.sh env)"
	$(call load,env)
	echo "==> [2/7] Chromium (scripts/services.sh browser)"
	$(call load,browser)
	echo "==> [3/7] Alertmanager (scripts/services.sh alertmanager)"
	$(call load,alertmanager)
	echo "==> [4/7] C compiler for -race (scripts/services.sh toolchain)"
	$(call load,toolchain)
	export OPSBOT_REQUIRE_BROWSER=1
	echo "    DATABASE_URL=$$DATABASE_URL"
	echo "    TEST_DATABASE_URL=$$TEST_DATABASE_URL"
	echo "    REDIS_URL=$$REDIS_URL TEST_REDIS_URL=$$TEST_REDIS_URL"
	echo "    CHROMIUM_PATH=$$CHROMIUM_PATH OPSBOT_REQUIRE_BROWSER=$$OPSBOT_REQUIRE_BROWSER"
	echo "    ALERTMANAGER_PATH=$$ALERTMANAGER_PATH AMTOOL_PATH=$$AMTOOL_PATH"
	echo "    $$($(GO) version)"
	echo "==> [5/7] go vet ./..., kubectl kustomize deploy/k8s"
	$(GO) vet ./...
	if command -v kubectl >/dev/null; then kubectl kustomize deploy/k8s >/dev/null; fi
	echo "==> [6/7] go test -race -count=1 -timeout 15m -skip '^TestFault' ./..."
	$(GO) test -race -count=1 -timeout 15m -skip '^TestFault' ./...
	echo "==> [7/7] Fault suite, under -race (scripts/faults.sh; about a minute)"
	FAULT_GOFLAGS=-race scripts/faults.sh

faults:
	@echo "==> Services: Postgres + Redis (scripts/services.sh env)"
	$(call load,env)
	scripts/faults.sh

# The scale-out proof (issue 13 item 4): private Postgres, Redis master +
# replica + 3 Sentinels on ports 26100-26299, real opsbot processes built
# once; prints a table and fails on anything lost or duplicated.
SCALEOUT_DURATION ?= 2m
scaleout:
	@echo "==> go test ./scaleout/ (OPSBOT_SCALEOUT=1, SCALEOUT_DURATION=$(SCALEOUT_DURATION))"
	OPSBOT_SCALEOUT=1 SCALEOUT_DURATION=$(SCALEOUT_DURATION) $(GO) test -count=1 -v -timeout 15m -run '^TestScaleOut$$' ./scaleout/ \
		| grep -v 'scaleout_test.go:[0-9]*: \[t+'

build:
	@echo "==> go build -o bin/opsbot ."
	$(GO) build -o bin/opsbot .

# VERSION defaults to `git describe`; override with make dist VERSION=v1.2.3.
dist:
	@echo "==> deploy/dist.sh dist (CGO_ENABLED=0 -trimpath, version via -ldflags)"
	deploy/dist.sh dist

deploy-check:
	@echo "==> kubectl kustomize deploy/k8s"
	if command -v kubectl >/dev/null; then
		kubectl kustomize deploy/k8s >/dev/null && echo "    renders"
	else
		echo "    kubectl not installed: the Go test in deploy/ parses the manifests instead"
	fi
	echo "==> go test ./deploy/ (tarball + install.sh --prefix, compose and k8s checks)"
	$(GO) test -count=1 ./deploy/

migrate:
	@echo "==> Services: Postgres + Redis (scripts/services.sh env)"
	$(call load,env)
	echo "==> go run . migrate --config $(CONFIG)"
	$(GO) run . migrate --config $(CONFIG)

lint:
	@echo "==> go vet ./..."
	$(GO) vet ./...
	echo "==> gofmt -l"
	mapfile -t gofiles < <(find . -type f -name '*.go' \
		-not -path './.git/*' -not -path './.data/*' -not -path './bin/*' \
		-not -path '*/testdata/*' -not -path '*/node_modules/*')
	if (( $${#gofiles[@]} > 0 )); then
		unformatted="$$(gofmt -l "$${gofiles[@]}")"
		if [[ -n "$$unformatted" ]]; then
			echo "These files need gofmt (run: gofmt -w <file>):"
			echo "$$unformatted"
			exit 1
		fi
	fi
	echo "==> staticcheck $(STATICCHECK_VERSION) (= 2025.1.1; best effort)"
	if GOBIN="$(CURDIR)/bin/tools" $(GO) install $(STATICCHECK)@$(STATICCHECK_VERSION); then
		"$(CURDIR)/bin/tools/staticcheck" ./...
	else
		echo "NOTE: could not fetch or build staticcheck $(STATICCHECK_VERSION); skipping it"
	fi

bench:
	@echo "==> Services: Postgres + Redis (scripts/services.sh env)"
	$(call load,env)
	echo "==> 60 s of alert ingest racing the alert and incident timers: no deadlock, no 5xx"
	$(GO) test -count=1 -run '^TestNoDeadlocks$$' ./alerts -stress=60s
	if [[ -f bench/main.go ]]; then
		echo "==> go run ./bench"
		$(GO) run ./bench
	elif [[ -d bench ]]; then
		echo "==> go test -run='^$$' -bench=. -benchmem ./bench/..."
		$(GO) test -run='^$$' -bench=. -benchmem ./bench/...
	else
		echo "no benchmarks yet"
	fi

chart-font:
	@echo "==> scripts/chart-font.sh (Noto Sans CJK SC subset to the digest chart's labels)"
	scripts/chart-font.sh

cover:
	@echo "==> Services: Postgres + Redis (scripts/services.sh env)"
	$(call load,env)
	echo "==> Coverage of core/... and bot by their own tests"
	$(GO) test -count=1 -cover ./core/... ./bot/ | sed 's/^/    /'
	echo "==> Coverage of core/... and bot by every test (unit, storage, tasks, end to end)"
	$(GO) test -count=1 -coverpkg=./core/...,./bot -coverprofile=cover.out ./... >/dev/null
	$(GO) tool cover -func=cover.out | awk '{split($$1, f, ":"); sub("/[^/]*$$", "", f[1]); pkg=f[1]} \
		$$1 != "total:" {pct=$$NF; sub("%", "", pct); n[pkg]++; s[pkg]+=pct} \
		$$1 == "total:" {total=$$NF} \
		END {for (p in n) printf "    %-28s %5.1f%% (mean of functions)\n", p, s[p]/n[p]; print "    total (statements)           " total}' | sort

services-stop:
	@$(SERVICES) stop

clean:
	@echo "==> rm -rf bin/ dist/"
	rm -rf bin/ dist/
