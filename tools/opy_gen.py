#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Generate the orthanc module's wrappers from the installed SDK header.

usage: opy_gen.py HEADER OUTDIR [--overrides tools/opy_gen_overrides.json]

Reads the header with libclang (tools/opy_sdk_parse.py), classifies every
function (whatever the SDK version: 1.10.0 to 1.13.0 are tested) and writes into OUTDIR (the build directory, never the sources):

  opy_gen.h               type indexes, declarations of the hand-written parts
  opy_gen_enums.c         the enum classes
  opy_gen_functions.c     module-level wrappers
  opy_gen_<Class>.c       one file per object type: methods and type spec
  opy_gen_types.c         creation of the object types
  orthanc.pyi             typing stubs of the whole module
  coverage.txt            every SDK function: wrapped / hand-written / skipped, with why
  names.txt               every public name of the module (for the tests)

Classification, from the C types alone:
  callback registration  a parameter is a function-pointer typedef (hand-written families)
  memory helper          listed in the overrides (the wrappers free memory themselves)
  destructor             Free<Object>: becomes tp_dealloc of owned objects
  mechanical             every parameter and the result have a rule below
  hand-written           listed in the overrides "custom" (src/sdk/custom/)
The build fails when a function cannot be classified, and when the
classification differs from the record of the same SDK version
(tools/opy_gen_record.json), or drops or changes a function of an older one.
"""
import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import opy_sdk_parse  # noqa: E402

INT_TYPES = {
    # C type: (min, max, pyi)
    "uint8_t": ("0", "UINT8_MAX"),
    "uint16_t": ("0", "UINT16_MAX"),
    "uint32_t": ("0", "UINT32_MAX"),
    "int32_t": ("INT32_MIN", "INT32_MAX"),
    "int": ("INT_MIN", "INT_MAX"),
    "int64_t": ("INT64_MIN", "INT64_MAX"),
}
UNSIGNED_64 = "uint64_t"
SIZE_NAMES = re.compile(r"^(size|.*Size)$")


class Unsupported(Exception):
    pass


def version_tuple(text):
    """'1.12.8' -> (1, 12, 8); 'mainline' or '?' -> above every release."""
    try:
        return tuple(int(x) for x in text.split("."))
    except ValueError:
        return (999, 999, 999)


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def strip_const(t):
    return re.sub(r"\bconst\b", "", t).replace(" ", "")


class Gen:
    def __init__(self, model, overrides):
        self.model = model
        self.ov = overrides
        self.objects = model["objects"]
        self.enums = {("OrthancPlugin" + e["py_name"]): e for e in model["enums"]}
        self.enum_index = {e["py_name"]: i for i, e in enumerate(model["enums"])}
        self.callbacks = model["callbacks"]
        self.destructors = overrides["destructors"]              # FreeX -> class
        self.owned_classes = set(self.destructors.values())
        self.answers = set(overrides["answers"])
        self.custom = dict(overrides["custom"])
        self.custom.update(overrides["compat_custom"])
        self.coverage = []      # (c_name, status, python names, why)
        self.functions = []     # mechanical plans, module level
        self.methods = {o: [] for o in self.objects}
        self.custom_entries = []  # (class or None, python name, c symbol)
        self.family_names = {}    # Register... of the header listed in overrides "families": python names
        self.call_names = []      # public callables, index = slot in opy_gen_calls[]
        self.since = dict(overrides.get("_since_table", {}))   # facts for headers without annotations
        self.since.update(model.get("since", {}))             # the header's own annotations win
        self.minimum = tuple(int(x) for x in overrides["minimum_orthanc"].split("."))
        self.header_version = version_tuple(model["sdk_version"])

    def since_of(self, c_name):
        """SDK version that introduced c_name, as a tuple, or None when it is
        older than the oldest Orthanc the plugin runs on (no run-time check)."""
        v = self.since.get(c_name)
        if v is None:
            return None
        t = version_tuple(v)
        return t if t > self.minimum else None

    def since_label(self, c_name):
        """What the stubs and coverage.txt say of a name's SDK version."""
        v = self.since.get(c_name)
        if v:
            return v
        # Untagged in an annotated header, or absent from the table of the
        # 1.13.0 annotations: older than 1.0.0 (the header says so).
        if self.model.get("since") or self.header_version <= (1, 13, 0):
            return "<1.0.0"
        return "<=%s" % self.model["sdk_version"]

    # ------------------------------------------------------------ types

    def object_of(self, ctype):
        """'const OrthancPluginImage *' -> 'Image' (or None)."""
        t = strip_const(ctype)
        m = re.match(r"^OrthancPlugin(\w+)\*$", t)
        if m and m.group(1) in self.objects:
            return m.group(1)
        return None

    def is_callback(self, ctype):
        return strip_const(ctype) in self.callbacks

    # ------------------------------------------------------------ plan

    def plan(self, f):
        """Turn one SDK function into a wrapper plan, or raise Unsupported."""
        params = list(f["params"])
        if not params or strip_const(params[0]["type"]) != "OrthancPluginContext*":
            raise Unsupported("no context parameter")
        params = params[1:]
        plan = {"c_name": f["c_name"], "name": f["name"], "doc": f["doc"], "args": [],
                "out_buffer": None, "self": None, "ret": f["ret"], "call": [],
                "nullable": set(self.ov["nullable"].get(f["name"], []))}
        i = 0
        if params and strip_const(params[0]["type"]) == "OrthancPluginMemoryBuffer*":
            plan["out_buffer"] = params[0]["name"]
            plan["call"].append(("out", params[0]["name"]))
            i = 1
        if i < len(params) and self.object_of(params[i]["type"]):
            plan["self"] = self.object_of(params[i]["type"])
            plan["call"].append(("self", params[i]["name"]))
            i += 1
        while i < len(params):
            p = params[i]
            t = strip_const(p["type"])
            nxt = params[i + 1] if i + 1 < len(params) else None
            arg = {"name": p["name"], "ctype": p["type"], "nullable": p["name"] in plan["nullable"]}
            if t in ("void*", "char*") and p["type"].startswith("const") and nxt is not None \
                    and strip_const(nxt["type"]) in ("uint32_t", UNSIGNED_64) \
                    and SIZE_NAMES.match(nxt["name"]):
                arg["kind"] = "buffer"
                arg["size_type"] = strip_const(nxt["type"])
                plan["args"].append(arg)
                plan["call"].append(("buffer", p["name"]))
                plan["call"].append(("buffer_size", p["name"], strip_const(nxt["type"])))
                i += 2
                continue
            if t == "void*" and p["type"].startswith("const"):
                names = [q["name"] for q in params]
                if "pitch" not in names or "height" not in names:
                    raise Unsupported("unsized buffer %s without pitch and height" % p["name"])
                arg["kind"] = "buffer_unsized"
            elif t == "char*" and p["type"].startswith("const"):
                arg["kind"] = "str"
            elif t in INT_TYPES:
                arg["kind"] = "int"
            elif t == UNSIGNED_64:
                arg["kind"] = "uint64"
            elif t == "float":
                arg["kind"] = "float"
            elif t in self.enums:
                arg["kind"] = "enum"
                arg["enum"] = self.enums[t]["py_name"]
            elif self.object_of(p["type"]):
                arg["kind"] = "object"
                arg["object"] = self.object_of(p["type"])
            else:
                raise Unsupported("parameter %s of type %s" % (p["name"], p["type"]))
            plan["args"].append(arg)
            plan["call"].append(("arg", p["name"]))
            i += 1
        r = strip_const(f["ret"])
        if r == "void":
            plan["ret_kind"] = "void"
        elif r == "OrthancPluginErrorCode" and f["name"] in self.ov.get("returns_code_as_value", {}):
            plan["ret_kind"] = "enum"
        elif r == "OrthancPluginErrorCode":
            plan["ret_kind"] = "error"
        elif r == "char*" and not f["ret"].startswith("const"):
            plan["ret_kind"] = "owned_str"
        elif r == "char*":
            plan["ret_kind"] = "borrowed_str"
        elif r in INT_TYPES or r == UNSIGNED_64:
            plan["ret_kind"] = "int"
        elif r in self.enums:
            plan["ret_kind"] = "enum"
        elif self.object_of(f["ret"]):
            cls = self.object_of(f["ret"])
            if cls not in self.owned_classes:
                raise Unsupported("returns %s without destructor" % cls)
            plan["ret_kind"] = "object"
            plan["ret_object"] = cls
        else:
            raise Unsupported("returns %s" % f["ret"])
        if plan["out_buffer"] and plan["ret_kind"] != "error":
            raise Unsupported("output buffer without an error code")
        return plan

    def classify(self):
        ov = self.ov
        counts = {"mechanical": 0, "callbacks": 0, "memory": 0, "other": 0}
        for f in self.model["functions"]:
            self.classify_one(f, counts)
        return counts

    def classify_one(self, f, counts):
        ov = self.ov
        name = f["name"]
        cb = [p["name"] for p in f["params"] if self.is_callback(p["type"])]
        if name in ov.get("memory_custom", {}):
            counts["memory"] += 1
            self.hand_written(f, ov["memory_custom"][name])
            return
        if name in ov["memory_helpers"]:
            counts["memory"] += 1
            self.coverage.append((f["c_name"], "skipped", "", ov["memory_helpers"][name]))
            return
        if name in self.destructors:
            counts["memory"] += 1
            self.coverage.append((f["c_name"], "destructor", self.destructors[name],
                                  "called by the dealloc of owned %s objects" % self.destructors[name]))
            return
        if cb and name.startswith("Register"):
            counts["callbacks"] += 1
            fam = ov.get("families", {}).get(name)
            if name in ov.get("callbacks_left_out", {}):
                self.coverage.append((f["c_name"], "callbacks", "", "left out: " + ov["callbacks_left_out"][name]))
            elif fam:
                self.family_names[name] = fam["python"]
                self.coverage.append((f["c_name"], "callbacks", " ".join(fam["python"]), fam["why"]))
            else:
                self.coverage.append((f["c_name"], "callbacks", "",
                                      "callback registration: hand-written family (src/families/opy_cb_*.c)"))
            return
        if name in ov["custom"]:
            counts["other"] += 1
            self.hand_written(f, ov["custom"][name])
            return
        if name in ov["skip_other"]:
            counts["other"] += 1
            self.coverage.append((f["c_name"], "skipped", "", ov["skip_other"][name]))
            return
        try:
            plan = self.plan(f)
        except Unsupported as e:
            raise SystemExit("opy_gen: %s cannot be wrapped mechanically (%s): list it in the "
                             "overrides" % (f["c_name"], e))
        counts["mechanical"] += 1
        if name in ov["compat_custom"]:
            c = ov["compat_custom"][name]
            self.coverage.append((f["c_name"], "wrapped (hand-written form)",
                                  " ".join(c["python"]), c["why"]))
            self.add_custom(c["python"])
            return
        plan["since"] = self.since_of(f["c_name"])
        plan["alias"] = self.short_name(plan)
        pyname = (plan["self"] + "." if plan["self"] else "") + name
        if plan["alias"]:
            pyname += " (also %s.%s)" % (plan["self"], plan["alias"])
        self.coverage.append((f["c_name"], "wrapped", pyname, ""))
        if plan["self"]:
            self.methods[plan["self"]].append(plan)
        else:
            self.functions.append(plan)

    @staticmethod
    def short_name(plan):
        """The official 7.1 name of a method whose C name starts with its class
        name (FindMatcherIsMatch -> IsMatch, KeysValuesIteratorGetKey ->
        GetKey): both names are offered."""
        cls, name = plan["self"], plan["name"]
        if cls and name.startswith(cls) and len(name) > len(cls) and name[len(cls)].isupper():
            return name[len(cls):]
        return None

    def hand_written(self, f, entry):
        """An overrides entry {"python": [names], "why"}: the wrappers of src/sdk/custom/."""
        self.coverage.append((f["c_name"], "hand-written", " ".join(entry["python"]), entry["why"]))
        self.add_custom(entry["python"])

    def add_custom(self, pynames):
        for full in pynames:
            cls, _, name = full.rpartition(".")
            cls = cls or None
            sym = "opy_custom_%s%s" % (cls + "_" if cls else "", name)
            self.custom_entries.append((cls, name, sym))

    # ------------------------------------------------------------ C emission

    def signature(self, plan, selfname):
        names = [a["name"] for a in plan["args"]]
        return "%s(%s, /%s)" % (plan["name"], selfname, "".join(", " + n for n in names))

    def docstring(self, plan, selfname):
        doc = plan["doc"]
        lines = [self.signature(plan, selfname), "--", "", doc["brief"] or plan["name"]]
        if doc["details"]:
            lines += ["", doc["details"]]
        if plan["args"]:
            lines += ["", "Parameters:"]
            for a in plan["args"]:
                lines.append("  %s (%s): %s" % (a["name"], self.pyi_arg_type(a),
                                                doc["params"].get(a["name"], "")))
        ret = self.pyi_ret_type(plan)
        if ret != "None":
            text = doc["returns"] if plan["ret_kind"] != "error" else \
                doc["params"].get(plan["out_buffer"] or "", "")
            lines += ["", "Returns:", "  %s: %s" % (ret, text)]
        if plan["ret_kind"] in ("error", "void") or plan["args"]:
            lines += ["", "Raises orthanc.OrthancException when Orthanc reports an error."]
        if doc["deprecated"]:
            lines += ["", "Deprecated in the Orthanc SDK."]
        lines += ["", "Orthanc SDK: %s." % self.sdk_note(plan["c_name"])]
        return "\n".join(lines)

    def sdk_note(self, c_name):
        label = self.since_label(c_name)
        if self.since_of(c_name):
            return "since %s (needs Orthanc %s or newer at run time)" % (label, label)
        if label.startswith("<="):
            return "%s or older" % label[2:]
        if label.startswith("<"):
            return "before %s" % label[1:]
        return "since " + label

    def call_index(self, pyname):
        """Index of a public callable in opy_gen_calls[] (call counts for the tests)."""
        if pyname not in self.call_names:
            self.call_names.append(pyname)
        return self.call_names.index(pyname)

    def check_lines(self, plan):
        """The calls of src/sdk/opy_check.c that the overrides ask for: HTTP
        header names and values ("header_args"), image geometry
        ("image_args"). Each raises ValueError before the SDK call."""
        lines = []
        names = {a["name"]: a for a in plan["args"]}
        label = (plan["self"] + "." if plan["self"] else "") + plan["name"]
        for arg, kind in self.ov.get("header_args", {}).get(plan["name"], {}).items():
            if arg.startswith("_"):
                continue
            if names.get(arg, {}).get("kind") != "str" or kind not in ("name", "value"):
                raise SystemExit("opy_gen: header_args of %s: %s is not a str parameter (or %r is "
                                 "neither name nor value)" % (plan["name"], arg, kind))
            cond = "v_%s != NULL && " % arg if names[arg]["nullable"] else ""
            lines.append("    if (%sopy_check_http_%s(v_%s, strlen(v_%s), %s) < 0)"
                         % (cond, kind, arg, arg, c_string("%s() %s" % (label, arg))))
            lines.append("        goto done;")
        geometry = self.ov.get("image_args", {}).get(plan["name"])
        if geometry is not None:
            fmt, width, height, pitch, buf = geometry
            for n, kinds in ((fmt, ("enum",)), (width, ("int",)), (height, ("int",)),
                             (pitch, ("int",)), (buf, ("buffer_unsized",))):
                if n is not None and names.get(n, {}).get("kind") not in kinds:
                    raise SystemExit("opy_gen: image_args of %s: no %s parameter %s"
                                     % (plan["name"], "/".join(kinds), n))
            lines.append("    if (opy_image_check(v_%s, v_%s, v_%s, %s, %s) < 0)" % (
                fmt, width, height, "v_" + pitch if pitch else "-1",
                "(long long) v_%s.size" % buf if buf else "-1"))
            lines.append("        goto done;")
        return lines

    def emit_wrapper(self, plan, cls):
        fn = "gen_%s%s" % (cls + "_" if cls else "", plan["name"])
        index = self.call_index((cls + "." if cls else "") + plan["name"])
        out = []
        w = out.append
        nargs = len(plan["args"])
        w("static PyObject *")
        w("%s(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)" % fn)
        w("{")
        if nargs:
            w("    static const char *const kwlist[] = {%s};" % ", ".join(c_string(a["name"]) for a in plan["args"]))
            w("    PyObject *a[%d];" % nargs)
        else:
            w("    static const char *const *kwlist = NULL;")
            w("    PyObject **a = NULL;")
        w("    PyObject *result = NULL;")
        if cls:
            w("    OpyHandleObject *h = (OpyHandleObject *) self;")
        else:
            w("    (void) self;")
        for a in plan["args"]:
            n = a["name"]
            if a["kind"] == "str":
                w("    const char *v_%s = NULL;" % n)
            elif a["kind"] in ("buffer", "buffer_unsized"):
                w("    OpyBytes v_%s;" % n)
                w("    int have_%s = 0;" % n)
            elif a["kind"] in ("int", "enum"):
                w("    long long v_%s = 0;" % n)
            elif a["kind"] == "uint64":
                w("    unsigned long long v_%s = 0;" % n)
            elif a["kind"] == "float":
                w("    double v_%s = 0;" % n)
            elif a["kind"] == "object":
                w("    void *v_%s = NULL;" % n)
        if plan["out_buffer"]:
            w("    OrthancPluginMemoryBuffer target = { NULL, 0 };")
        rk = plan["ret_kind"]
        ctype = {"void": None, "error": None, "owned_str": "char *",
                 "borrowed_str": "const char *", "int": plan["ret"], "enum": plan["ret"],
                 "object": "OrthancPlugin%s *" % plan.get("ret_object")}[rk]
        if ctype:
            w("    %s r;" % ctype)
        w("    OrthancPluginErrorCode code;")
        if not cls and plan["name"] in self.ov.get("main_interpreter_only", {}):
            w("    int once_slot = -1;")
        w("")
        if plan.get("since"):
            w("    if (opy_sdk_require(OPY_SDK_VERSION(%d, %d, %d), %s) < 0)"
              % (plan["since"] + (c_string((cls + "." if cls else "") + plan["name"]),)))
            w("        return NULL;")
        w("    if (opy_args_parse(%s, args, nargs, kwnames, kwlist, %d, %d, a) < 0)"
          % (c_string(plan["name"]), nargs, nargs))
        w("        return NULL;")
        once = not cls and plan["name"] in self.ov.get("main_interpreter_only", {})
        if once:
            # Python.Interpreters: the main interpreter's call serves them all
            w("    switch (opy_interps_once(%s, &result, &once_slot)) {" % c_string(plan["name"]))
            w("    case -1: return NULL;")
            w("    case 1: return result;")
            w("    }")
        if cls:
            w("    if (opy_handle_get(self) == NULL)")
            w("        return NULL;")
        for i, a in enumerate(plan["args"]):
            n = a["name"]
            cn = c_string(n)
            k = a["kind"]
            if k == "str":
                w("    if (opy_arg_str(a[%d], %s, %d, &v_%s) < 0)" % (i, cn, int(a["nullable"]), n))
                w("        goto done;")
            elif k in ("buffer", "buffer_unsized"):
                w("    if (opy_bytes_get(a[%d], %s, &v_%s) < 0)" % (i, cn, n))
                w("        goto done;")
                w("    have_%s = 1;" % n)
                if k == "buffer" and a["size_type"] == "uint32_t":
                    w("    if (opy_size_check(v_%s.size, UINT32_MAX, %s) < 0)" % (n, cn))
                    w("        goto done;")
            elif k == "int":
                lo, hi = INT_TYPES[strip_const(a["ctype"])]
                w("    if (opy_long_get(a[%d], %s, %s, %s, &v_%s) < 0)" % (i, cn, lo, hi, n))
                w("        goto done;")
            elif k == "uint64":
                w("    if (opy_ulonglong_get(a[%d], %s, &v_%s) < 0)" % (i, cn, n))
                w("        goto done;")
            elif k == "float":
                w("    if (opy_double_get(a[%d], %s, &v_%s) < 0)" % (i, cn, n))
                w("        goto done;")
            elif k == "enum":
                w("    if (opy_enum_get(a[%d], %s, &opy_gen_enums[OPY_ENUM_%s], &v_%s) < 0)"
                  % (i, cn, a["enum"], n))
                w("        goto done;")
            elif k == "object":
                w("    if (opy_arg_object(a[%d], %s, opy_state->types[OPY_TYPE_%s], %d, &v_%s) < 0)"
                  % (i, cn, a["object"], int(a["nullable"]), n))
                w("        goto done;")
        for a in plan["args"]:      # (image_args: opy_image_check checks more)
            if a["kind"] == "buffer_unsized" and plan["name"] not in self.ov.get("image_args", {}):
                w("    if (opy_image_buffer_check(v_%s.size, v_pitch, v_height, %s) < 0)"
                  % (a["name"], c_string(a["name"])))
                w("        goto done;")
        for line in self.check_lines(plan):
            w(line)
        w("    if (opy_sdk_is_closed()) {")
        w("        opy_error_sdk_closed();")
        w("        goto done;")
        w("    }")
        # the call
        call_args = ["opy_context"]
        for item in plan["call"]:
            if item[0] == "out":
                call_args.append("&target")
            elif item[0] == "self":
                call_args.append("h->ptr")
            elif item[0] == "buffer":
                call_args.append("v_%s.data" % item[1])
            elif item[0] == "buffer_size":
                call_args.append("(%s) v_%s.size" % (item[2], item[1]))
            else:
                a = next(x for x in plan["args"] if x["name"] == item[1])
                n = a["name"]
                if a["kind"] == "buffer_unsized":
                    call_args.append("v_%s.data" % n)
                elif a["kind"] in ("int", "enum", "uint64", "float"):
                    call_args.append("(%s) v_%s" % (a["ctype"], n))
                elif a["kind"] == "object":
                    call_args.append("(%s) v_%s" % (a["ctype"], n))
                else:
                    call_args.append("v_%s" % n)
        call = "OrthancPlugin%s(%s)" % (plan["name"], ", ".join(call_args))
        # Checked again and marked in flight right before the call: the
        # conversions above may have run Python code (see opy_handle_enter).
        objs = [(i, a) for i, a in enumerate(plan["args"]) if a["kind"] == "object"]
        if cls:
            w("    if (opy_handle_enter(self) == NULL)")
            w("        goto done;")
        for i, a in objs:
            cond = "a[%d] != Py_None && " % i if a["nullable"] else ""
            w("    if (%sopy_handle_enter(a[%d]) == NULL) {" % (cond, i))
            if cls:
                w("        opy_handle_leave(self);")
            w("        goto done;")
            w("    }")
        keep_gil = plan["name"] in self.ov.get("keep_gil", {}).get("names", [])
        w("    opy_sdk_last_error = OrthancPluginErrorCode_Success;")
        if not keep_gil:
            w("    OPY_BEGIN_ALLOW_THREADS")
        if rk == "error":
            w("    code = %s;" % call)
        elif rk == "void":
            w("    %s;" % call)
            w("    code = opy_sdk_last_error;")
        else:
            w("    r = %s;" % call)
            w("    code = opy_sdk_last_error;")
        if not keep_gil:
            w("    OPY_END_ALLOW_THREADS")
        for i, a in objs:
            if a["nullable"]:
                w("    if (a[%d] != Py_None)" % i)
                w("        opy_handle_leave(a[%d]);" % i)
            else:
                w("    opy_handle_leave(a[%d]);" % i)
        if cls:
            w("    opy_handle_leave(self);")
        # the result
        if rk == "owned_str":
            w("    if (r == NULL) {")
            w("        opy_error_raise(code != OrthancPluginErrorCode_Success ? code : OrthancPluginErrorCode_InternalError);")
            w("        goto done;")
            w("    }")
            w("    result = opy_take_string(r);")
        elif rk == "borrowed_str":
            w("    if (code != OrthancPluginErrorCode_Success) {")
            w("        opy_error_raise(code);")
            w("        goto done;")
            w("    }")
            if plan["name"] in self.ov.get("static_str_result", {}):
                w("    result = opy_static_string(r);")
            else:
                w("    result = opy_borrowed_string(r);")
        elif rk == "object":
            w("    if (r == NULL) {")
            w("        opy_error_raise(code != OrthancPluginErrorCode_Success ? code : OrthancPluginErrorCode_InternalError);")
            w("        goto done;")
            w("    }")
            w("    result = opy_handle_new_owned(opy_state->types[OPY_TYPE_%s], r);" % plan["ret_object"])
        else:
            w("    if (code != OrthancPluginErrorCode_Success) {")
            if plan["out_buffer"]:
                w("        if (target.data != NULL)")
                w("            OrthancPluginFreeMemoryBuffer(opy_context, &target);")
            w("        opy_error_raise(code);")
            w("        goto done;")
            w("    }")
            if plan["out_buffer"]:
                w("    result = opy_take_buffer(&target);")
            elif rk in ("int", "enum"):
                if strip_const(plan["ret"]) == UNSIGNED_64:
                    w("    result = PyLong_FromUnsignedLongLong((unsigned long long) r);")
                else:
                    w("    result = PyLong_FromLongLong((long long) r);")
            else:
                w("    result = Py_NewRef(Py_None);")
        if cls and plan["name"] in self.ov.get("consumes_self", {}):
            w("    if (result != NULL) {       /* Orthanc owns the object now */")
            w("        h->owned = 0;")
            w("        h->ptr = NULL;")
            w("    }")
        if cls == "RestOutput" and plan["name"] in self.answers:
            w("    if (result != NULL)")
            w("        h->flags |= OPY_OUTPUT_ANSWERED;")
        if cls == "RestOutput" and plan["name"] in self.ov.get("output_flags", {}):
            w("    if (result != NULL)")
            w("        h->flags |= %s;" % self.ov["output_flags"][plan["name"]])
        if once:
            w("    if (once_slot >= 0)")
            w("        opy_interps_once_keep(once_slot, result);")
        w("    if (result != NULL && opy_gen_counting)")
        w("        opy_gen_calls[%d]++;" % index)
        w("done:")
        for a in plan["args"]:
            if a["kind"] in ("buffer", "buffer_unsized"):
                w("    if (have_%s)" % a["name"])
                w("        opy_bytes_release(&v_%s);" % a["name"])
        w("    return result;")
        w("}")
        w("")
        return fn, "\n".join(out)

    def custom_trampoline(self, cls, name, sym):
        """A counting entry point in front of a hand-written wrapper."""
        index = self.call_index((cls + "." if cls else "") + name)
        fn = "count_" + sym
        code = ("static PyObject *\n%s(PyObject *self, PyObject *const *args, Py_ssize_t nargs, "
                "PyObject *kwnames)\n{\n    PyObject *r = %s(self, args, nargs, kwnames);\n\n"
                "    if (r != NULL && opy_gen_counting)\n        opy_gen_calls[%d]++;\n    return r;\n}\n\n" % (fn, sym, index))
        return fn, code

    def method_def(self, pyname, fn, doc_expr):
        return "    {%s, (PyCFunction) (void (*)(void)) %s, METH_FASTCALL | METH_KEYWORDS, %s}," % (
            c_string(pyname), fn, doc_expr)

    def banner(self):
        m = self.model
        return ("/* Generated by tools/opy_gen.py from OrthancCPlugin.h (SDK %s, sha256 %s). "
                "Do not edit. */\n" % (m["sdk_version"], m["sha256"]))

    def write(self, path, text):
        tmp = "%s.tmp%d" % (path, os.getpid())     # two runs never share one
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)

    def emit_header(self, outdir):
        out = [self.banner(), "#ifndef OPY_GEN_H\n#define OPY_GEN_H\n\n#include \"opy_python.h\"\n\n"]
        out.append("enum {\n")
        for o in self.objects:
            out.append("    OPY_TYPE_%s,\n" % o)
        out.append("    OPY_TYPE_COUNT\n};\n\n")
        out.append("/* Indexes in opy_gen_enums[]. */\nenum {\n")
        for e in self.model["enums"]:
            out.append("    OPY_ENUM_%s,\n" % e["py_name"])
        out.append("    OPY_ENUM_COUNT\n};\n\n")
        out.append("/* Creates every object type of the module into types[]. 0 or -1. */\n")
        out.append("int opy_gen_types_init(PyObject *module, PyTypeObject **types);\n\n")
        out.append("extern PyMethodDef opy_gen_functions[];\n\n")
        out.append("/* Calls of each public callable, for the tests (OPY_CALL_COUNTS): counted\n"
                   " * only when opy_gen_counting is set, so that threads calling the module\n"
                   " * do not write to shared cache lines otherwise. */\n")
        out.append("extern int opy_gen_counting;\n")
        out.append("extern unsigned long opy_gen_calls[];\n")
        out.append("extern const char *const opy_gen_call_names[];\n")
        out.append("extern const unsigned opy_gen_call_count;\n\n")
        out.append("/* Hand-written wrappers (src/sdk/custom/, src/sdk/opy_restoutput.c). */\n")
        for cls, name, sym in self.custom_entries:
            out.append("PyObject *%s(PyObject *self, PyObject *const *args, Py_ssize_t nargs, "
                       "PyObject *kwnames);\n" % sym)
            out.append("extern const char %s_doc[];\n" % sym)
        out.append("\n#endif\n")
        self.write(os.path.join(outdir, "opy_gen.h"), "".join(out))

    def includes(self):
        return ('#include "opy_python.h"\n#include "opy_gen.h"\n#include "opy_args.h"\n'
                '#include "opy_enums.h"\n#include "opy_error.h"\n#include "opy_gil.h"\n'
                '#include "opy_check.h"\n#include "opy_handle.h"\n#include "opy_interps.h"\n#include "opy_log.h"\n'
                '#include "opy_module.h"\n'
                '#include "opy_restoutput.h"\n#include "opy_sdk.h"\n\n#include <limits.h>\n'
                '#include <stdint.h>\n#include <string.h>\n\n')

    def emit_functions(self, outdir):
        out = [self.banner(), self.includes()]
        defs = []
        for plan in sorted(self.functions, key=lambda p: p["name"]):
            fn, code = self.emit_wrapper(plan, None)
            out.append(code + "\n")
            defs.append(self.method_def(plan["name"], fn, c_string(self.docstring(plan, "$module"))))
        for cls, name, sym in self.custom_entries:
            if cls is None:
                fn, code = self.custom_trampoline(cls, name, sym)
                out.append(code)
                defs.append(self.method_def(name, fn, sym + "_doc"))
        out.append("PyMethodDef opy_gen_functions[] = {\n%s\n    {NULL, NULL, 0, NULL}\n};\n" % "\n".join(defs))
        self.write(os.path.join(outdir, "opy_gen_functions.c"), "".join(out))

    def emit_class(self, outdir, cls):
        out = [self.banner(), self.includes()]
        defs = []
        for plan in sorted(self.methods[cls], key=lambda p: p["name"]):
            fn, code = self.emit_wrapper(plan, cls)
            out.append(code + "\n")
            defs.append(self.method_def(plan["name"], fn, c_string(self.docstring(plan, "$self"))))
            if plan["alias"]:       # the official 7.1 name: the same wrapper, counted apart
                alias = dict(plan, name=plan["alias"])
                afn, acode = self.custom_trampoline(cls, plan["alias"], fn)
                out.append(acode)
                defs.append(self.method_def(plan["alias"], afn, c_string(self.docstring(alias, "$self"))))
        for c, name, sym in self.custom_entries:
            if c == cls:
                fn, code = self.custom_trampoline(c, name, sym)
                out.append(code)
                defs.append(self.method_def(name, fn, sym + "_doc"))
        out.append("static PyMethodDef methods[] = {\n%s\n    {NULL, NULL, 0, NULL}\n};\n\n" % "\n".join(defs))
        free_fn = next((f for f, c in self.destructors.items() if c == cls), None)
        if free_fn:
            out.append("static void\ndealloc(PyObject *self)\n{\n"
                       "    OpyHandleObject *h = (OpyHandleObject *) self;\n\n"
                       "    if (h->owned && h->ptr != NULL && !opy_log_is_closed())\n"
                       "        OrthancPlugin%s(opy_context, h->ptr);\n"
                       "    h->ptr = NULL;\n"
                       "    opy_handle_dealloc(self);\n}\n\n" % free_fn)
            dealloc = "dealloc"
        else:
            dealloc = "opy_handle_dealloc"
        doc = "Generated from Orthanc C class: OrthancPlugin%s. %s" % (
            cls, "Objects created by orthanc functions own their SDK object."
            if free_fn else "Borrowed from a callback: valid only while it runs.")
        iternext = self.ov.get("iterators", {}).get(cls)
        if iternext:        # a Python iterator too: for x in obj (next item by a hand-written function)
            out.append("PyObject *%s(PyObject *self);\n\n" % iternext["iternext"])
            iter_slots = "    {Py_tp_iter, PyObject_SelfIter},\n    {Py_tp_iternext, %s},\n" % iternext["iternext"]
        else:
            iter_slots = ""
        out.append("static PyType_Slot slots[] = {\n" + iter_slots +
                   "    {Py_tp_dealloc, %s},\n    {Py_tp_methods, methods},\n"
                   "    {Py_tp_repr, opy_handle_repr},\n"
                   "    {Py_tp_doc, (void *) %s},\n    {0, NULL}\n};\n\n" % (dealloc, c_string(doc)))
        out.append("PyType_Spec opy_gen_spec_%s = {\n    .name = \"orthanc.%s\",\n"
                   "    .basicsize = sizeof(OpyHandleObject),\n"
                   "    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION | "
                   "Py_TPFLAGS_IMMUTABLETYPE,\n    .slots = slots,\n};\n" % (cls, cls))
        self.write(os.path.join(outdir, "opy_gen_%s.c" % cls), "".join(out))

    def emit_calls(self, outdir):
        n = len(self.call_names)
        out = [self.banner(), '#include "opy_gen.h"\n\n',
               "int opy_gen_counting;\n",
               "unsigned long opy_gen_calls[%d];\n\n" % n,
               "const char *const opy_gen_call_names[%d] = {\n" % n]
        out += ["    %s,\n" % c_string(name) for name in self.call_names]
        out.append("};\n\nconst unsigned opy_gen_call_count = %d;\n" % n)
        self.write(os.path.join(outdir, "opy_gen_calls.c"), "".join(out))

    def emit_types(self, outdir):
        out = [self.banner(), '#include "opy_python.h"\n#include "opy_gen.h"\n\n']
        for o in self.objects:
            out.append("extern PyType_Spec opy_gen_spec_%s;\n" % o)
        out.append("\nint\nopy_gen_types_init(PyObject *module, PyTypeObject **types)\n{\n")
        for o in self.objects:
            out.append("    types[OPY_TYPE_%s] = (PyTypeObject *) PyType_FromModuleAndSpec(module, "
                       "&opy_gen_spec_%s, NULL);\n" % (o, o))
            out.append("    if (types[OPY_TYPE_%s] == NULL || PyModule_AddType(module, types[OPY_TYPE_%s]) < 0)\n"
                       "        return -1;\n" % (o, o))
        out.append("    return 0;\n}\n")
        self.write(os.path.join(outdir, "opy_gen_types.c"), "".join(out))

    def emit_enums(self, outdir):
        out = [self.banner(), '#include "opy_enums.h"\n\n']
        for e in self.model["enums"]:
            out.append("static const OpyEnumValue values_%s[] = {\n" % e["py_name"])
            for (_c, py, val) in e["values"]:
                out.append("    { %s, %dLL },\n" % (c_string(py), val))
            out.append("    { NULL, 0 }\n};\n\n")
        for e in self.model["enums"]:
            vals = sorted(set(v for (_c, _p, v) in e["values"]))
            ranges = []                 # runs of consecutive values: [lo, hi] pairs
            for v in vals:
                if ranges and ranges[-1][1] == v - 1:
                    ranges[-1][1] = v
                else:
                    ranges.append([v, v])
            out.append("static const long long ranges_%s[] = { %s };\n\n" % (
                e["py_name"], ", ".join("%dLL, %dLL" % (lo, hi) for lo, hi in ranges)))
            e["_n_ranges"] = len(ranges)
        out.append("const OpyEnumDef opy_gen_enums[] = {\n")
        for e in self.model["enums"]:
            doc = "Generated from C enumeration %s" % e["c_name"]
            if e["doc"]:
                doc += ": " + e["doc"]
            flags = int(e["py_name"].endswith("Flags"))
            out.append("    { %s, %s, values_%s, %d, ranges_%s, %d },\n" % (
                c_string(e["py_name"]), c_string(doc), e["py_name"], flags, e["py_name"],
                e["_n_ranges"]))
        out.append("    { NULL, NULL, NULL, 0, NULL, 0 }\n};\n\n")
        out.append("const size_t opy_gen_enums_count = %d;\n" % len(self.model["enums"]))
        self.write(os.path.join(outdir, "opy_gen_enums.c"), "".join(out))

    # ------------------------------------------------------------ stubs

    def pyi_arg_type(self, a):
        k = a["kind"]
        t = {"str": "str", "buffer": "Buffer", "buffer_unsized": "Buffer", "int": "int",
             "uint64": "int", "float": "float", "enum": "int"}.get(k) or a.get("object")
        return "Optional[%s]" % t if a["nullable"] else t

    def pyi_ret_type(self, plan):
        rk = plan["ret_kind"]
        if plan["out_buffer"]:
            return "bytes"
        return {"void": "None", "error": "None", "owned_str": "str", "borrowed_str": "Optional[str]",
                "int": "int", "enum": "int", "object": plan.get("ret_object")}[rk]

    def pyi_def(self, plan, method):
        args = (["self"] if method else []) + ["%s: %s" % (a["name"], self.pyi_arg_type(a))
                                                for a in plan["args"]]
        if plan["args"]:
            args.insert(len(args) - len(plan["args"]), "/") if False else None
        return 'def %s(%s) -> %s:\n    %s"""Orthanc SDK: %s."""' % (
            plan["name"], ", ".join(args), self.pyi_ret_type(plan), "    " if method else "",
            self.sdk_note(plan["c_name"]))

    def emit_stubs(self, outdir, extra_path):
        out = ["# Generated by tools/opy_gen.py from OrthancCPlugin.h (SDK %s, sha256 %s). Do not edit.\n"
               % (self.model["sdk_version"], self.model["sha256"]),
               '"""Typing stubs of the orthanc module of the Orthanc Python plugin."""\n',
               "from typing import Any, Callable, Dict, List, Optional, Protocol, Tuple, Union\n\n",
               "Buffer = Union[bytes, bytearray, memoryview, str]\n\n"]
        for e in self.model["enums"]:
            out.append("\nclass %s:\n" % e["py_name"])
            out.append('    """Generated from C enumeration %s."""\n' % e["c_name"])
            for (_c, py, _v) in e["values"]:
                out.append("    %s: int\n" % py)
        out.append("\n\nclass OrthancException(Exception):\n"
                   '    """args == (code, description); code is a value of ErrorCode."""\n'
                   "    args: Tuple[int, str]\n")
        extra = open(extra_path).read() if extra_path else ""
        custom_stubs = {}
        for m in re.finditer(r"^# (\w+(?:\.\w+)?)\n(.*?)(?=^# |\Z)", extra, re.S | re.M):
            custom_stubs[m.group(1)] = m.group(2).rstrip("\n")
        used = set()
        for o in self.objects:
            out.append("\n\nclass %s:\n" % o)
            out.append('    """Generated from Orthanc C class: OrthancPlugin%s."""\n' % o)
            for plan in sorted(self.methods[o], key=lambda p: p["name"]):
                out.append("    %s\n" % self.pyi_def(plan, True))
                if plan["alias"]:
                    out.append("    %s\n" % self.pyi_def(dict(plan, name=plan["alias"]), True))
            for c, name, _sym in self.custom_entries:
                if c == o:
                    key = "%s.%s" % (o, name)
                    if key not in custom_stubs:
                        raise SystemExit("opy_gen: no stub for %s in %s" % (key, extra_path))
                    used.add(key)
                    out.append("    " + custom_stubs[key].replace("\n", "\n    ") + "\n")
        out.append("\n\n")
        for plan in sorted(self.functions, key=lambda p: p["name"]):
            out.append("%s\n" % self.pyi_def(plan, False))
        for c, name, _sym in self.custom_entries:
            if c is None:
                if name not in custom_stubs:
                    raise SystemExit("opy_gen: no stub for %s in %s" % (name, extra_path))
                used.add(name)
                out.append(custom_stubs[name] + "\n")
        gated = {py for fam in self.ov.get("families", {}).values() for py in fam["python"]}
        present = {py for names in self.family_names.values() for py in names}
        # hand-written wrappers of functions this header does not declare
        declared = {f["c_name"] for f in self.model["functions"]}
        absent = {py for c, entry in self.ov.get("custom", {}).items()
                  if "OrthancPlugin" + c not in declared for py in entry["python"]}
        for key, text in custom_stubs.items():
            if key not in used and key not in absent and "." not in key and (key not in gated or key in present):
                out.append(text + "\n")     # module parts written by hand (Register..., LogHandler)
        self.write(os.path.join(outdir, "orthanc.pyi"), "".join(out))

    def emit_enum_values(self, outdir):
        """orthanc_enums.json: {enumeration: {name: value}} and the SDK the
        stubs were made from, what the stubs do not say: the testing kit's
        fake module (python/orthanc_plugin_testing/fake.py) reads it next to
        the stubs."""
        out = {"sdk_version": self.model["sdk_version"],
               "enums": {e["py_name"]: {py: v for (_c, py, v) in e["values"]} for e in self.model["enums"]}}
        self.write(os.path.join(outdir, "orthanc_enums.json"), json.dumps(out, indent=1) + "\n")

    def emit_names(self, outdir):
        names = [e["py_name"] for e in self.model["enums"]] + list(self.objects) + ["OrthancException"]
        names += [p["name"] for p in self.functions]
        for o in self.objects:
            names += ["%s.%s" % (o, p["name"]) for p in self.methods[o]]
            names += ["%s.%s" % (o, p["alias"]) for p in self.methods[o] if p["alias"]]
        for c, name, _sym in self.custom_entries:
            names.append("%s.%s" % (c, name) if c else name)
        self.write(os.path.join(outdir, "names.txt"), "\n".join(sorted(names)) + "\n")

    def emit_coverage(self, outdir, counts):
        total = len(self.model["functions"])
        wrapped = counts["mechanical"]
        custom = sum(1 for c in self.coverage if c[1] == "hand-written"
                     and c[0][len("OrthancPlugin"):] not in self.ov.get("memory_custom", {}))
        lines = ["Orthanc SDK %s (sha256 %s): %d functions" % (self.model["sdk_version"],
                                                               self.model["sha256"], total),
                 "mechanical (generated): %d, hand-written: %d, callback registrations: %d, "
                 "destructors and memory helpers: %d, skipped: %d" % (
                     wrapped, custom, counts["callbacks"], counts["memory"],
                     counts["other"] - custom),
                 ""]
        c_names = {c for c, *_ in self.coverage}
        left_out = sum(1 for n in self.ov.get("callbacks_left_out", {}) if "OrthancPlugin" + n in c_names)
        used = sum(1 for n in self.ov.get("used_by_families", {}) if "OrthancPlugin" + n in c_names)
        reachable = wrapped + custom + counts["callbacks"] - left_out + used + len(self.destructors_seen())
        lines.insert(2, "reachable from Python: %d of %d (%.1f %%): every function but the memory helpers, "
                        "the skipped ones and the callbacks left out (the destructors count: objects call them)"
                     % (reachable, total, 100.0 * reachable / total))
        lines[1:1] = ["SDK version of each function: its ORTHANC_PLUGIN_SINCE_SDK annotation (or the "
                      "table tools/opy_sdk_since.json for headers without them); a wrapper of a "
                      "function newer than Orthanc %s checks the running Orthanc first"
                      % self.ov["minimum_orthanc"]]
        for c_name, status, py, why in sorted(self.coverage):
            lines.append("%-45s %-16s %-28s %-45s %s" % (c_name, self.since_label(c_name), status, py, why))
        self.write(os.path.join(outdir, "coverage.txt"), "\n".join(lines) + "\n")
        return lines[:3]

    def destructors_seen(self):
        return [c for c, status, *_ in self.coverage if status == "destructor"]

    def emit_sdk_names(self, outdir):
        """sdk_names.json: {python name: SDK version} of every name of the
        module newer than the oldest Orthanc it runs on (generated wrappers,
        their 7.1 short names, hand-written wrappers and callback
        registrations): each refuses to run on an older Orthanc, which
        tests/integration/test_sdk_versions.py checks."""
        out = {}
        for c_name, status, py, _why in self.coverage:
            v = self.since_of(c_name)
            if v is None or status not in ("wrapped", "hand-written", "callbacks") or not py:
                continue
            # "Class.Method (also Class.Short)": both names
            for n in py.replace("(also ", "").replace(")", "").split():
                out[n] = ".".join(map(str, v))
        self.write(os.path.join(outdir, "sdk_names.json"), json.dumps(dict(sorted(out.items())), indent=1) + "\n")


def check_record(gen, path, update):
    """Nothing left unclassified (classify() stops the build at the first
    function it cannot place) and nothing classified before disappears: the
    classification of every SDK version the project has built against is
    recorded in tools/opy_gen_record.json. A header of a recorded version must
    match its record exactly; a newer one must keep every function of the
    newest recorded version below it, with the same status (new functions
    are welcome and listed)."""
    version = gen.model["sdk_version"]
    mine = {"functions": {c: status for c, status, _py, _why in gen.coverage},
            "enums": sorted(e["py_name"] for e in gen.model["enums"]),
            "objects": sorted(gen.objects)}
    try:
        with open(path) as f:
            record = json.load(f)
    except FileNotFoundError:
        record = {}
    if update:
        record[version] = mine
        with open(path, "w") as f:
            json.dump(dict(sorted(record.items(), key=lambda kv: version_tuple(kv[0]))), f, indent=1,
                      sort_keys=True)
            f.write("\n")
        print("opy_gen: recorded the classification of SDK %s in %s" % (version, path))
        return 0
    exact = version in record
    older = [v for v in record if version_tuple(v) < version_tuple(version)]
    if not exact and not older:
        sys.stderr.write("opy_gen: SDK %s is older than every recorded SDK (%s): the plugin needs 1.10.0 or "
                         "newer\n" % (version, ", ".join(sorted(record))))
        return 1
    base_version = version if exact else max(older, key=version_tuple)
    base = record[base_version]
    problems = []
    for c, status in sorted(base["functions"].items()):
        if c not in mine["functions"]:
            problems.append("%s disappeared (was %s)" % (c, status))
        elif mine["functions"][c] != status:
            problems.append("%s is now %s (was %s)" % (c, mine["functions"][c], status))
    for kind in ("enums", "objects"):
        for name in sorted(set(base[kind]) - set(mine[kind])):
            problems.append("%s %s disappeared" % (kind[:-1], name))
    new = sorted(set(mine["functions"]) - set(base["functions"]))
    if exact:
        problems += ["%s is new (%s)" % (c, mine["functions"][c]) for c in new]
    if problems:
        sys.stderr.write("opy_gen: the classification of SDK %s differs from the record of SDK %s in %s:\n  %s\n"
                         "If the change is deliberate, run: tools/opy_gen.py --update-record HEADER OUTDIR\n"
                         % (version, base_version, path, "\n  ".join(problems)))
        return 1
    if new:
        print("opy_gen: SDK %s has %d functions that SDK %s had not: %s" % (
            version, len(new), base_version, ", ".join("%s (%s)" % (c, mine["functions"][c]) for c in new)))
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("header")
    ap.add_argument("outdir")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--overrides", default=os.path.join(here, "opy_gen_overrides.json"))
    ap.add_argument("--stubs", default=os.path.join(here, "opy_stubs_extra.pyi"))
    ap.add_argument("--since", default=os.path.join(here, "opy_sdk_since.json"))
    ap.add_argument("--record", default=os.path.join(here, "opy_gen_record.json"))
    ap.add_argument("--update-record", action="store_true",
                    help="record this header's classification (after a deliberate change)")
    ap.add_argument("--list-objects", action="store_true",
                    help="print the object types of the header (for CMake) and stop")
    ap.add_argument("--dump-since", action="store_true",
                    help="print the header's ORTHANC_PLUGIN_SINCE_SDK annotations as JSON and stop")
    args = ap.parse_args()
    model = opy_sdk_parse.parse(os.path.abspath(args.header))
    if args.list_objects:
        print(";".join(model["objects"]))
        return 0
    if args.dump_since:
        json.dump(dict(sorted(model["since"].items())), sys.stdout, indent=1)
        print()
        return 0
    with open(args.overrides) as f:
        overrides = json.load(f)
    with open(args.since) as f:
        overrides["_since_table"] = {k: v for k, v in json.load(f).items() if not k.startswith("_")}
    gen = Gen(model, overrides)
    counts = gen.classify()
    counts.update(functions=len(model["functions"]), enums=len(model["enums"]),
                  objects=len(model["objects"]))
    record_rc = check_record(gen, args.record, args.update_record)
    if record_rc:
        return record_rc
    os.makedirs(args.outdir, exist_ok=True)
    gen.emit_header(args.outdir)
    gen.emit_enums(args.outdir)
    gen.emit_functions(args.outdir)
    for o in model["objects"]:
        gen.emit_class(args.outdir, o)
    gen.emit_types(args.outdir)
    gen.emit_calls(args.outdir)
    gen.emit_stubs(args.outdir, args.stubs)
    gen.emit_names(args.outdir)
    gen.emit_enum_values(args.outdir)
    gen.emit_sdk_names(args.outdir)
    for line in gen.emit_coverage(args.outdir, counts):
        print("opy_gen: " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
