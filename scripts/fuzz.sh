#!/usr/bin/env bash
# Build the libFuzzer harnesses of tests/fuzz/ with clang (build-fuzz/,
# -DOPY_FUZZ=ON: ASan + UBSan + fuzzer coverage) and run each for a bounded
# time (default 20 s; FUZZ_SECONDS=N to change).  A crash, a sanitizer report
# or a failed check of a harness fails the script; the input is left in
# build-fuzz/artifacts/.
#
#   fuzz_config   opy_config_parse() on arbitrary bytes (NUL-terminated);
#                 seeds: tests/fuzz/seeds/config/*.json, plus deep nesting
#                 generated here; leak detection on
#   fuzz_convert  opy_dict_from_arrays(), opy_bytes_get(), opy_str_get()
#                 inside an embedded interpreter; seeds generated here;
#                 leak detection off (CPython keeps its arenas until exit)
#
# No binary seed is committed: the non-JSON seeds are written by this script.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=build-fuzz
SECONDS_EACH=${FUZZ_SECONDS:-20}

if ! command -v clang >/dev/null; then
  echo "fuzz.sh: clang not found (apt-get install clang-14 libclang-rt-14-dev; scripts/deps.sh does)" >&2
  exit 2
fi

cmake -S . -B "$BUILD" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPY_FUZZ=ON >/dev/null
cmake --build "$BUILD" -j2 --target fuzz_config fuzz_convert >/dev/null

CORPUS="$BUILD/corpus"
ARTIFACTS="$BUILD/artifacts"
rm -rf "$ARTIFACTS"
mkdir -p "$CORPUS/config" "$CORPUS/convert" "$ARTIFACTS"

# --- seeds -----------------------------------------------------------------
cp tests/fuzz/seeds/config/*.json "$CORPUS/config/"
/usr/bin/python3 - "$CORPUS" <<'PY'
import sys
from pathlib import Path
corpus = Path(sys.argv[1])
config = corpus / 'config'
(config / 'deep-array.json').write_text('{"a": ' + '[' * 5000 + ']' * 5000 + '}')
(config / 'deep-open.json').write_text('{"Python": {"x": ' + '{"a": ' * 3000)
(config / 'escapes.json').write_text('{"PythonScript": "\\ud800\\udc00\\u0000\\uffff\\\\x"}')
convert = corpus / 'convert'
seeds = {
    # key NUL value NUL key NUL value...: headers and GET arguments
    'headers': b'host\x00127.0.0.1\x00content-type\x00application/json\x00accept\x00*/*\x00',
    'non-utf8': b'x-\xff\xfe\x00\xc3\x28\x00\xed\xa0\x80\x00\xf4\x90\x80\x80\x00',
    'duplicates': b'a\x001\x00a\x002\x00A\x003\x00',
    'utf8': 'clé\x00välue\x00😀\x00\u2028\x00'.encode(),
    'empty': b'',
    'nuls': b'\x00\x00\x00\x00',
}
for name, data in seeds.items():
    (convert / name).write_bytes(data)
PY

# --- runs ------------------------------------------------------------------
rc=0
run() {
  local name=$1 corpus=$2
  shift 2
  echo "fuzz.sh: $name for ${SECONDS_EACH} s"
  if ! "$BUILD/$name" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$ARTIFACTS/$name-" -print_final_stats=1 "$@" "$CORPUS/$corpus" \
       >"$BUILD/$name.log" 2>&1; then
    echo "fuzz.sh: $name FAILED; last lines of $BUILD/$name.log:" >&2
    tail -60 "$BUILD/$name.log" >&2
    rc=1
  else
    grep -E '^stat::number_of_executed_units|^Done' "$BUILD/$name.log" || true
  fi
}
run fuzz_config config -max_len=65536 -detect_leaks=1
ASAN_OPTIONS=detect_leaks=0 PYTHONMALLOC=malloc run fuzz_convert convert -max_len=4096 -detect_leaks=0
exit "$rc"
