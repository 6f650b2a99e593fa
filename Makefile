# Roll for Language — build, test and install.
#   make test      every test: the Swift tests (then, as they land, the C and Python consumers of librfl)
#   make release   optimized build of everything
#   make bench     the engine's benchmarks (`rfl bench`), optimized

SWIFT ?= swift

.PHONY: all build release test swift-test bench schema clean

all: build

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release

test: swift-test

swift-test:
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

bench:
	$(SWIFT) run -c release rfl bench

# The pack schema is built into the loader: regenerate its Swift copy after editing the .xsd.
schema:
	python3 scripts/embed-schema.py rulesets/schema/pack-1.xsd Sources/ContentPacks/XML/PackSchema+Text.swift

clean:
	rm -rf .build
