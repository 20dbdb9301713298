# The front door. Everything real lives in CMake; this only names the jobs.
#   make            build into build/ (CLI at build/ipfs-accelerate)
#   make demo       install deps, build, run the main job
#   make test       install deps, build with ASan+UBSan into build-asan/, run ctest
#   make bench      run the benchmarks in bench/
#   make fuzz       build libFuzzer targets with clang and fuzz each for FUZZ_SECONDS
#   make install    install library, headers, CLI, pkg-config and CMake files (PREFIX)

BUILD      ?= build
TEST_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
PREFIX     ?= /usr/local
JOBS       ?= $(shell nproc)
FUZZ_SECONDS ?= 60
CTEST_ARGS ?=

.PHONY: all build deps demo test bench fuzz install clean format

all: build

build:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

deps:
	@scripts/install-deps.sh

demo: deps build
	@scripts/demo.sh $(BUILD)/ipfs-accelerate

test: deps
	@cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DIA_SANITIZE=ON >/dev/null
	@cmake --build $(TEST_BUILD) -j $(JOBS)
	@cd $(TEST_BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

bench: deps build
	@bench/run.sh $(BUILD)

fuzz: deps
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIA_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

install: build
	@cmake --install $(BUILD)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(FUZZ_BUILD)
