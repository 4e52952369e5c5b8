#!/usr/bin/env bash
# Fetches Debian 12's signed boot chain (shim, MokManager/fallback, grub, the signed kernel) with apt's own
# tools and unpacks each package into its own cache folder; prints the cache folder.
#   ${TL_CACHE:-$HOME/.cache/trustedlaunch}/debian/<package>/   (dpkg-deb -x of the .deb)
#   ${TL_CACHE:-$HOME/.cache/trustedlaunch}/debian/debs/        (the downloaded .deb files)
# Idempotent: a package already unpacked (marker file .unpacked-<version>) is not downloaded again, so a
# second run costs only the apt-cache version look-ups. No root needed (apt-get download, dpkg-deb -x).
# The versions are the ones the corpus captures were recorded with (tests/corpus/README.md) unless
# apt no longer offers them; then apt's candidate is used and a note goes to stderr.
# Usage: scripts/fetch-debian-boot-chain.sh [--print-paths]
#   --print-paths   also print KEY=PATH lines for shim, mm, fb, grub, vmlinuz and the modules folder
set -euo pipefail

cache=${TL_CACHE:-$HOME/.cache/trustedlaunch}/debian
mkdir -p "$cache/debs"

# package=preferred-version (the corpus boot chain)
pinned=(
  "shim-signed=1.51~1+deb12u1+16.1-2~deb12u1"
  "shim-helpers-amd64-signed=1+16.1+2~deb12u1"
  "grub-efi-amd64-signed=1+2.06+13+deb12u2"
  "linux-image-6.1.0-56-amd64=6.1.192-2"
)

for command in apt-cache apt-get dpkg-deb; do
  command -v "$command" >/dev/null 2>&1 || { echo "fetch-debian-boot-chain: $command not found (Debian host needed)" >&2; exit 3; }
done

for entry in "${pinned[@]}"; do
  package=${entry%%=*}
  version=${entry#*=}
  if [ -n "$version" ] && [ -e "$cache/$package/.unpacked-$version" ]; then
    continue
  fi
  available=$(apt-cache madison "$package" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}')
  if [ -z "$available" ]; then
    echo "fetch-debian-boot-chain: apt knows no package $package; run apt-get update (Debian 12 main + security)" >&2
    exit 3
  fi
  if [ -z "$version" ] || ! grep -qxF "$version" <<<"$available"; then
    [ -n "$version" ] && echo "fetch-debian-boot-chain: $package $version is gone from apt; using the candidate" >&2
    version=$(head -n1 <<<"$available")
  fi
  if [ -e "$cache/$package/.unpacked-$version" ]; then
    continue
  fi
  deb=$(ls "$cache/debs/${package}_"*.deb 2>/dev/null | grep -F "_${version//:/%3a}_" | head -n1 || true)
  if [ -z "$deb" ]; then
    (cd "$cache/debs" && apt-get download -q "$package=$version" >&2)
    deb=$(ls "$cache/debs/${package}_"*.deb | grep -F "_${version//:/%3a}_" | head -n1)
  fi
  rm -rf "$cache/$package.tmp"
  dpkg-deb -x "$deb" "$cache/$package.tmp"
  rm -rf "$cache/$package"
  mv "$cache/$package.tmp" "$cache/$package"
  touch "$cache/$package/.unpacked-$version"
done

echo "$cache"
if [ "${1:-}" = "--print-paths" ]; then
  kernel=$(ls "$cache"/linux-image-6.1.0-56-amd64/boot/vmlinuz-* | head -n1)
  echo "shim=$cache/shim-signed/usr/lib/shim/shimx64.efi.signed"
  echo "mm=$cache/shim-helpers-amd64-signed/usr/lib/shim/mmx64.efi.signed"
  echo "fb=$cache/shim-helpers-amd64-signed/usr/lib/shim/fbx64.efi.signed"
  echo "grub=$cache/grub-efi-amd64-signed/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed"
  echo "vmlinuz=$kernel"
  echo "modules=$(ls -d "$cache"/linux-image-6.1.0-56-amd64/lib/modules/* | head -n1)"
fi
