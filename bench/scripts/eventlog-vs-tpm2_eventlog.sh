#!/usr/bin/env bash
# Whole-process comparison: `tl eventlog replay` vs tpm2-tools' `tpm2_eventlog` on the same corpus logs.
# Usage: bench/scripts/eventlog-vs-tpm2_eventlog.sh [RUNS]   (default 20 runs per tool and log; prints medians in ms)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
corpus="${TL_CORPUS:-$root/tests/corpus}"
runs="${1:-20}"
dotnet build "$root/src/TrustedLaunch.Cli" -c Release --nologo -v q -clp:ErrorsOnly >/dev/null
tl=(dotnet "$root/src/TrustedLaunch.Cli/bin/Release/net10.0/tl.dll" eventlog replay)
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
time_ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
for log in qemu/ovmf4m-ms-sb-crb public/go-tpm-tools-gdc-host public/keylime-binary_bios_measurements; do
  f="$corpus/$log/binary_bios_measurements"
  a=$(for _ in $(seq "$runs"); do time_ms "${tl[@]}" "$f"; done | median)
  b=$(for _ in $(seq "$runs"); do time_ms tpm2_eventlog "$f"; done | median)
  printf '%-45s tl eventlog replay %6s ms   tpm2_eventlog %6s ms\n' "$log" "$a" "$b"
done
