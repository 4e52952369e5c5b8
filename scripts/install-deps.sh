#!/usr/bin/env bash
# Installs the OS packages TrustedLaunch and its tests use, only those missing (apt; sudo when not root).
# Usage: scripts/install-deps.sh [extra-package ...]
set -euo pipefail

packages=(
  qemu-system-x86 qemu-utils ovmf          # the VM runtime and the Secure Boot firmware
  swtpm swtpm-tools libtpms0 tpm2-tools    # libtpms is our vTPM engine; swtpm and tpm2-tools are peers/oracles
  sbsigntool openssl xxd                   # Authenticode oracle (sbverify/sbsign), PKI oracle
  hyperfine                                # benchmarks: whole-process side-by-side runs against peer tools
  strace                                   # NativeTlTests: which files `tl attest verify` opens (no system trust store)
  mtools cpio fdisk                        # guest image: ESP via mtools; cpio and sfdisk are its test oracles
  efitools                                 # sign-efi-sig-list/cert-to-efi-sig-list: independent EFI_VARIABLE_AUTHENTICATION_2 peer
  clang llvm                               # NativeAOT publish of tl-guest-agent (clang links it, llvm-objcopy strips it)
  postgresql                               # the store tests and bench/fleet-sim run a throw-away cluster (initdb + postgres)
  chromium                                 # the portal's browser tests (Playwright drives Debian's chromium; its own download is unavailable)
  pngquant                                 # scripts/portal-screenshots.sh: the docs' screenshots, quantized to stay small
  systemd adduser                          # packaging tests: systemd-analyze verify of the units, the package's account
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients  # interop: a session libvirtd boots the image with tl-vtpm as its swtpm
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: apt-get not found; install these packages by hand: ${missing[*]}" >&2
  exit 3
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 3; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}" >&2
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
