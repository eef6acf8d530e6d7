# Helpers shared by scripts/distro.sh and scripts/package.sh (sourced, not
# run): mounts into a chroot, recorded so that `cleanup` (to be called from
# the caller's EXIT trap) undoes them in reverse order; running a command in
# the chroot; copying the checkout.  They use the caller's variables ROOT
# (the chroot's folder) and SRC (the checkout).
#
# SPDX-License-Identifier: GPL-3.0-or-later

mounted=()
cleanup() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount -l "${mounted[$i]}" 2>/dev/null || true
  done
  mounted=()
}

mount_into() {   # mount_into SOURCE TARGET [mount options...]
  local src=$1 dst=$2; shift 2
  mkdir -p "$dst"
  if ! mountpoint -q "$dst"; then
    mount "$@" "$src" "$dst"
    mounted+=("$dst")
  fi
}

mount_all() {
  mount_into proc "$ROOT/proc" -t proc
  mount_into /dev "$ROOT/dev" --bind
  mount_into devpts "$ROOT/dev/pts" -t devpts -o newinstance,ptmxmode=0666
  mount_into tmpfs "$ROOT/dev/shm" -t tmpfs
}

in_root() { chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  DEBIAN_FRONTEND=noninteractive CI="${CI:-}" "$@"; }

copy_checkout() {   # copy_checkout DEST: the checkout's tracked and untracked
  # files (not the ignored ones: no build folders) into DEST, made afresh
  local dest=$1
  rm -rf "$dest"
  mkdir -p "$dest"
  (cd "$SRC" && git ls-files -z --cached --others --exclude-standard) |
    (cd "$SRC" && tar --null -T - -cf -) | tar -C "$dest" -xf -
}

trust_host_cas() {   # the certificate authorities added on the host (in
  # /usr/local/share/ca-certificates: a TLS-intercepting proxy's, say) into
  # the chroot's store, so that HTTPS from inside (deps.sh's download of
  # pyright) trusts what the host trusts; the host's list is copied (links
  # followed) and the store remade only when the list changed, and a failed
  # remake leaves no copy behind, so that the next run tries again
  local d=/usr/local/share/ca-certificates
  [ -x "$ROOT/usr/sbin/update-ca-certificates" ] || return 0
  if [ -z "$(ls -A "$d" 2>/dev/null)" ]; then
    [ -n "$(ls -A "$ROOT$d" 2>/dev/null)" ] || return 0    # none here, none there
  elif diff -rq "$d" "$ROOT$d" >/dev/null 2>&1; then
    return 0
  fi
  rm -rf "${ROOT:?}$d" && mkdir -p "$ROOT$d"
  [ -z "$(ls -A "$d" 2>/dev/null)" ] || cp -rL "$d"/. "$ROOT$d"/
  if ! in_root update-ca-certificates --fresh >"$ROOT/tmp/opy-ca.log" 2>&1; then
    echo "chroot-lib: update-ca-certificates failed in $ROOT (HTTPS from inside will not trust the host's CAs):" >&2
    tail -n 5 "$ROOT/tmp/opy-ca.log" >&2
    rm -rf "${ROOT:?}$d"
    return 1
  fi
}
