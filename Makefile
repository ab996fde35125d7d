# patchtrail — see README.md.
GO      ?= go
BIN     := bin/patchtrail
SHARED  ?= $(abspath ../shared)
CACHE   ?= $(abspath .cache)
DEMO    ?= $(CACHE)/demo-data

# Real data for tests and benchmarks: the io-uring epoch from ../shared is
# unpacked once into the cache; tests skip what they cannot find.
export PATCHTRAIL_CORPUS ?= $(CACHE)/corpus
export PATCHTRAIL_VULNS  ?= $(SHARED)/corpus/vulns
export PATCHTRAIL_LIBURING ?=
export PATCHTRAIL_EROFS_LIST ?=
export PATCHTRAIL_EROFS_UTILS ?=

.PHONY: all build test hygiene race fuzz bench bench-search parity demo corpus vet clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/patchtrail

vet:
	$(GO) vet ./...

corpus:
	@if [ -f $(SHARED)/corpus/io-uring-epoch0.tar ] && [ ! -d $(PATCHTRAIL_CORPUS)/io-uring/git/0.git ]; then \
		echo "unpacking io-uring-epoch0.tar into $(PATCHTRAIL_CORPUS)"; \
		mkdir -p $(PATCHTRAIL_CORPUS) && tar -C $(PATCHTRAIL_CORPUS) -xf $(SHARED)/corpus/io-uring-epoch0.tar; \
	fi

test: corpus vet hygiene
	$(GO) test -count=1 -timeout 20m ./...

# Fails on a tracked file over 1 MB (build outputs, data) or on Go files
# gofmt would change.
hygiene:
	@big=$$(git ls-files -z | xargs -0 -r stat -c '%s %n' 2>/dev/null | awk '$$1 > 1048576 { print $$2 " (" $$1 " bytes)" }'); \
	if [ -n "$$big" ]; then echo "tracked files over 1 MB:"; echo "$$big"; exit 1; fi
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt -l:"; echo "$$unformatted"; exit 1; fi

race: corpus
	$(GO) test -race -count=1 -timeout 30m ./...

# Long fuzzing, not part of `make test` (which runs the seed corpora).
FUZZTIME ?= 60s
fuzz:
	FUZZTIME=$(FUZZTIME) ./.ci/fuzz.sh

# Query parity with public-inbox over the whole io-uring epoch (CI runs the
# 2023 slice as part of `make test`). The indexed public-inbox inbox is kept
# in $(CACHE)/parity between runs; PATCHTRAIL_PARITY_QUERIES=file adds queries.
parity: corpus
	PATCHTRAIL_PARITY_SLICE=all PATCHTRAIL_PARITY_CACHE=$(CACHE)/parity $(GO) test -count=1 -run '^TestParity$$' -v -timeout 90m ./search | tee $(CACHE)/parity.txt

bench: corpus build
	./.ci/bench.sh
	./.ci/bench-compare.sh

# Import + index side by side with public-inbox-index (full) on a slice and
# mu on the whole epoch as a Maildir, with ratios (doc/bench.md).
.PHONY: bench-compare
bench-compare: corpus build
	./.ci/bench-compare.sh

# Search page latency beside public-inbox-httpd and the build before
# stemming, result caches off (see .ci/bench.sh).
bench-search: corpus
	./.ci/bench.sh search

# The main job on the sample archive: import, link, serve (see .ci/demo.sh).
demo: build
	./.ci/demo.sh

clean:
	rm -rf bin $(CACHE)

# Load test of `serve` on the full io-uring corpus with wrk (see .ci/loadtest.sh).
.PHONY: loadtest
loadtest: corpus
	./.ci/loadtest.sh

# The wider mix of doc/bench.md (.ci/loadtest.sh, LOADTEST_PROFILE=wide) at
# 32 and at 64 connections; and the phrase storm of doc/hostile-input.md.
.PHONY: loadtest-wide phrase-storm
loadtest-wide: corpus
	LOADTEST_PROFILE=wide LOADTEST_CONNECTIONS=32 ./.ci/loadtest.sh
	LOADTEST_PROFILE=wide LOADTEST_CONNECTIONS=64 LOADTEST_NOBUILD=1 ./.ci/loadtest.sh
phrase-storm: corpus
	./.ci/phrase-storm.sh

# Linking accuracy and CVE traces on real data, as reported in doc/linking.md
# (needs jq; PATCHTRAIL_LIBURING, a clone of axboe/liburing; for the second
# project PATCHTRAIL_EROFS_LIST, a linux-erofs public-inbox archive, and
# PATCHTRAIL_EROFS_UTILS, a clone of erofs/erofs-utils; each is skipped
# with a message when absent).
.PHONY: linking
linking: corpus
	./.ci/linking.sh

# Soak test (not part of `make test`): serve --sync under wrk load while a
# public-inbox-httpd upstream grows, SOAK_MINUTES long (default 10); see .ci/soak.sh.
.PHONY: soak
soak: corpus
	./.ci/soak.sh

# The security-fix radar (doc/radar.md): evaluation on the lists of
# RADAR_LISTS ("name=source,..."; default the io-uring epoch) and the
# training of the committed default model.
# RADAR_HOLDOUT names lists of RADAR_LISTS no model is trained on.
RADAR_FROM ?= 2025-01-01
RADAR_HOLDOUT ?=
.PHONY: radar-eval radar-model
radar-eval: corpus
	./.ci/radar.sh -holdout "$(RADAR_HOLDOUT)" eval -from $(RADAR_FROM)
radar-model: corpus
	./.ci/radar.sh -holdout "$(RADAR_HOLDOUT)" model -o internal/radar/default_model.json

# Several real lists (lore mirrors fetched into /work/.mirror, see
# .ci/scale.sh) imported into one data directory, then serve over /all/:
# msgs/s and peak RSS per list, sizes, serve RSS, query latency, after
# every list (doc/bench.md, doc/scaling.md). SCALE_DATA, SCALE_LISTS.
.PHONY: scale
scale: corpus
	./.ci/scale.sh
