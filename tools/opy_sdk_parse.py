# SPDX-License-Identifier: GPL-3.0-or-later
"""Code model of the Orthanc plugin SDK header, read with libclang.

The installed OrthancCPlugin.h is the source of truth. parse() turns it into
plain data that tools/opy_gen.py consumes:

  model["enums"]      [{"c_name", "py_name", "doc", "values": [(c, py, int)]}]
  model["objects"]    ["RestOutput", "DicomInstance", ...]  (opaque handle types)
  model["callbacks"]  {"OrthancPluginRestCallback", ...}     (function-pointer typedefs)
  model["functions"]  [{"name", "c_name", "ret", "params": [{"name", "type"}], "doc"}]
  model["since"]      {C name: "1.12.8"}  from ORTHANC_PLUGIN_SINCE_SDK annotations
                      (functions, enums, enum values, objects; headers >= 1.12.x)
  model["sdk_version"], model["sha256"]

Types are kept as libclang spellings ("const char *", "uint32_t",
"OrthancPluginImage *"); doc is {"brief", "params": {name: text}, "returns",
"deprecated"} from the Doxygen block before each function.
"""
import hashlib
import os
import re
import sys

try:
    import clang.cindex as ci
except ImportError:  # reported as a clear build error
    sys.stderr.write(
        "opy_gen: the libclang Python bindings are missing; "
        "install the Debian package python3-clang (python3-clang-14 on Debian 12)\n")
    raise SystemExit(2)

def _libclang_candidates():
    """libclang shared objects of the distribution, newest LLVM first: the
    python3-clang-N bindings of Debian find their own libclang, but only when
    the unversioned libclang.so is installed; these paths cover the rest."""
    import glob
    found = []
    for pattern in ("/usr/lib/llvm-*/lib/libclang.so.1", "/usr/lib/llvm-*/lib/libclang-*.so.1",
                    "/usr/lib/*-linux-gnu/libclang-*.so.1", "/usr/lib/*-linux-gnu/libclang-*.so"):
        found += glob.glob(pattern)

    def llvm(path):
        m = re.search(r"llvm-(\d+)|libclang-(\d+)", path)
        return int(m.group(1) or m.group(2)) if m else 0
    return sorted(set(found), key=llvm, reverse=True)


def _setup_libclang():
    try:                        # the bindings' own choice works: keep it
        ci.Index.create()
        return
    except Exception:
        pass
    for path in _libclang_candidates():
        try:
            ci.Config.set_library_file(path)
            ci.Index.create()
            return
        except Exception:
            continue


SINCE_PREFIX = "ORTHANC_PLUGIN_SINCE_SDK "


def since_of(cur):
    """The SDK version of an ORTHANC_PLUGIN_SINCE_SDK("x.y.z") annotation on
    a declaration (headers from 1.12.x on annotate with clang), or None."""
    for child in cur.get_children():
        if child.kind == ci.CursorKind.ANNOTATE_ATTR and child.spelling.startswith(SINCE_PREFIX):
            return child.spelling[len(SINCE_PREFIX):].strip()
    return None


def _is_attr(cur):
    return cur.kind.is_attribute()


def py_enum_value_name(suffix):
    """'StableStudy' -> 'STABLE_STUDY', 'NoCFindHandler' -> 'NO_CFIND_HANDLER'."""
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", suffix).upper()


def _clean_comment(raw):
    """Doxygen block -> list of text lines without the comment markers."""
    lines = []
    for line in (raw or "").splitlines():
        line = line.strip()
        line = re.sub(r"^/\*\*+|\*+/$", "", line).strip()
        line = re.sub(r"^\*\s?", "", line)
        lines.append(line.rstrip())
    return lines


def parse_doc(raw):
    """Doxygen block -> {"brief", "details", "params", "returns", "deprecated"}."""
    doc = {"brief": "", "details": "", "params": {}, "returns": "", "deprecated": False}
    current = None          # ("brief"|"details"|"returns", None) or ("param", name)
    details = []
    for line in _clean_comment(raw):
        m = re.match(r"@(\w+)\s*(.*)$", line)
        if m:
            tag, rest = m.group(1), m.group(2)
            if tag == "brief":
                doc["brief"] = rest
                current = ("brief", None)
            elif tag == "param":
                pm = re.match(r"(?:\[\w+\]\s*)?(\w+)\s*(.*)$", rest)
                if pm:
                    doc["params"][pm.group(1)] = pm.group(2)
                    current = ("param", pm.group(1))
            elif tag == "return":
                doc["returns"] = (doc["returns"] + " " + rest).strip() if doc["returns"] else rest
                current = ("returns", None)
            elif tag == "deprecated":
                doc["deprecated"] = True
                current = None
            else:               # @ingroup, @see, @note, ...
                current = None
            continue
        if not line:
            if current and current[0] == "brief":
                current = ("details", None)
            elif current and current[0] == "details":
                details.append("")
            else:
                current = None
            continue
        if current is None:
            continue
        kind, name = current
        if kind == "brief":
            doc["brief"] += " " + line
        elif kind == "details":
            details.append(line)
        elif kind == "param":
            doc["params"][name] += " " + line
        elif kind == "returns":
            doc["returns"] += " " + line
    doc["details"] = re.sub(r"\n{3,}", "\n\n", "\n".join(
        " ".join(p.split()) if p else "" for p in "\n".join(details).split("\n"))).strip()
    doc["brief"] = " ".join(doc["brief"].split())
    doc["returns"] = " ".join(doc["returns"].split())
    doc["params"] = {k: " ".join(v.split()) for k, v in doc["params"].items()}
    return doc


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
    tu = index.parse(header, args=["-x", "c", "-std=c11"])
    errors = [d for d in tu.diagnostics if d.severity >= ci.Diagnostic.Error]
    if errors:
        raise SystemExit("opy_gen: libclang could not parse %s: %s" % (header, errors[0]))

    enums, objects, callbacks, functions = [], [], set(), []
    since = {}                  # C name -> SDK version of its annotation
    for cur in tu.cursor.get_children():
        if cur.location.file is None or cur.location.file.name != header:
            continue
        if cur.kind == ci.CursorKind.TYPEDEF_DECL:
            under = cur.underlying_typedef_type
            decl = under.get_declaration()
            if decl.kind == ci.CursorKind.ENUM_DECL:
                c_name = cur.spelling
                if not c_name.startswith("OrthancPlugin"):
                    continue
                values = []
                for v in decl.get_children():
                    prefix = c_name + "_"
                    if v.kind != ci.CursorKind.ENUM_CONSTANT_DECL or not v.spelling.startswith(prefix):
                        continue
                    suffix = v.spelling[len(prefix):]
                    if suffix.startswith("_") or suffix.endswith("INTERNAL"):
                        continue  # _OrthancPlugin..._INTERNAL sentinels
                    values.append((v.spelling, py_enum_value_name(suffix), v.enum_value))
                    if since_of(v):
                        since[v.spelling] = since_of(v)
                if since_of(decl):
                    since[c_name] = since_of(decl)
                enums.append({"c_name": c_name, "py_name": c_name[len("OrthancPlugin"):],
                              "doc": parse_doc(decl.raw_comment or cur.raw_comment)["brief"],
                              "values": values})
            elif decl.kind == ci.CursorKind.STRUCT_DECL \
                    and not [c for c in decl.get_children() if not _is_attr(c)] \
                    and re.match(r"_OrthancPlugin\w+_t$", decl.spelling or "") \
                    and cur.spelling != "OrthancPluginContext":
                objects.append(cur.spelling[len("OrthancPlugin"):])
                if since_of(decl):
                    since[cur.spelling] = since_of(decl)
            elif under.get_canonical().kind == ci.TypeKind.POINTER and \
                    under.get_canonical().get_pointee().kind in (ci.TypeKind.FUNCTIONPROTO,
                                                                 ci.TypeKind.FUNCTIONNOPROTO):
                callbacks.add(cur.spelling)
        elif cur.kind == ci.CursorKind.FUNCTION_DECL and cur.is_definition() \
                and cur.spelling.startswith("OrthancPlugin"):
            params = [{"name": a.spelling, "type": a.type.spelling} for a in cur.get_arguments()]
            if since_of(cur):
                since[cur.spelling] = since_of(cur)
            functions.append({"c_name": cur.spelling, "name": cur.spelling[len("OrthancPlugin"):],
                              "ret": cur.result_type.spelling, "params": params,
                              "doc": parse_doc(cur.raw_comment), "line": cur.location.line})
    enums.sort(key=lambda e: e["py_name"])
    return {"enums": enums, "objects": objects, "callbacks": callbacks, "functions": functions,
            "sdk_version": ".".join(ver), "sha256": sha, "header": header, "since": since}


if __name__ == "__main__":
    import json
    m = parse(sys.argv[1] if len(sys.argv) > 1 else "/usr/include/orthanc/OrthancCPlugin.h")
    m["callbacks"] = sorted(m["callbacks"])
    json.dump(m, sys.stdout, indent=1)
