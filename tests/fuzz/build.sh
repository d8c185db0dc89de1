#!/usr/bin/env bash
# tests/fuzz/build.sh: builds every tests/fuzz/fuzz_*.c into a libFuzzer
# binary under build/fuzz/, and with `--run SECONDS` runs each for that long.
#
# The drivers link against all of src/common and src/service (each compiled
# once, with coverage and ASan+UBSan, into an archive): an archive lets a
# driver pull in only the objects it uses, so a parser's fuzzer never drags in
# libevent code, and the pkg-config libraries are there for drivers that do.
# Needs clang and libclang-rt-14-dev (libFuzzer's runtime).
#
# A run keeps its corpus in build/fuzz/corpus/<driver>/ and starts from
# tests/fuzz/corpus/<driver>/ and tests/fuzz/<driver>.dict when they exist;
# crash inputs land in build/fuzz/<driver>-crash-*. Exit status is non-zero
# if any driver fails to build or finds a failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

usage() { echo "usage: $0 [--run SECONDS]" >&2; }

run_secs=""
while [ $# -gt 0 ]; do
    case "$1" in
    --run)
        if [ $# -lt 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]]; then
            usage
            exit 2
        fi
        run_secs=$2
        shift 2
        ;;
    -h | --help) usage; exit 0 ;;
    *) usage; exit 2 ;;
    esac
done

CC=${FUZZ_CC:-clang}
# The fuzzing toolchain is not needed by `make test`, so it is installed here,
# on first use, rather than by scripts/deps.sh.
if [ -z "${FUZZ_CC:-}" ] && { ! command -v clang >/dev/null ||
    ! dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q 'ok installed'; }; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends clang libclang-rt-14-dev
fi
out=build/fuzz
pkgs=(libevent_core jansson libcrypto)
# pkg-config prints its flags on one line, space-separated; read -a splits them.
read -r -a pkg_cflags <<<"$(pkg-config --cflags "${pkgs[@]}")"
read -r -a pkg_libs <<<"$(pkg-config --libs "${pkgs[@]}")"
# Recover nothing: a UBSan report that only printed would not stop libFuzzer.
common=(-g -O1 -Isrc -D_GNU_SOURCE -std=c17 -fno-sanitize-recover=all "${pkg_cflags[@]}")

# A source that does not compile is reported and left out, so drivers that do
# not need it still build and run; the exit status still says it failed.
failed=()
# Link order is the dependency order, as in the Makefile: service uses common.
libdirs=(service common)
libs=()
for dir in "${libdirs[@]}"; do
    mkdir -p "$out/obj/$dir"
    rm -f "$out/obj/$dir"/*.o "$out/lib$dir.a"
    objs=()
    for src in "src/$dir"/*.c; do
        obj="$out/obj/$dir/$(basename "${src%.c}").o"
        # fuzzer-no-link: coverage instrumentation without libFuzzer's main()
        if "$CC" "${common[@]}" -fsanitize=fuzzer-no-link,address,undefined -c "$src" -o "$obj"; then
            objs+=("$obj")
        else
            failed+=("$src")
        fi
    done
    if [ ${#objs[@]} -gt 0 ]; then
        ar rcs "$out/lib$dir.a" "${objs[@]}"
        libs+=("$out/lib$dir.a")
    fi
done

drivers=()
for drv in tests/fuzz/fuzz_*.c; do
    [ -e "$drv" ] || continue
    name=$(basename "${drv%.c}")
    rm -f "$out/$name"
    if "$CC" "${common[@]}" -fsanitize=fuzzer,address,undefined "$drv" \
        ${libs[@]:+"${libs[@]}"} "${pkg_libs[@]}" -o "$out/$name"; then
        echo "built $out/$name"
        drivers+=("$name")
    else
        failed+=("$drv")
    fi
done

for name in "${drivers[@]}"; do
    [ -n "$run_secs" ] || break
    corpus="$out/corpus/$name"
    mkdir -p "$corpus"
    args=(-max_total_time="$run_secs" -print_final_stats=1 -artifact_prefix="$out/$name-")
    [ -f "tests/fuzz/$name.dict" ] && args+=(-dict="tests/fuzz/$name.dict")
    dirs=("$corpus")
    [ -d "tests/fuzz/corpus/$name" ] && dirs+=("tests/fuzz/corpus/$name")
    echo "== $name for ${run_secs}s"
    "./$out/$name" "${args[@]}" "${dirs[@]}" || failed+=("$name (inputs in $out/)")
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "failed: ${failed[*]}" >&2
    exit 1
fi
