#!/usr/bin/env bash
# Whole-process, side by side: `tl tpm checkquote` vs `tpm2_checkquote` on the same real quote (GCE vTPM,
# go-tpm-tools-gce-cos-85-nonce9009, sha256 bank, 24 PCRs), with hyperfine. Run from the repository root.
# Usage: bench/scripts/tpm-checkquote-vs-tpm2.sh [hyperfine options]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
corpus="${TL_CORPUS:-$root/tests/corpus}/public/go-tpm-tools-gce-cos-85-nonce9009"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
command -v hyperfine >/dev/null || { echo "hyperfine missing: scripts/install-deps.sh hyperfine" >&2; exit 3; }

# The NativeAOT tl as ./tl builds it (artifacts/tl; TL_SKIP_BUILD=1 measures the existing one).
tl="$root/artifacts/tl/tl"
[ -n "${TL_SKIP_BUILD:-}" ] || "$root/tl" --version >/dev/null || exit 3

# ak.pub in the corpus is a bare TPMT_PUBLIC; tpm2_checkquote wants a TPM2B_PUBLIC.
python3 - "$corpus" "$work" <<'PY'
import struct, sys
src, out = sys.argv[1], sys.argv[2]
ak = open(f"{src}/ak.pub", "rb").read()
open(f"{out}/ak.pub", "wb").write(struct.pack(">H", len(ak)) + ak)
vals = [l.split() for l in open(f"{src}/pcrs.txt") if l.startswith("sha256 ")]
vals = sorted(((int(i), bytes.fromhex(h)) for _, i, h in vals))
sel = struct.pack("<I", 1) + struct.pack("<HB4sx", 0x000B, 3, bytes([0xFF, 0xFF, 0xFF, 0])) + bytes(8 * 15)
lists = [vals[i:i + 8] for i in range(0, len(vals), 8)]
body = struct.pack("<I", len(lists))
for l in lists:
    body += struct.pack("<I", len(l)) + b"".join(struct.pack("<H", len(v)) + v.ljust(64, b"\0") for _, v in l) + bytes(66 * (8 - len(l)))
open(f"{out}/q.pcrs", "wb").write(sel + body)
PY
cp "$corpus/quote_sha256.bin" "$work/q.msg"; cp "$corpus/quote_sha256.sig" "$work/q.sig"
args="-u $work/ak.pub -m $work/q.msg -s $work/q.sig -f $work/q.pcrs -g sha256 -q 9009"
"$tl" tpm checkquote $args >/dev/null && tpm2_checkquote $args >/dev/null
hyperfine --warmup 3 --min-runs 30 -N "$@" \
  --command-name "tl tpm checkquote" "$tl tpm checkquote $args" \
  --command-name "tpm2_checkquote" "tpm2_checkquote $args"
