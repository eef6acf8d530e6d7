#!/usr/bin/env bash
# Install dependencies, build the plugin, run the C unit tests, the libFuzzer
# harnesses, the integration and robustness tests against a sanitized build
# (ASan + UBSan, scripts/sanitize.sh), then the same tests against the real
# build.  Exit status: pytest's, else the first failing step's.
#
# Extra arguments are passed to pytest, e.g.  scripts/test.sh -k rest -x
# OPY_FUZZ_RUN=0 / OPY_SANITIZED_RUN=0 skip the fuzzers / the sanitized run
# (scripts/matrix.sh runs them on one distribution only, for CI's time).
# OPY_BUILD=DIR and cmake arguments in OPY_CMAKE_ARGS build elsewhere (the
# plugin under test is then DIR/libOrthancPython.so).
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail

cd "$(dirname "$0")/.."

bash scripts/deps.sh

BUILD=${OPY_BUILD:-build}
read -r -a cmake_args <<<"${OPY_CMAKE_ARGS:-}"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release "${cmake_args[@]}"
cmake --build "$BUILD" -j2
export OPY_PLUGIN="$PWD/$BUILD/libOrthancPython.so"

ctest_rc=0
if ctest --test-dir "$BUILD" -N 2>/dev/null | grep -Eq 'Total Tests: [1-9]'; then
  ctest --test-dir "$BUILD" --output-on-failure -j2 || ctest_rc=$?
else
  echo "test.sh: no C unit tests registered with ctest"
fi

# A whole-suite run also checks that every public callable of the orthanc
# module was called by some test (tests/integration/exercised.py); a run
# restricted by extra arguments (-k, a file...) cannot tell, so it does not.
# OPY_TEST_PATHS: the suites to run (default: the integration and robustness
# suites and the testing kit's tests/kit; scripts/matrix.sh runs only
# tests/integration for the build with the newer SDK header, for CI's time).
# The check that every wrapped function was called needs the first two.
TEST_PATHS=${OPY_TEST_PATHS:-tests/integration tests/robustness tests/kit}
read -r -a test_paths <<<"$TEST_PATHS"
if [ "$#" -eq 0 ] && [[ " $TEST_PATHS " == *" tests/integration tests/robustness "* ]]; then
  export OPY_CHECK_EXERCISED=1
fi

# (before pytest, so that pytest's summary is the last thing printed)
# libFuzzer harnesses (tests/fuzz/), 20 s each; skipped when extra
# arguments restrict the run.
fuzz_rc=0
if [ "$#" -eq 0 ] && [ "${OPY_FUZZ_RUN:-1}" != 0 ]; then
  bash scripts/fuzz.sh || fuzz_rc=$?
fi

# The same suite against a build with ASan + UBSan (scripts/sanitize.sh,
# build-asan/); its output goes to build-asan/sanitize.log, its summary
# here (and the failures, when it fails).
san_rc=0
if [ "$#" -eq 0 ] && [ "${OPY_SANITIZED_RUN:-1}" != 0 ]; then
  mkdir -p build-asan
  bash scripts/sanitize.sh >build-asan/sanitize.log 2>&1 || san_rc=$?
  if [ "$san_rc" -ne 0 ]; then
    grep -a -E '^(FAILED|ERROR|_{5,} |E  |=== sanitizer report)' build-asan/sanitize.log | head -n 80 || true
    tail -n 5 build-asan/sanitize.log
  fi
  grep -E '^[0-9]+ (passed|failed)' build-asan/sanitize.log | tail -n 1 | sed 's/^/sanitized suite: /' || true
  tail -n 1 build-asan/sanitize.log
fi

pytest_rc=0
/usr/bin/python3 -m pytest -n 2 "${test_paths[@]}" -q -rfEs "$@" || pytest_rc=$?

if [ "$pytest_rc" -ne 0 ]; then
  exit "$pytest_rc"
fi
if [ "$fuzz_rc" -ne 0 ]; then
  exit "$fuzz_rc"
fi
if [ "$san_rc" -ne 0 ]; then
  exit "$san_rc"
fi
exit "$ctest_rc"
