# Roll for Language — build, test and install.
#   make test                  every test: the Swift tests, the store suite on PostgreSQL, then the C and Python
#                              consumers of librfl (the C consumer under valgrind against both the debug and the
#                              optimized library)
#   make postgres-test         the store suite against a throwaway PostgreSQL cluster (after swift-test's build)
#   make release               optimized build of everything
#   make lib                   librfl.so.1 (the C ABI) in $(LIBDIR), from the $(CONFIG) build
#   make install PREFIX=/usr/local   header, library and rfl.pc (pkg-config)
#   make bench                 the engine's benchmarks (`rfl bench`) and the C ABI's, optimized

SWIFT ?= swift
CC ?= cc
CXX ?= c++
PYTHON ?= python3
PREFIX ?= /usr/local
CONFIG ?= release
ABI := 1
VERSION := $(shell sed -n 's/.*static let major = \([0-9]*\).*/\1/p; s/.*static let minor = \([0-9]*\).*/\1/p; s/.*static let patch = \([0-9]*\).*/\1/p' Sources/Mechanics/Support/EngineVersion.swift | paste -sd.)
BUILD := .build/$(CONFIG)
LIBDIR := .build/lib-$(CONFIG)
CFLAGS_TEST := -std=c11 -Wall -Wextra -Werror -pedantic -Iinclude -DRULESETS='"$(CURDIR)/rulesets"'
LINK := -L$(LIBDIR) -lrfl -Wl,-rpath,$(CURDIR)/$(LIBDIR) -lm
CBIN := .build/c-$(CONFIG)

.PHONY: all deps build release test swift-test postgres-test c-test python-test abi-test install-test lab-test hostile-test contract-test lab-screenshot lib install install-files bench schema clean

all: build

# The Debian packages the build and the tests need, and moto, PyYAML and schemathesis from PyPI (run as root; CI runs it
# before `make test`).
DEBIAN_PACKAGES := libxml2-dev libsqlite3-dev pkg-config valgrind gcc g++ python3 python3-pip chromium
# The S3-compatible server the S3 tests start (Tests/Data/moto_s3.py), from PyPI.
MOTO_VERSION := 5.2.1
# The contract fuzzer of the contract test (Tests/Hostile/schemathesis_test.py), from PyPI.
SCHEMATHESIS_VERSION := 4.32.5
deps:
	@missing=""; for package in $(DEBIAN_PACKAGES); do dpkg -s $$package >/dev/null 2>&1 || missing="$$missing $$package"; done; \
	if [ -z "$$missing" ]; then echo "all build and test packages are installed"; \
	elif [ "$$(id -u)" != 0 ]; then echo "missing Debian packages:$$missing (install them as root, or run make deps as root)" >&2; exit 1; \
	else echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi
	@$(PYTHON) -c 'import moto.server, boto3, moto; assert moto.__version__ == "$(MOTO_VERSION)"' 2>/dev/null \
	  && echo "moto $(MOTO_VERSION) is installed" \
	  || $(PYTHON) -m pip install --quiet "moto[server]==$(MOTO_VERSION)"
	@$(PYTHON) -c 'import yaml' 2>/dev/null || $(PYTHON) -m pip install --quiet pyyaml
	@$(PYTHON) -c 'import schemathesis; assert schemathesis.__version__ == "$(SCHEMATHESIS_VERSION)"' 2>/dev/null \
	  && echo "schemathesis $(SCHEMATHESIS_VERSION) is installed" \
	  || $(PYTHON) -m pip install --quiet "schemathesis==$(SCHEMATHESIS_VERSION)"

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release

# Installs what the tests need first (the packages above), so that a fresh machine passes.
test: deps swift-test
	$(MAKE) postgres-test c-test python-test abi-test install-test lab-test hostile-test contract-test CONFIG=debug
	$(MAKE) c-test CONFIG=release

swift-test:
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# The store suite (StoreSuite, and PostgresStartTests) once more, on PostgreSQL, with the HTTP and socket suites of
# accounts, play and live events on servers whose database is PostgreSQL (RFL_TEST_SERVER_ENGINE): scripts/postgres-cluster.sh
# installs Debian's postgresql package when initdb is missing (as root), starts a throwaway cluster as an unprivileged
# user on 127.0.0.1, sets RFL_TEST_DATABASE_URL for the run, and stops and removes the cluster after it. (swift-test runs
# the store suite without that variable: its PostgreSQL cases are reported skipped there.)
POSTGRES_SUITES := StoreSuite|PostgresStartTests|RegistrationTests|SessionTests|PlayTests|LiveTests
postgres-test:
	scripts/postgres-cluster.sh env RFL_TEST_SERVER_ENGINE=postgresql $(SWIFT) test --skip-build --filter '$(POSTGRES_SUITES)'

# librfl.so.1 with the linker name beside it. SwiftPM names the product libRFL.so (a product may
# not share the `rfl` executable's name); its SONAME is already librfl.so.$(ABI).
lib:
	$(SWIFT) build -c $(CONFIG) --product RFL
	mkdir -p $(LIBDIR)
	cp $(BUILD)/libRFL.so $(LIBDIR)/librfl.so.$(ABI)
	ln -sf librfl.so.$(ABI) $(LIBDIR)/librfl.so

c-test: lib
	mkdir -p $(CBIN)
	$(CC) $(CFLAGS_TEST) -fsyntax-only -x c include/rfl.h
	$(CXX) -std=c++17 -Wall -Wextra -Werror -pedantic -Iinclude -fsyntax-only Tests/CConsumer/header.cpp
	$(CC) $(CFLAGS_TEST) Tests/CConsumer/test_rfl.c -o $(CBIN)/test_rfl $(LINK)
	$(CC) $(CFLAGS_TEST) -pthread Tests/CConsumer/test_threads.c -o $(CBIN)/test_threads $(LINK)
	$(CBIN)/test_rfl
	$(CBIN)/test_threads
	valgrind --quiet --error-exitcode=1 --suppressions=Tests/CConsumer/valgrind.supp --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite $(CBIN)/test_rfl
	valgrind --quiet --error-exitcode=1 --suppressions=Tests/CConsumer/valgrind.supp --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite $(CBIN)/test_threads

python-test: lib
	RFL_LIBRARY=$(CURDIR)/$(LIBDIR)/librfl.so.$(ABI) RFL_RULESETS=$(CURDIR)/rulesets $(PYTHON) Tests/PythonConsumer/test_rfl.py

# The dice lab end to end in headless Chromium, against the rfl-server that swift-test built.
lab-test:
	$(PYTHON) Tests/Lab/lab_test.py $(CURDIR)/.build/debug/rfl-server

# Hostile requests against the real server, over raw sockets: every operation under odd path
# spellings, extreme query values, malformed and huge bodies, hostile headers, broken framing,
# slow senders and WebSocket abuse; the server must never die, answer 5xx or hang.
hostile-test:
	$(PYTHON) Tests/Hostile/hostile_test.py $(CURDIR)/.build/debug/rfl-server

# schemathesis over every operation of the contract, against the real server: no 5xx, and
# statuses, types, headers and bodies as the document declares them.
contract-test:
	$(PYTHON) Tests/Hostile/schemathesis_test.py $(CURDIR)/.build/debug/rfl-server

# The screenshot in docs/, taken by the same test.
lab-screenshot:
	$(SWIFT) build --product rfl-server
	$(PYTHON) Tests/Lab/lab_test.py $(CURDIR)/.build/debug/rfl-server --screenshot docs/lab.png

abi-test: lib
	$(PYTHON) Tests/CConsumer/abi_check.py include/rfl.h $(LIBDIR)/librfl.so.$(ABI)

# Installs into a scratch prefix, then builds and runs a program with only pkg-config's flags.
install-test: lib
	rm -rf $(CBIN)/prefix
	$(MAKE) install-files PREFIX=$(CURDIR)/$(CBIN)/prefix
	PKG_CONFIG_PATH=$(CURDIR)/$(CBIN)/prefix/lib/pkgconfig sh -c '$(CC) -std=c11 -Wall -Werror Tests/CConsumer/example.c -o $(CBIN)/example $$(pkg-config --cflags --libs rfl)'
	env -u LD_LIBRARY_PATH $(CBIN)/example | grep -q '^total [0-9]*, band [0-3]$$'
	$(PYTHON) Tests/CConsumer/doc_example_check.py docs/c-api.md Tests/CConsumer/example.c

install: lib install-files

install-files:
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 include/rfl.h $(DESTDIR)$(PREFIX)/include/rfl.h
	install -m 755 $(LIBDIR)/librfl.so.$(ABI) $(DESTDIR)$(PREFIX)/lib/librfl.so.$(ABI)
	ln -sf librfl.so.$(ABI) $(DESTDIR)$(PREFIX)/lib/librfl.so
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' include/rfl.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/rfl.pc

bench: CONFIG = release
bench: lib
	$(SWIFT) run -c release rfl bench
	mkdir -p $(CBIN)
	$(CC) -std=c11 -O2 -Iinclude Tests/CConsumer/bench.c -o $(CBIN)/bench $(LINK)
	$(CBIN)/bench

# The pack schema is built into the loader: regenerate its Swift copy after editing the .xsd.
schema:
	$(PYTHON) scripts/embed-schema.py rulesets/schema/pack-1.xsd Sources/ContentPacks/XML/PackSchema+Text.swift

clean:
	rm -rf .build
