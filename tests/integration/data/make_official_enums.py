#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Extract the enum classes (names and values) of the official orthanc-python
4.0 surface from the project's reference dump into official_enums.json.

Usage: /usr/bin/python3 tests/integration/data/make_official_enums.py \
           [path/to/official-4.0-api.json]
Default input: ../shared/reference/official-4.0-api.json beside the repo.
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]


def main():
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else \
        REPO.parent / 'shared' / 'reference' / 'official-4.0-api.json'
    api = json.loads(src.read_text())['api']
    enums = {name: dict(sorted(info['values'].items(), key=lambda kv: (kv[1], kv[0])))
             for name, info in sorted(api['enums'].items())}
    out = {
        'about': 'Enum classes of the official orthanc-python 4.0 module on Orthanc 1.10.1 '
                 '(extracted from official-4.0-api.json by make_official_enums.py)',
        'enums': enums,
    }
    (HERE / 'official_enums.json').write_text(json.dumps(out, indent=1) + '\n')
    print('%d enum classes, %d values' % (len(enums), sum(len(v) for v in enums.values())))


if __name__ == '__main__':
    main()
