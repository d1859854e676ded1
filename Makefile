# ChatCast: `make demo` and `make test` do everything on a fresh Debian 12 machine.
SHELL := /bin/bash
CONFIG ?= release
SWIFT ?= swift
BUILD_DIR := $(shell pwd)/.build/$(CONFIG)
PLUGIN_DIR := $(shell pwd)/build/gst-plugins
PLUGINS := swiftyolo chatsink
DEFAULT_MODEL := models/ball-yolov8.torchscript
export GST_PLUGIN_PATH := $(PLUGIN_DIR)
export GST_REGISTRY := $(shell pwd)/build/registry.bin
# Tests and the demo must not pick up plugins from elsewhere on the machine's path.
export GST_PLUGIN_SYSTEM_PATH_1_0 := /usr/lib/x86_64-linux-gnu/gstreamer-1.0

.PHONY: all deps build plugins demo test test-tsan unit-test bench soak model clean install deb fuzz

all: plugins

deps:
	@bash scripts/install-deps.sh

build: deps
	$(SWIFT) build -c $(CONFIG)

# Stage each plugin alone (GST_PLUGIN_PATH tries every .so under it), with the default model.
plugins: build
	@mkdir -p $(PLUGIN_DIR)
	@for p in $(PLUGINS); do install -m 755 $(BUILD_DIR)/libgst$$p.so $(PLUGIN_DIR)/; done
	@install -m 644 $(DEFAULT_MODEL) $(PLUGIN_DIR)/swiftyolo-default.torchscript
	@rm -f $(GST_REGISTRY)
	@echo "plugins staged in $(PLUGIN_DIR): GST_PLUGIN_PATH=$(PLUGIN_DIR) gst-inspect-1.0 swiftyolo"

demo: plugins
	$(BUILD_DIR)/chatcast demo --duration 20

test: plugins
	$(SWIFT) build -c $(CONFIG) --build-tests
	/usr/bin/python3 Tests/fixtures/make_fixtures.py build/test-fixtures
	CHATCAST_FIXTURES=$(shell pwd)/build/test-fixtures $(SWIFT) test -c $(CONFIG) --skip-build --disable-swift-testing
	CONFIG=$(CONFIG) bash scripts/fuzz.sh build
	bash scripts/fuzz.sh run $(FUZZ_TEST_SECONDS)
	bash scripts/stress.sh build
	bash scripts/stress.sh run $(STRESS_TEST_SECONDS)

# ThreadSanitizer over the threaded tests (scripts/tsan.sh): its own build of the whole package
# (.build-tsan), too long for `make test` on CI's 2 cores; run before an issue is resolved.
# Zero reports pass; Tests/tsan.supp names only third-party libraries.
test-tsan: deps
	bash scripts/tsan.sh build
	bash scripts/tsan.sh run $(TSAN_FILTER)

# Stress harnesses built with AddressSanitizer (Stress/, scripts/stress.sh): `make test` gives
# each STRESS_TEST_SECONDS of real clients against our code under the sanitizer.
STRESS_TEST_SECONDS ?= 30

# Coverage-guided fuzzing of the decoders of untrusted bytes (Fuzz/, scripts/fuzz.sh): `make
# test` gives each target FUZZ_TEST_SECONDS; `make fuzz` runs long (FUZZ_SECONDS each, the
# targets in FUZZ_TARGETS or all), its grown corpus kept in build/fuzz/corpus between runs.
FUZZ_TEST_SECONDS ?= 60
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?=
fuzz: build
	CONFIG=$(CONFIG) bash scripts/fuzz.sh build
	bash scripts/fuzz.sh run $(FUZZ_SECONDS) $(FUZZ_TARGETS)

bench: plugins
	/usr/bin/python3 bench/run.py --plugins $(PLUGIN_DIR) --out bench/results
	/usr/bin/python3 bench/chat_bench.py --plugins $(PLUGIN_DIR) --out bench/results
	/usr/bin/python3 bench/irc_bench.py --chatcast $(BUILD_DIR)/chatcast --out bench/results
	/usr/bin/python3 bench/rtsp_bench.py --chatcast $(BUILD_DIR)/chatcast --plugins $(PLUGIN_DIR) --out bench/results
	/usr/bin/python3 bench/webrtc_bench.py --chatcast $(BUILD_DIR)/chatcast --plugins $(PLUGIN_DIR) --out bench/results
	/usr/bin/python3 bench/ultralytics_bench.py --plugins $(PLUGIN_DIR) --build $(BUILD_DIR) --out bench/results
	/usr/bin/python3 bench/relay_bench.py --chatcast $(BUILD_DIR)/chatcast --plugins $(PLUGIN_DIR) --out bench/results
	/usr/bin/python3 bench/contention_bench.py --build $(BUILD_DIR) --out bench/results

# A churn soak of `chatcast serve` (bench/soak.py): publishers, RTSP/WHEP viewers and chat clients
# coming and going for SOAK_MINUTES; RSS, threads, descriptors and SQLite must not grow
# (bench/results/soak.md, soak.json, soak.png; exit 1 when they do). Not part of `make test`.
SOAK_MINUTES ?= 30
soak: plugins
	/usr/bin/python3 bench/soak.py --chatcast $(BUILD_DIR)/chatcast --plugins $(PLUGIN_DIR) --out bench/results --minutes $(SOAK_MINUTES)

# Install under PREFIX (staged under DESTDIR): see scripts/install.sh.
PREFIX ?= /usr/local
DESTDIR ?=
install: plugins
	@bash scripts/install.sh $(BUILD_DIR) $(PLUGIN_DIR) $(PREFIX) $(DESTDIR)

# A Debian package of the same install under /usr.
VERSION ?= 0.1.0
deb: plugins
	@bash scripts/make-deb.sh $(BUILD_DIR) $(PLUGIN_DIR) $(VERSION) build/deb

# Retrain the bundled default model (a few minutes on 2 cores).
model: deps
	/usr/bin/python3 models/train_ball.py --out $(DEFAULT_MODEL)

clean:
	rm -rf build .build
