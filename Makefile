# lambdad build. `make deps` installs what the build and tests need,
# `make` builds build/release/lambdad, `make test` builds with ASan+UBSan and
# runs the unit tests (Criterion) and the end-to-end tests (pytest).
#
# Each src/ directory becomes a static library, so a file that includes across
# the allowed direction (service -> sandbox -> common, init -> common) fails
# to link instead of quietly growing a dependency.

CC      ?= gcc
PKGS    := libevent_core jansson libcrypto libseccomp sqlite3 libarchive
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wswitch-default -Wvla \
           -Wno-missing-field-initializers
CFLAGS_COMMON := -std=c17 -D_GNU_SOURCE -g $(WARN) -Isrc \
           $(shell pkg-config --cflags $(PKGS))
LIBS    := $(shell pkg-config --libs $(PKGS))

REL_CFLAGS  := $(CFLAGS_COMMON) -O2
ASAN_CFLAGS := $(CFLAGS_COMMON) -O1 -fno-omit-frame-pointer \
               -fsanitize=address,undefined -fno-sanitize-recover=all
ASAN_LDFLAGS := -fsanitize=address,undefined

LIB_DIRS := common init sandbox service
SRC_main := src/main.c
$(foreach d,$(LIB_DIRS),$(eval SRC_$(d) := $(sort $(wildcard src/$(d)/*.c))))

UNIT_SRC := $(sort $(wildcard tests/unit/*/*.c))
HELPER_SRC := $(sort $(wildcard tests/helpers/*.c))

.PHONY: all release asan test unit e2e deps bench lint format fuzz clean helpers

all: release

deps:
	bash scripts/deps.sh

# $(1)=variant (release|asan), $(2)=CFLAGS
define variant
build/$(1)/obj/%.o: %.c
	@mkdir -p $$(dir $$@)
	$$(CC) $(2) -MMD -MP -c $$< -o $$@

$(foreach d,$(LIB_DIRS),
build/$(1)/lib$(d).a: $$(patsubst %.c,build/$(1)/obj/%.o,$$(SRC_$(d)))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^
)

# Link order is the dependency order: a library may only use those after it.
build/$(1)/lambdad: build/$(1)/obj/src/main.o build/$(1)/libservice.a \
                    build/$(1)/libsandbox.a build/$(1)/libinit.a build/$(1)/libcommon.a
	$$(CC) $(2) $(3) -o $$@ $$^ $$(LIBS)

-include $$(shell find build/$(1)/obj -name '*.d' 2>/dev/null)
endef

$(eval $(call variant,release,$(REL_CFLAGS),))
$(eval $(call variant,asan,$(ASAN_CFLAGS),$(ASAN_LDFLAGS)))

release: build/release/lambdad
asan: build/asan/lambdad

# Unit tests: one Criterion binary per test file, so each mirrors one module.
UNIT_BINS := $(patsubst tests/unit/%.c,build/asan/unit/%,$(UNIT_SRC))
build/asan/unit/%: tests/unit/%.c tests/unit/checks.h build/asan/libservice.a build/asan/libsandbox.a build/asan/libinit.a build/asan/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) $(ASAN_LDFLAGS) -o $@ $(filter-out %.h,$^) $(LIBS) -lcriterion

# Programs the e2e tests run inside environments (runtimes, probes).
HELPER_BINS := $(patsubst tests/helpers/%.c,build/helpers/%,$(HELPER_SRC))
build/helpers/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -o $@ $<

helpers: $(HELPER_BINS)

unit: $(UNIT_BINS) build/asan/lambdad
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; \
	    LSAN_OPTIONS=suppressions=$(CURDIR)/tests/unit/lsan.supp $$t --jobs 2; done

e2e: build/asan/lambdad build/release/lambdad helpers
	cd tests/e2e && LAMBDAD=$(CURDIR)/build/asan/lambdad /usr/bin/python3 -m pytest -q -p no:cacheprovider

test: unit e2e

# Benchmark drivers written in C link the release libraries directly.
build/bench/%: bench/%.c build/release/libservice.a build/release/libsandbox.a \
               build/release/libinit.a build/release/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LIBS)

bench: build/release/lambdad helpers build/bench/cold_start
	bash bench/warm_invoke.sh
	bash bench/emulate_startup.sh
	build/bench/cold_start build/release/lambdad build/helpers/c_runtime 100

fuzz:
	bash tests/fuzz/build.sh

LINT_SRC := $(SRC_main) $(foreach d,$(LIB_DIRS),$(SRC_$(d)))
lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	    --inline-suppr --std=c11 -D_GNU_SOURCE -Isrc $(LINT_SRC)
	clang-tidy --quiet $(LINT_SRC) -- $(CFLAGS_COMMON)

format:
	clang-format -i $(LINT_SRC) $(wildcard src/*/*.h) $(UNIT_SRC) $(HELPER_SRC)

clean:
	rm -rf build
