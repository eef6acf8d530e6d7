#!/usr/bin/env bash
# Install dependencies, build the plugin, run the C unit tests (if any) and the
# integration and robustness tests against the real Orthanc.  Exit status: pytest's, or
# ctest's if pytest passed and ctest did not.
#
# Extra arguments are passed to pytest, e.g.  scripts/test.sh -k rest -x
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail

cd "$(dirname "$0")/.."

bash scripts/deps.sh

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j2

ctest_rc=0
if ctest --test-dir build -N 2>/dev/null | grep -Eq 'Total Tests: [1-9]'; then
  ctest --test-dir build --output-on-failure -j2 || ctest_rc=$?
else
  echo "test.sh: no C unit tests registered with ctest"
fi

# A whole-suite run also checks that every public callable of the orthanc
# module was called by some test (tests/integration/exercised.py); a run
# restricted by extra arguments (-k, a file...) cannot tell, so it does not.
if [ "$#" -eq 0 ]; then
  export OPY_CHECK_EXERCISED=1
fi

# (before pytest, so that pytest's summary is the last thing printed)
# libFuzzer harnesses (tests/fuzz/), 20 s each; skipped when extra
# arguments restrict the run.
fuzz_rc=0
if [ "$#" -eq 0 ]; then
  bash scripts/fuzz.sh || fuzz_rc=$?
fi

pytest_rc=0
/usr/bin/python3 -m pytest -n 2 tests/integration tests/robustness -q -rs "$@" || pytest_rc=$?

if [ "$pytest_rc" -ne 0 ]; then
  exit "$pytest_rc"
fi
if [ "$fuzz_rc" -ne 0 ]; then
  exit "$fuzz_rc"
fi
exit "$ctest_rc"
