#!/usr/bin/env bash
# Build the plugin and run Orthanc in the foreground with examples/rest.py
# (the documentation's "Extending the REST API" sample) on port 8042:
#     curl http://localhost:8042/toto      ->  ok
# Stop it with Ctrl-C.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$(pwd)

bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j2

work=$(mktemp -d -t opy-example.XXXXXX)
cp examples/rest.py "$work/rest.py"
cat > "$work/orthanc.json" <<JSON
{
  "Name": "opy-example",
  "StorageDirectory": "$work/storage",
  "IndexDirectory": "$work/storage",
  "HttpPort": 8042,
  "DicomPort": 4242,
  "Plugins": ["$repo/build/libOrthancPython.so"],
  "PythonScript": "$work/rest.py"
}
JSON

echo "run-example: configuration and storage in $work"
echo "run-example: try  curl http://localhost:8042/toto"
cd "$work"
exec /usr/sbin/Orthanc --verbose "$work/orthanc.json"
