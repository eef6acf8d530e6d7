#!/usr/bin/env bash
# Install (from Debian's packages) everything the build and the tests need,
# on Debian 12 "bookworm", 13 "trixie" or unstable "sid" (the libclang
# bindings and clang are named by version on bookworm only).
# Packages already installed are skipped, so a second run is fast.
#
#   scripts/deps.sh           install what is missing
#   scripts/deps.sh --list    print the package list (scripts/distro.sh)
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail

codename=${OPY_SUITE:-$(. /etc/os-release 2>/dev/null; echo "${VERSION_CODENAME:-bookworm}")}
case "$codename" in
  bookworm) CLANG=(python3-clang-14 clang-14 libclang-rt-14-dev) ;;
  *)        CLANG=(python3-clang clang libclang-rt-dev) ;;
esac

PACKAGES=(
  cmake gcc make pkg-config python3-dev
  orthanc orthanc-dev orthanc-python
  dcmtk procps
  python3-pydicom python3-pytest python3-pytest-xdist
  "${CLANG[@]}" python3-requests python3-numpy
  python3-pil python3-xlwt python3-xlrd mypy
  wrk nodejs
  debhelper dh-python dpkg-dev build-essential
)

if [ "${1:-}" = --list ]; then
  echo "${PACKAGES[*]}"
  exit 0
fi
# The host also makes the chroots of the test matrix (scripts/distro.sh).
PACKAGES+=(debootstrap)

# pyright, the typing stubs' second checker (tests/kit/test_kit_stubs.py):
# the npm registry's tarball, pinned by version and checksum, unpacked the way
# npm would into $PYRIGHT_DIR; it runs on Debian's nodejs (no npm needed).
PYRIGHT_VERSION=1.1.414
PYRIGHT_SHA512=FPZZb51jepDX4eP7TEYDeNFtmE3WgwkkEcJpvH3/QmUSsj0EAy3LXu+xB4T/FWDejtsXlCfFr/rbWFjwuwuXww==
PYRIGHT_DIR=/opt/opy-pyright
install_pyright() {
  [ -x "$PYRIGHT_DIR/node_modules/.bin/pyright" ] && return 0
  command -v node >/dev/null || return 0
  echo "deps: installing pyright $PYRIGHT_VERSION (npm registry) into $PYRIGHT_DIR"
  local tmp
  tmp=$(mktemp -d)
  if /usr/bin/python3 - "$PYRIGHT_VERSION" "$PYRIGHT_SHA512" "$tmp/pyright.tgz" <<'PY' &&
import base64, hashlib, sys, urllib.request
version, sha512, dest = sys.argv[1:]
url = 'https://registry.npmjs.org/pyright/-/pyright-%s.tgz' % version
data = urllib.request.urlopen(url, timeout=120).read()
if base64.b64encode(hashlib.sha512(data).digest()).decode() != sha512:
    sys.exit('deps: %s: checksum mismatch' % url)
open(dest, 'wb').write(data)
PY
    mkdir -p "$tmp/pyright" && tar -xzf "$tmp/pyright.tgz" --no-same-owner --strip-components=1 -C "$tmp/pyright"; then
    "${SUDO[@]}" mkdir -p "$PYRIGHT_DIR/node_modules/.bin"
    "${SUDO[@]}" rm -rf "$PYRIGHT_DIR/node_modules/pyright"
    "${SUDO[@]}" mv "$tmp/pyright" "$PYRIGHT_DIR/node_modules/pyright"
    "${SUDO[@]}" ln -sfn ../pyright/index.js "$PYRIGHT_DIR/node_modules/.bin/pyright"
  else
    echo "deps: could not install pyright: tests/kit/test_kit_stubs.py will fail" >&2
  fi
  rm -rf "$tmp"
}

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  SUDO=(sudo)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != *'install ok installed'* ]]; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "deps: all ${#PACKAGES[@]} packages already installed"
  install_pyright
  exit 0
fi

echo "deps: installing ${missing[*]}"

export DEBIAN_FRONTEND=noninteractive

# The orthanc package's postinst may try to start its system service. Keep
# services from starting while we install (standard policy-rc.d mechanism),
# but only if no policy is already in place.
POLICY=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"
  created_policy=1
fi
cleanup() {
  if [ "$created_policy" -eq 1 ]; then
    "${SUDO[@]}" rm -f "$POLICY"
  fi
}
trap cleanup EXIT

"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
install_pyright
