#!/usr/bin/env bash
# Build the Debian package of the plugin (debian/) on a Debian suite and test
# it, in that suite's chroot (scripts/distro.sh's).
#
#   scripts/package.sh SUITE      SUITE: bookworm, trixie or sid
#
# 1. build: the chroot of scripts/distro.sh (made or reused; its folder is
#    $OPY_CHROOT_DIR/SUITE, default /var/lib/opy-chroots), the package's
#    Build-Depends installed in it when missing (apt-get build-dep: debhelper,
#    dh-python, build-essential; kept for the next runs), the checkout copied
#    to /opy/pkg/orthanc-python-c-VERSION, `dpkg-buildpackage -us -uc -b`
#    there (C unit tests included: DEB_BUILD_OPTIONS=nocheck skips them;
#    parallel=2 is added unless DEB_BUILD_OPTIONS has a parallel=).  The .deb
#    and the build's other files are copied to $OPY_PKG_OUT (default
#    $OPY_CHROOT_DIR/SUITE.debs).
# 2. test, in a throwaway overlay of the chroot (where the official plugin,
#    orthanc-python, is installed): `apt-get install ./orthanc-python-c_*.deb`
#    must replace it; the package's files are checked, the testing kit
#    imported; Orthanc is started as its service does (user orthanc,
#    /etc/orthanc/, on free ports) with python.json pointing at the REST
#    sample (tests/integration/scripts/rest.py): GET /tata must answer "ok"
#    and the log name the script; Orthanc is stopped; `apt-get purge` must
#    remove every file and leave orthanc-python uninstalled; last, installing
#    orthanc-python again (from the chroot's apt cache) must bring it back.
#
# Logs beside the chroot: SUITE.pkg-build.log, SUITE.pkg-test.log (apt),
# SUITE.pkg-orthanc.log.  Ends with one summary line; exit status 0 when
# everything passed.  Mounts are undone and Orthanc is stopped on every exit
# path.  Needs root.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail

usage() { sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ "$#" -eq 1 ] || usage
SUITE=$1
case "$SUITE" in bookworm|trixie|sid) ;; *) usage ;; esac

SRC=$(cd "$(dirname "$0")/.." && pwd)
BASE=${OPY_CHROOT_DIR:-/var/lib/opy-chroots}
CHROOT=$BASE/$SUITE
ROOT=$CHROOT              # the chroot the helpers work in (the overlay, later)
WORK=$BASE/$SUITE.pkgtest # the throwaway overlay: upper, work, merged
OUT=${OPY_PKG_OUT:-$BASE/$SUITE.debs}
BUILD_LOG=$BASE/$SUITE.pkg-build.log
TEST_LOG=$BASE/$SUITE.pkg-test.log        # apt's output in the test
ORTHANC_LOG=$BASE/$SUITE.pkg-orthanc.log  # Orthanc's log and output in the test

# mounted, cleanup, mount_into, mount_all, in_root, copy_checkout
. "$SRC/scripts/chroot-lib.sh"

PKG=orthanc-python-c
VERSION=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$SRC/debian/changelog")
UPSTREAM=${VERSION%-*}
PKGDIR=/opy/pkg              # in the chroot: the source tree and the .deb
SRCDIR=$PKGDIR/$PKG-$UPSTREAM

log() { printf 'package.sh[%s]: %s\n' "$SUITE" "$*" >&2; }

done_parts=()   # what passed, for the summary line
step=prepare    # what is running (named by the summary line when it fails)
deb=$PKG'_'$VERSION'_?.deb'
official=
t_build=- t_test=-
orthanc_pid=

stop_orthanc() {   # SIGTERM, 30 s, then SIGKILL; sets orthanc_rc
  orthanc_rc=
  [ -n "$orthanc_pid" ] || return 0
  local i
  kill -TERM "$orthanc_pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    kill -0 "$orthanc_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$orthanc_pid" 2>/dev/null; then
    log "Orthanc (pid $orthanc_pid) still running 30 s after SIGTERM: SIGKILL"
    kill -KILL "$orthanc_pid" 2>/dev/null || true
  fi
  orthanc_rc=0
  wait "$orthanc_pid" 2>/dev/null || orthanc_rc=$?
  orthanc_pid=
}

on_exit() {
  local rc=$?
  set +e
  stop_orthanc
  cleanup
  if [ -d "$WORK" ] && ! mountpoint -q "$WORK/merged" && ! grep -qF " $WORK/" /proc/mounts; then
    rm -rf "$WORK"
  fi
  local summary
  summary=$(IFS=,; echo "${done_parts[*]}" | sed 's/,/, /g')
  if [ "$rc" -eq 0 ]; then
    echo "package.sh[$SUITE]: $summary: ok (build ${t_build} s, test ${t_test} s)"
  elif [ "$rc" -eq 130 ]; then
    echo "package.sh[$SUITE]: ${summary:+$summary, }INTERRUPTED during: $step"
  else
    echo "package.sh[$SUITE]: ${summary:+$summary, }FAILED at: $step (exit $rc; build ${t_build} s, test ${t_test} s)"
  fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

fail() { log "$*"; exit 1; }

# ---- 1. build ---------------------------------------------------------------
step="the chroot (scripts/distro.sh $SUITE prepare)"
OPY_CHROOT_DIR=$BASE bash "$SRC/scripts/distro.sh" "$SUITE" prepare
mountpoint -q "$CHROOT/proc" && fail "$CHROOT/proc is mounted: is another run using $CHROOT?"
mount_all

step="copy of the checkout"
rm -rf "${CHROOT:?}$PKGDIR"
copy_checkout "$CHROOT$SRCDIR"

step="Build-Depends (apt-get build-dep)"
: >"$BUILD_LOG"
# Nothing to install (no network) when dpkg-checkbuilddeps is content.
if ! in_root bash -c "cd $SRCDIR && dpkg-checkbuilddeps" >/dev/null 2>&1; then
  log "installing the Build-Depends"
  build_dep() { in_root bash -c "cd $SRCDIR && apt-get build-dep -y -q --no-install-recommends ./" \
                  </dev/null >>"$BUILD_LOG" 2>&1; }
  if ! build_dep; then
    log "apt-get build-dep failed; apt-get update and again"
    in_root apt-get update -q >>"$BUILD_LOG" 2>&1 </dev/null || true
    build_dep || { tail -n 30 "$BUILD_LOG" >&2; exit 1; }
  fi
fi

step="dpkg-buildpackage"
t0=$SECONDS
build_opts=${DEB_BUILD_OPTIONS:-}
[[ " $build_opts " == *" parallel="* ]] || build_opts="${build_opts:+$build_opts }parallel=2"
log "dpkg-buildpackage -us -uc -b (DEB_BUILD_OPTIONS=$build_opts; log: $BUILD_LOG)"
in_root env DEB_BUILD_OPTIONS="$build_opts" bash -c "cd $SRCDIR && dpkg-buildpackage -us -uc -b" \
  </dev/null >>"$BUILD_LOG" 2>&1 || { tail -n 40 "$BUILD_LOG" >&2; exit 1; }
arch=$(in_root dpkg --print-architecture)
deb=${PKG}_${VERSION}_$arch.deb
[ -f "$CHROOT$PKGDIR/$deb" ] || fail "dpkg-buildpackage made no $PKGDIR/$deb"
rm -rf "$OUT" && mkdir -p "$OUT"
find "$CHROOT$PKGDIR" -maxdepth 1 -type f -exec cp {} "$OUT/" \;
t_build=$((SECONDS - t0))
done_parts+=("built $deb")
log "built $deb in ${t_build} s (copied to $OUT/)"
cleanup   # the build's mounts; the test has its own

# ---- 2. test, in a throwaway overlay of the chroot --------------------------
t0=$SECONDS
step="the throwaway copy of the chroot"
rm -rf "$WORK"
mkdir -p "$WORK/upper" "$WORK/work" "$WORK/merged"
if ! mount_into overlay "$WORK/merged" -t overlay \
       -o "lowerdir=$CHROOT,upperdir=$WORK/upper,workdir=$WORK/work" 2>/dev/null; then
  log "overlayfs refused: a copy of the chroot instead (cp -a)"
  rmdir "$WORK/merged"
  cp -a --one-file-system "$CHROOT" "$WORK/merged"
fi
ROOT=$WORK/merged
mount_all
: >"$TEST_LOG"
apt_in_root() { in_root apt-get "$@" </dev/null >>"$TEST_LOG" 2>&1 || {
                  tail -n 30 "$TEST_LOG" >&2; return 1; }; }
status_of() { in_root dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$1" 2>/dev/null || true; }

step="orthanc-python installed before"
st=$(status_of orthanc-python)
[[ "$st" == "ii "* ]] || fail "orthanc-python is not installed in the chroot (status: '${st:-unknown}')"
official=${st#ii }
official=${official# }

step="apt-get install ./$deb"
apt_in_root install -y -q "$PKGDIR/$deb"
st=$(status_of orthanc-python)
[[ "$st" != "ii"* ]] || fail "orthanc-python is still installed after the install of $deb"
[[ "$(status_of $PKG)" == "ii "* ]] || fail "$PKG is not installed: $(status_of $PKG)"
done_parts+=("installed over orthanc-python $official")

step="files of the package (dpkg -L $PKG)"
in_root dpkg -L "$PKG" >"$WORK/files.txt"
kit=0
[ -d "$SRC/python/orthanc_plugin_testing" ] && kit=1
expected=(
  /usr/share/orthanc/plugins/libOrthancPython.so
  /usr/share/orthanc/plugins/orthanc.pyi
  /etc/orthanc/python.json
  /usr/lib/python3/dist-packages/orthanc-stubs/__init__.pyi
  /usr/share/doc/$PKG/README.md
  /usr/share/doc/$PKG/copyright
  /usr/share/doc/$PKG/changelog.Debian.gz
)
if [ "$kit" = 1 ]; then
  expected+=(/usr/lib/python3/dist-packages/orthanc_plugin_testing/__init__.py
             "/usr/lib/python3/dist-packages/orthanc_plugin_testing-$UPSTREAM.dist-info/METADATA"
             "/usr/lib/python3/dist-packages/orthanc_plugin_testing-$UPSTREAM.dist-info/entry_points.txt")
fi
for f in "${expected[@]}"; do
  grep -qxF "$f" "$WORK/files.txt" || fail "dpkg -L $PKG does not list $f"
done
while read -r f; do
  [ -e "$ROOT$f" ] || [ -L "$ROOT$f" ] || fail "$f, listed by dpkg -L $PKG, is missing"
done <"$WORK/files.txt"
# Orthanc's plugin folder links to the library in /usr/lib/orthanc/ (as for
# the official package: the link's target tells whose library it is).
lib=$ROOT/usr/share/orthanc/plugins/libOrthancPython.so
lib_target=$(readlink "$lib" || true)
[[ "$lib_target" == */lib/orthanc/libOrthancPython.so.$UPSTREAM ]] && [ -f "$lib" ] ||
  fail "/usr/share/orthanc/plugins/libOrthancPython.so is not a link to the package's library (${lib_target:-not a link})"
grep -qxF "/usr/lib/orthanc/libOrthancPython.so.$UPSTREAM" "$WORK/files.txt" ||
  fail "dpkg -L $PKG does not list /usr/lib/orthanc/libOrthancPython.so.$UPSTREAM"
# the conffile is ours (dpkg took it over from orthanc-python)
grep -q "$PKG" "$ROOT/etc/orthanc/python.json" ||
  fail "/etc/orthanc/python.json is not the package's (dpkg kept the official one?)"
grep -q '^ */etc/orthanc/python.json ' < <(in_root dpkg-query -W -f='${Conffiles}\n' "$PKG") ||
  fail "/etc/orthanc/python.json is not a conffile of $PKG"

if [ "$kit" = 1 ]; then
  step="import orthanc_plugin_testing"
  in_root /usr/bin/python3 -c '
import importlib.metadata as md, orthanc_plugin_testing
eps = [e.name for e in md.entry_points(group="pytest11")]
assert "orthanc_plugin_testing" in eps, eps
' || fail "the testing kit cannot be imported, or has no pytest11 entry point"
fi

step="configuration (python.json, orthanc.json)"
mkdir -p "$ROOT/opy/pkgtest"
cp "$SRC/tests/integration/scripts/rest.py" "$ROOT/opy/pkgtest/rest.py"
chmod 755 "$ROOT/opy/pkgtest" && chmod 644 "$ROOT/opy/pkgtest/rest.py"
sed -i 's|^\( *\)// *"PythonScript" *: *"[^"]*"|\1"PythonScript" : "/opy/pkgtest/rest.py"|' \
  "$ROOT/etc/orthanc/python.json"
grep -q '^ *"PythonScript" : "/opy/pkgtest/rest.py",' "$ROOT/etc/orthanc/python.json" ||
  fail "could not set PythonScript in /etc/orthanc/python.json"
# Free ports (the chroot shares the host's network), never 8042 / 4242.
read -r http_port dicom_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')
sed -i -e "s|^\( *\"HttpPort\" *: *\)[0-9]*|\1$http_port|" \
       -e "s|^\( *\"DicomPort\" *: *\)[0-9]*|\1$dicom_port|" "$ROOT/etc/orthanc/orthanc.json"
grep -q "^ *\"HttpPort\" *: *$http_port," "$ROOT/etc/orthanc/orthanc.json" &&
  grep -q "^ *\"DicomPort\" *: *$dicom_port," "$ROOT/etc/orthanc/orthanc.json" ||
  fail "could not set the ports in /etc/orthanc/orthanc.json"

step="Orthanc with the REST sample"
# As orthanc.service: user orthanc, /usr/sbin/Orthanc --logdir=/var/log/orthanc /etc/orthanc
mkdir -p "$ROOT/var/log/orthanc"
in_root chown orthanc:orthanc /var/log/orthanc
rm -f "$ROOT"/var/log/orthanc/*
chroot "$ROOT" /usr/bin/env -i HOME=/var/lib/orthanc LANG=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  setpriv --reuid=orthanc --regid=orthanc --init-groups \
  /usr/sbin/Orthanc --logdir=/var/log/orthanc /etc/orthanc/ </dev/null >"$WORK/orthanc.out" 2>&1 &
orthanc_pid=$!
log "Orthanc started (pid $orthanc_pid, HTTP port $http_port, DICOM port $dicom_port)"
answer=
for ((i = 0; i < 600; i++)); do
  kill -0 "$orthanc_pid" 2>/dev/null || break
  answer=$(in_root /usr/bin/python3 -c '
import sys, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode(), end="")
except OSError:
    pass' "http://127.0.0.1:$http_port/tata") || true
  [ -n "$answer" ] && break
  sleep 0.1
done
orthanc_log() { cat "$ROOT"/var/log/orthanc/*.log "$WORK/orthanc.out" 2>/dev/null; }
keep_orthanc_log() { orthanc_log >"$ORTHANC_LOG" || true; }
if [ "$answer" != ok ]; then
  keep_orthanc_log
  orthanc_log | tail -n 30 >&2
  fail "GET /tata answered '${answer:-nothing}' (expected: ok)"
fi
stop_orthanc
keep_orthanc_log
[ "$orthanc_rc" = 0 ] || { orthanc_log | tail -n 30 >&2; fail "Orthanc exited with status $orthanc_rc at its stop"; }
# (grep the kept copy: with pipefail, "orthanc_log | grep -q" fails when grep
# stops reading at its first match and cat is still writing)
grep -qF 'OPY0008 Using Python script "rest.py" from directory: /opy/pkgtest' "$ORTHANC_LOG" ||
  { orthanc_log | tail -n 30 >&2; fail "no OPY0008 start-up line for rest.py in Orthanc's log"; }
done_parts+=("REST sample answered")

step="apt-get purge $PKG"
apt_in_root purge -y -q "$PKG"
[[ "$(status_of $PKG)" != "ii"* && "$(status_of $PKG)" != "rc"* ]] ||
  fail "$PKG is still there after the purge: $(status_of $PKG)"
# What is left must be a folder of other packages too (/etc/orthanc, ...).
while read -r f; do
  [ "$f" != /. ] || continue
  [ -e "$ROOT$f" ] || [ -L "$ROOT$f" ] || continue
  [ -d "$ROOT$f" ] && [ ! -L "$ROOT$f" ] && in_root dpkg-query -S "$f" >/dev/null 2>&1 ||
    fail "$f is still there after the purge"
done <"$WORK/files.txt"
st=$(status_of orthanc-python)
[[ "$st" != "ii"* ]] || fail "orthanc-python was installed again by the purge of $PKG"
done_parts+=("purged")

# The way back (docs/packaging.md): installing orthanc-python again brings
# its library and its python.json back.  From the chroot's apt cache (no
# network); skipped when the official .deb is not there.
step="apt-get install orthanc-python (the way back)"
if ls "$ROOT"/var/cache/apt/archives/orthanc-python_*.deb >/dev/null 2>&1; then
  apt_in_root install -y -q --no-download orthanc-python
  [[ "$(status_of orthanc-python)" == "ii "* ]] || fail "orthanc-python is not installed again"
  [ -f "$lib" ] && [ "$(readlink "$lib")" != "$lib_target" ] ||
    fail "libOrthancPython.so is not the official package's library again"
  grep -q '"PythonScript"' "$ROOT/etc/orthanc/python.json" 2>/dev/null ||
    fail "/etc/orthanc/python.json of orthanc-python is not back"
  log "the official plugin is back after apt-get install orthanc-python (library and python.json)"
else
  log "no orthanc-python .deb in the chroot's apt cache: the way back is not checked"
fi
t_test=$((SECONDS - t0))
step=done
