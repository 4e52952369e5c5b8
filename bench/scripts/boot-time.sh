#!/usr/bin/env bash
# Boot time of the same Debian 12 guest image with and without Trusted Launch (Secure Boot + vTPM), side by side.
# "Boot time" = launch to the guest's "TL-GUEST: booted" line, as `tl boot` measures it (verdict elapsed), plus the
# whole `tl boot` process (launch, boot, ACPI power-off, cleanup). Runs alternate so machine load hits both alike.
# Usage: bench/scripts/boot-time.sh [RUNS=5]   (needs the image: ./tl image build debian-12)
set -euo pipefail
runs=${1:-5}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
image=$("$root/tl" image build debian-12 2>/dev/null)   # builds the CLI once if needed
tl() { dotnet "$root/artifacts/tl/tl.dll" "$@"; }      # then time the CLI itself, never a rebuild
cp /usr/share/OVMF/OVMF_VARS_4M.ms.fd "$work/vars.fd"
run() { # $1 = label, rest = extra tl boot options; prints "label verdict_seconds process_seconds"
  local label=$1; shift
  local start end out
  start=$(date +%s.%N)
  out=$(tl boot --image "$image" --vars "$work/vars.fd" --memory 512 --json "$@" 2>/dev/null)
  end=$(date +%s.%N)
  local elapsed; elapsed=$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["outcome"]=="booted", d; h,m,s=d["elapsed"].split(":"); print(float(h)*3600+float(m)*60+float(s))')
  echo "$label $elapsed $(echo "$end - $start" | bc)"
}
for i in $(seq "$runs"); do
  run trusted-launch
  run standard --secure-boot off --vtpm off
done | tee "$work/results.txt"
python3 - "$work/results.txt" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
def med(label, col): return statistics.median(float(r[col]) for r in rows if r[0] == label)
tl_v, st_v = med("trusted-launch", 1), med("standard", 1)
tl_p, st_p = med("trusted-launch", 2), med("standard", 2)
print(f"median boot (launch → booted):  trusted-launch {tl_v:.2f} s, standard {st_v:.2f} s, overhead {100*(tl_v/st_v-1):+.1f}%")
print(f"median whole tl boot process:    trusted-launch {tl_p:.2f} s, standard {st_p:.2f} s, overhead {100*(tl_p/st_p-1):+.1f}%")
PY
