#!/usr/bin/env bash
# Whole-process: `tl attest verify` (AK chain + VM id, quote, replay in 4 banks, appraisal) on the golden genuine
# bundle vs the nearest peer toolchain Keylime shells out to: tpm2_checkquote (signature + nonce) then tpm2_eventlog
# (log parse). The peer does less (no certificate chain, no PCR-digest check without -f, no replay/appraisal).
# Usage: bench/scripts/attest-verify-vs-tpm2.sh [RUNS] [extra hyperfine args]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
runs="${1:-20}"; shift || true
golden="$root/tests/TrustedLaunch.Cli.Tests/Attest/Golden"
nonce=7f3a9c1e5b2d4f6081a3c5e7092b4d6f8193a5c7e9fb1d3f5577991133557799
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
python3 - "$golden/evidence-sb.json" "$work" <<'PY'
import json, base64, sys
d = json.load(open(sys.argv[1])); t = d["tpm"]; w = sys.argv[2]
for name, data in (("ak.pub", t["akPublic"]), ("quote.msg", t["quote"]), ("quote.sig", t["signature"]), ("log.bin", d["tcgLog"])):
    open(f"{w}/{name}", "wb").write(base64.b64decode(data))
PY
tl="$root/src/TrustedLaunch.Cli/bin/Release/net10.0/tl.dll"
[ -f "$tl" ] || dotnet build "$root/src/TrustedLaunch.Cli" -c Release --nologo -v q
hyperfine --warmup 3 --runs "$runs" -N "$@" \
  -n "tl attest verify" "dotnet $tl attest verify --evidence $golden/evidence-sb.json --ca $golden/ca --vm-id $(cat "$golden/vm-id.txt") --nonce $nonce" \
  -n "tpm2_checkquote + tpm2_eventlog" "bash -c 'tpm2_checkquote -u $work/ak.pub -m $work/quote.msg -s $work/quote.sig -q $nonce -g sha256 >/dev/null && tpm2_eventlog $work/log.bin >/dev/null'"
