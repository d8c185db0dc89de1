#!/usr/bin/env bash
# scripts/deps.sh: installs everything lambdad builds, tests and benchmarks
# with, from Debian's packages and npm. The one place dependencies live;
# `make deps` runs it. Safe to run again: apt and npm skip what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

debs=(
    # build
    build-essential pkg-config
    libevent-dev libjansson-dev libsqlite3-dev libarchive-dev libssl-dev
    libseccomp-dev libcap-dev libmnl-dev
    # tests
    libcriterion-dev python3-pytest python3-boto3 awscli curl
    # aws-lambda-ric compiles its bundled curl and aws-lambda-cpp
    autoconf automake libtool cmake g++ make
    # make lint (clang and libFuzzer's runtime for make fuzz: tests/fuzz/build.sh)
    cppcheck clang-tidy
    # benchmarks
    wrk nginx
)

missing=()
for p in "${debs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
# Node comes with the machine on our images; Debian's packages otherwise.
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The real Node runtime interface client, for the e2e tests.
if [ ! -d tests/e2e/node/node_modules/aws-lambda-ric ]; then
    (cd tests/e2e/node && npm ci --no-audit --no-fund)
fi
