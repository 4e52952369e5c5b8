#!/usr/bin/env bash
# Boot time of one Debian 12 guest three ways, alternating so machine load hits all alike:
#   vmgs-tl-vtpm   Trusted Launch from a VMGS (tl vmgs create --template microsoft): tl-vtpm on the VMGS vtpm entry,
#                  UEFI store out of and back into the VMGS (the product path, `tl boot --vmgs`)
#   vars-swtpm     Trusted Launch from a plain variable-store file with a throw-away swtpm (bench/scripts/boot-time.sh)
#   standard       --secure-boot off --vtpm off
# "boot" = launch → the guest's "TL-GUEST: booted" line (verdict elapsed); "process" = the whole `tl boot`.
# Usage: bench/scripts/boot-time-vmgs.sh [RUNS=5] [TL_DLL]  (TL_DLL: a tl.dll with tl-vtpm beside it; default ./tl's build)
set -euo pipefail
runs=${1:-5}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
if [ -n "${2:-}" ]; then dll=$2; else "$root/tl" --help >/dev/null; dll="$root/artifacts/tl/tl.dll"; fi
tl() { dotnet "$dll" "$@"; }
image=$(tl image build debian-12 --no-agent 2>/dev/null)
tl ca init "$work/pki" >/dev/null
tl vmgs create --out "$work/vm.vmgs" --template microsoft --ca "$work/pki" --key-file "$work/host.kek" --create-key >/dev/null
cp /usr/share/OVMF/OVMF_VARS_4M.ms.fd "$work/vars.fd"
run() { # $1 = label, rest = tl boot options; prints "label boot_seconds process_seconds"
  local label=$1; shift
  local start end out
  start=$(date +%s.%N)
  out=$(tl boot --image "$image" --memory 512 --json "$@" 2>/dev/null)
  end=$(date +%s.%N)
  local elapsed; elapsed=$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["outcome"]=="booted", d; h,m,s=d["elapsed"].split(":"); print(float(h)*3600+float(m)*60+float(s))')
  echo "$label $elapsed $(echo "$end - $start" | bc)"
}
for i in $(seq "$runs"); do
  run vmgs-tl-vtpm --vmgs "$work/vm.vmgs" --kek-file "$work/host.kek"
  run vars-swtpm --vars "$work/vars.fd" --vtpm-program swtpm
  run standard --vars "$work/vars.fd" --secure-boot off --vtpm off
done | tee "$work/results.txt"
python3 - "$work/results.txt" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
def med(label, col): return statistics.median(float(r[col]) for r in rows if r[0] == label)
st_b, st_p = med("standard", 1), med("standard", 2)
for label in ("vmgs-tl-vtpm", "vars-swtpm", "standard"):
    b, p = med(label, 1), med(label, 2)
    print(f"{label:13} median boot {b:6.2f} s ({100*(b/st_b-1):+5.1f}%), whole process {p:6.2f} s ({100*(p/st_p-1):+5.1f}%)")
PY
