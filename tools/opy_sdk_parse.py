# SPDX-License-Identifier: GPL-3.0-or-later
"""Small code model of the Orthanc plugin SDK header, read with libclang.

The installed OrthancCPlugin.h is the source of truth. This module turns it
into plain Python data that the generators in this folder consume:

  model = parse(header_path)
  model["enums"]  -> [{"c_name", "py_name", "doc", "values": [(c, py, int)]}]
  model["sdk_version"], model["sha256"]
"""
import hashlib
import re
import sys

try:
    import clang.cindex as ci
except ImportError:  # pragma: no cover - reported as a build error
    sys.stderr.write(
        "opy_gen: the libclang Python bindings are missing; "
        "install the Debian package python3-clang-14 (apt-get install python3-clang-14)\n")
    raise SystemExit(2)

_LIBCLANG_CANDIDATES = (
    "/usr/lib/llvm-14/lib/libclang.so.1",
    "/usr/lib/x86_64-linux-gnu/libclang-14.so.1",
)


def _setup_libclang():
    import os
    for path in _LIBCLANG_CANDIDATES:
        if os.path.exists(path):
            try:
                ci.Config.set_library_file(path)
            except Exception:  # already set
                pass
            return


def py_enum_value_name(suffix):
    """'StableStudy' -> 'STABLE_STUDY', 'NoCFindHandler' -> 'NO_CFIND_HANDLER'."""
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", suffix).upper()


def _doc_brief(cursor):
    raw = cursor.raw_comment or ""
    m = re.search(r"@brief\s+(.*?)(?:\n\s*\*\s*\n|\n\s*\*\s*@|\*\*/|$)", raw, re.S)
    if not m:
        return ""
    text = re.sub(r"\s*\n\s*\*?\s*", " ", m.group(1)).strip()
    return text


def parse(header):
    _setup_libclang()
    with open(header, "rb") as f:
        data = f.read()
    sha = hashlib.sha256(data).hexdigest()
    text = data.decode("utf-8", "replace")
    ver = []
    for part in ("MAJOR", "MINOR", "REVISION"):
        m = re.search(r"#define\s+ORTHANC_PLUGINS_MINIMAL_%s_NUMBER\s+(\d+)" % part, text)
        ver.append(m.group(1) if m else "?")

    index = ci.Index.create()
    tu = index.parse(header, args=["-x", "c", "-std=c11"],
                     options=ci.TranslationUnit.PARSE_SKIP_FUNCTION_BODIES)
    errors = [d for d in tu.diagnostics if d.severity >= ci.Diagnostic.Error]
    if errors:
        raise SystemExit("opy_gen: libclang could not parse %s: %s" % (header, errors[0]))

    enums = []
    for cur in tu.cursor.get_children():
        if cur.location.file is None or cur.location.file.name != header:
            continue
        if cur.kind != ci.CursorKind.TYPEDEF_DECL:
            continue
        under = cur.underlying_typedef_type.get_declaration()
        if under.kind != ci.CursorKind.ENUM_DECL:
            continue
        c_name = cur.spelling
        if not c_name.startswith("OrthancPlugin") or c_name.startswith("_"):
            continue
        short = c_name[len("OrthancPlugin"):]
        values = []
        for v in under.get_children():
            if v.kind != ci.CursorKind.ENUM_CONSTANT_DECL:
                continue
            prefix = c_name + "_"
            if not v.spelling.startswith(prefix):
                continue
            suffix = v.spelling[len(prefix):]
            if suffix.startswith("_") or suffix.endswith("INTERNAL"):
                continue  # _OrthancPlugin..._INTERNAL sentinels
            values.append((v.spelling, py_enum_value_name(suffix), v.enum_value))
        enums.append({"c_name": c_name, "py_name": short,
                      "doc": _doc_brief(under) or _doc_brief(cur), "values": values})
    enums.sort(key=lambda e: e["py_name"])
    return {"enums": enums, "sdk_version": ".".join(ver), "sha256": sha, "header": header}
