#!/usr/bin/env bash
# Whole-process, side by side: `tl secureboot verify` (db/dbx from the Microsoft-key store of Debian's ovmf package)
# vs `sbverify --cert <db cert>` on Debian's signed kernel (8 MB), with hyperfine. Run from the repository root.
# Usage: bench/scripts/secureboot-verify-vs-sbverify.sh [hyperfine options]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
command -v hyperfine >/dev/null || { echo "hyperfine missing: scripts/install-deps.sh hyperfine" >&2; exit 3; }
command -v sbverify >/dev/null || { echo "sbverify missing: scripts/install-deps.sh" >&2; exit 3; }

# The NativeAOT tl as ./tl builds it (artifacts/tl; TL_SKIP_BUILD=1 measures the existing one).
tl="$root/artifacts/tl/tl"
[ -n "${TL_SKIP_BUILD:-}" ] || "$root/tl" --version >/dev/null || exit 3

cache="$("$root/scripts/fetch-debian-boot-chain.sh")"
kernel=$(ls "$cache"/linux-image-6.1.0-56-amd64/boot/vmlinuz-* | head -n1)
store=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
"$tl" uefi vars show "$store" --export-certs "$work/certs" >/dev/null
openssl x509 -inform DER -in "$work/certs/db-1.der" -out "$work/db.pem"

# Both refuse the kernel (Debian's CA is not in db); both must hash the whole image and check the signature to say so.
hyperfine --warmup 2 -N -i "$@" \
  -n "tl secureboot verify" "$tl secureboot verify $kernel --vars $store" \
  -n "sbverify --cert db" "sbverify --cert $work/db.pem $kernel"
