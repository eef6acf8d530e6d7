#!/usr/bin/env bash
# Build the plugin with AddressSanitizer + UndefinedBehaviorSanitizer
# (build-asan/, -DOPY_SANITIZE=ON) and run the integration and robustness
# tests against the real Orthanc with the ASan runtime preloaded.  Fails when
# a test fails or when a sanitizer reports anything.
#
#   scripts/sanitize.sh              # the suite, minus the modules listed below
#   scripts/sanitize.sh -k rest      # extra arguments go to pytest
#
# Orthanc is not rebuilt: it runs through a wrapper (build-asan/orthanc-asan,
# given to the harness as $OPY_ORTHANC) that preloads gcc's libasan.so and
# sets the sanitizer options:
#   ASAN_OPTIONS  detect_leaks=0: CPython and Orthanc keep memory until the
#                 process exits by design (interned objects, singletons), so
#                 LeakSanitizer would report them at every exit; leaks of the
#                 plugin are looked for with valgrind instead (memcheck
#                 scenario) and with the RSS tests
#   UBSAN_OPTIONS print_stacktrace=1:halt_on_error=1 (with
#                 -fno-sanitize-recover=undefined: the first report aborts)
#   PYTHONMALLOC=malloc  Python objects through malloc, so that ASan sees them
# Every report goes to build-asan/sanitizer-logs/ (log_path) and the Orthanc
# logs of the run are searched for "ERROR: AddressSanitizer" and
# "runtime error:" too.
#
# Orthanc stops at start-up under ASan because mallopt(M_ARENA_MAX) fails
# unless "MallocArenaMax" is 0: every server of the run gets it
# ($OPY_EXTRA_CONFIG, read by tests/integration/harness.py), with "Locale":
# "C".
#
# With the ASan runtime preloaded, Orthanc used to hang at start-up on
# Debian 12 (a glibc locale lock left corrupted by ASan's lazy
# initialisation inside libp11-kit's constructor): the wrapper also preloads
# build-asan/libopy_asan_locale_shim.so (tests/sanitize/asan_locale_shim.c
# explains it). A preflight checks that Orthanc starts before the suite runs.
#
# Left out (SKIP below): modules that measure time or memory, meaningless
# under ASan (its quarantine holds freed memory, everything is 2-3x slower).
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD="$ROOT/build-asan"

SKIP=(
  --ignore=tests/integration/test_memory.py
  --ignore=tests/robustness/test_load.py
  --ignore=tests/robustness/test_memory_loop.py
)
# tests that measure memory check OPY_SANITIZED (test_http_hostile.py: the
# RSS after a 100 MB body)
export OPY_SANITIZED=1
# (the skipped modules may be the only callers of some function)
unset OPY_CHECK_EXERCISED

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPY_SANITIZE=ON >/dev/null
cmake --build "$BUILD" -j2 >/dev/null

ASAN_LIB=$(gcc -print-file-name=libasan.so)
if [ ! -e "$ASAN_LIB" ]; then
  echo "sanitize.sh: libasan.so of gcc not found ($ASAN_LIB)" >&2
  exit 2
fi
LOGS="$BUILD/sanitizer-logs"
rm -rf "$LOGS" "$BUILD/pytest"
mkdir -p "$LOGS"

WRAPPER="$BUILD/orthanc-asan"
cat >"$WRAPPER" <<EOF
#!/bin/sh
# Orthanc with the ASan runtime preloaded (written by scripts/sanitize.sh)
export LD_PRELOAD="$ASAN_LIB:$BUILD/libopy_asan_locale_shim.so\${LD_PRELOAD:+:\$LD_PRELOAD}"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:log_path=$LOGS/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$LOGS/ubsan"
export PYTHONMALLOC=malloc
exec /usr/sbin/Orthanc "\$@"
EOF
chmod +x "$WRAPPER"

# Preflight: does Orthanc with the ASan runtime and the plugin start at all?
preflight() {
  local dir port
  dir=$(mktemp -d)
  port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  echo 'import orthanc' >"$dir/preflight.py"
  printf '{"StorageDirectory": "%s", "IndexDirectory": "%s", "HttpPort": %s, "DicomServerEnabled": false, "Locale": "C", "MallocArenaMax": 0, "Plugins": ["%s"], "PythonScript": "%s"}' \
    "$dir" "$dir" "$port" "$BUILD/libOrthancPython.so" "$dir/preflight.py" >"$dir/orthanc.json"
  "$WRAPPER" "$dir/orthanc.json" >"$dir/orthanc.log" 2>&1 &
  local pid=$! ok=1 i
  for i in $(seq 1 150); do
    if /usr/bin/python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/system', timeout=1)" 2>/dev/null; then
      ok=0
      break
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ "$ok" -ne 0 ]; then
    tail -5 "$dir/orthanc.log" >&2
  fi
  rm -rf "$dir"
  return "$ok"
}

# The C unit tests, sanitized too (they link the same objects).
unit_rc=0
ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 PYTHONMALLOC=malloc \
  "$BUILD/opy_unit_tests" >"$LOGS/unit-tests.txt" 2>&1 || unit_rc=$?
if [ "$unit_rc" -ne 0 ]; then
  echo "sanitize.sh: the C unit tests failed under the sanitizers:" >&2
  tail -40 "$LOGS/unit-tests.txt" >&2
fi

if ! preflight; then
  echo "sanitize.sh: Orthanc does not start with the ASan runtime preloaded (log above);" >&2
  echo "only the sanitized C unit tests ran (exit $unit_rc)" >&2
  exit 3
fi

pytest_rc=0
# (an OPY_EXTRA_CONFIG of the caller is kept: the matrix's sanitized run
# with "Python": {"Interpreters": 2})
EXTRA=$(/usr/bin/python3 -c 'import json, os, sys
cfg = json.loads(os.environ.get("OPY_EXTRA_CONFIG") or "{}")
cfg.update({"Locale": "C", "MallocArenaMax": 0})
print(json.dumps(cfg))')
OPY_EXTRA_CONFIG=$EXTRA \
OPY_ORTHANC="$WRAPPER" OPY_PLUGIN="$BUILD/libOrthancPython.so" \
  /usr/bin/python3 -m pytest -n 2 tests/integration tests/robustness -q -rs \
  --basetemp="$BUILD/pytest" "${SKIP[@]}" "$@" || pytest_rc=$?

# Reports: files in $LOGS (log_path) and lines in the Orthanc logs.
reports=0
# ASan warns once per process that it does not fully support swapcontext
# (src/core/opy_stack.c switches stacks, with ASan's fiber annotations): that
# line alone is not a report.
SWAPCONTEXT_NOTE="WARNING: ASan doesn't fully support makecontext/swapcontext functions"
for f in "$LOGS"/asan.* "$LOGS"/ubsan.*; do
  [ -s "$f" ] || continue
  grep -a -v -q -F "$SWAPCONTEXT_NOTE" "$f" || continue
  echo "=== sanitizer report $f" >&2
  head -80 "$f" >&2
  reports=$((reports + 1))
done
while IFS= read -r f; do
  echo "=== sanitizer report in $f" >&2
  grep -a -n -A40 -E 'ERROR: AddressSanitizer|runtime error:' "$f" | head -80 >&2
  reports=$((reports + 1))
done < <(grep -a -l -r -E 'ERROR: AddressSanitizer|runtime error:' --include=orthanc.log "$BUILD/pytest" 2>/dev/null || true)

echo "sanitize.sh: pytest exit $pytest_rc, unit tests exit $unit_rc, $reports sanitizer report(s)"
if [ "$reports" -ne 0 ]; then
  exit 1
fi
if [ "$pytest_rc" -ne 0 ]; then
  exit "$pytest_rc"
fi
exit "$unit_rc"
