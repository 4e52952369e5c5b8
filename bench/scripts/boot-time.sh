#!/usr/bin/env bash
# Boot time of one Debian 12 guest image (without agent) under several Trusted Launch configurations, interleaved so
# machine load hits all alike. "boot" = launch → the guest's "TL-GUEST: booted" line (`tl boot` verdict elapsed);
# "process" = the whole `tl boot` (launch, boot, ACPI power-off, cleanup). Phases come from the verdict's stagesReached
# (when the console first showed OVMF's "BdsDxe: loading Boot…", GRUB, the kernel, init). For tl-vtpm configurations the vTPM's
# data-channel tally (commands, bytes, time executing, state writes) is read from its log. "cpu" = user + system CPU
# seconds of the whole `tl boot` process tree (QEMU's TCG vCPU is nearly all of it): on a shared machine load stretches
# the wall clock, not the emulated work, so compare configurations by cpu when the load is high.
#
# Usage: bench/scripts/boot-time.sh [--runs N] [--extra-runs M] [--qemu-trace DIR] [CONFIG...]
#   --qemu-trace DIR   every boot also logs QEMU's tpm_* trace events to DIR/CONFIG-N.trace (tl boot --qemu-trace);
#                      bench/scripts/tpm-trace.py DIR/*.trace gives the per-command latency QEMU saw
#   CONFIG (default: standard sb tpm-sha256 tpm-sha1-sha256 trusted-launch, plus sb-firmware and swtpm-sha1-sha256 for
#   the first M rounds):
#   Every UEFI boot runs the secure-boot OVMF build with SMM (VirtualMachine.FirmwareForAsync: --secure-boot off boots
#   it from the firmware's key-less template, setup mode, nothing verified), so "off" differs from "on" only in the keys.
#     standard           key-less store (nothing verified), no vTPM                  --secure-boot off --vtpm off
#     sb-firmware        the same as standard, reached as --secure-boot on with a key-less store (a check of that)
#     sb                 Microsoft-keys store (verification), no vTPM
#     tpm-sha256         key-less store, tl-vtpm with only the SHA-256 bank          (measurement, one bank)
#     tpm-sha1-sha256    key-less store, tl-vtpm with SHA-1 + SHA-256 (Azure's banks) (measurement, two banks)
#     swtpm-sha1-sha256  key-less store, swtpm with SHA-1 + SHA-256                  (the same, peer vTPM)
#     trusted-launch     the product path: VMGS (microsoft template) + tl-vtpm (SHA-1 + SHA-256) + Secure Boot
#     vars-swtpm         the earlier TL measurement: Microsoft-keys file store + throw-away swtpm (all four banks)
# Every boot runs under flock /tmp/tl-boot.lock (one boot at a time machine-wide). Needs ./tl (built on first use).
set -euo pipefail
runs=5 extra=3 configs=() trace_dir=""
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --extra-runs) extra=$2; shift 2 ;;
    --qemu-trace) trace_dir=$(realpath "$2"); mkdir -p "$trace_dir"; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) configs+=("$1"); shift ;;
  esac
done
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
TL_JIT=1 "$root/tl" --help >/dev/null              # builds the CLI and tl-vtpm once if needed (not the NativeAOT tl)
dll="$root/artifacts/tl/tl.dll"
tl() { dotnet "$dll" "$@"; }                        # then time the CLI itself, never a rebuild
image=$(tl image build debian-12 --no-agent 2>/dev/null)

# tl-vtpm as `tl boot` starts it, with its log (--log file=RUN/vtpm.log) redirected to where this script reads the tally.
cat > "$work/tl-vtpm-logged" <<EOF
#!/usr/bin/env bash
args=(); for a in "\$@"; do case \$a in file=*/vtpm.log,level=*) a="file=$work/vtpm.log,level=1" ;; esac; args+=("\$a"); done
exec "$root/artifacts/tl/tl-vtpm" "\${args[@]}"
EOF
chmod +x "$work/tl-vtpm-logged"
cp /usr/share/OVMF/OVMF_VARS_4M.ms.fd "$work/ms-vars.fd"
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$work/empty-vars.fd"
tl ca init "$work/pki" >/dev/null
tl vtpm manufacture --state "$work/sha256.tpm" --key-file "$work/tpm.key" --create-key --ca "$work/pki" --banks sha256 >/dev/null
tl vtpm manufacture --state "$work/sha1-sha256.tpm" --key-file "$work/tpm.key" --ca "$work/pki" --banks sha1,sha256 >/dev/null
tl vmgs create --out "$work/vm.vmgs" --template microsoft --ca "$work/pki" --key-file "$work/host.kek" --create-key >/dev/null
swtpm_setup --tpm2 --tpmstate "file://$work/swtpm-sha1-sha256" --pcr-banks sha1,sha256 --overwrite >/dev/null

options() { # $1 = config → the tl boot options
  case $1 in
    standard) echo --vars "$work/ms-vars.fd" --secure-boot off --vtpm off ;;
    sb-firmware) echo --vars "$work/empty-vars.fd" --secure-boot on --vtpm off ;;
    sb) echo --vars "$work/ms-vars.fd" --secure-boot on --vtpm off ;;
    tpm-sha256) echo --vars "$work/ms-vars.fd" --secure-boot off --vtpm-program "$work/tl-vtpm-logged" --vtpm-state "$work/sha256.tpm" --vtpm-key "$work/tpm.key" ;;
    tpm-sha1-sha256) echo --vars "$work/ms-vars.fd" --secure-boot off --vtpm-program "$work/tl-vtpm-logged" --vtpm-state "$work/sha1-sha256.tpm" --vtpm-key "$work/tpm.key" ;;
    swtpm-sha1-sha256) echo --vars "$work/ms-vars.fd" --secure-boot off --vtpm-program swtpm --vtpm-state "$work/swtpm-sha1-sha256" ;;
    trusted-launch) echo --vmgs "$work/vm.vmgs" --kek-file "$work/host.kek" --vtpm-program "$work/tl-vtpm-logged" ;;
    vars-swtpm) echo --vars "$work/ms-vars.fd" --vtpm-program swtpm ;;
    *) echo "unknown config '$1' (see --help)" >&2; exit 2 ;;
  esac
}

run() { # $1 = config, $2 = round; prints "config boot process firmware grub kernel init tpm_commands tpm_in tpm_out tpm_ms state_writes cpu"
  local config=$1 start end out trace=()
  rm -f "$work/vtpm.log"
  [ -n "$trace_dir" ] && trace=(--qemu-trace 'tpm_*' --qemu-trace-file "$trace_dir/$config-$2.trace")
  exec 9>/tmp/tl-boot.lock; flock 9                 # the wait for the machine-wide boot lock is not timed
  start=$(date +%s.%N)
  # shellcheck disable=SC2046 # options are paths without spaces (mktemp)
  out=$(/usr/bin/time -f '%U %S' -o "$work/cpu" dotnet "$dll" boot --image "$image" --memory 512 --json $(options "$config") "${trace[@]}" 2>/dev/null 9>&-)
  end=$(date +%s.%N)
  exec 9>&-
  printf '%s' "$out" | python3 -c '
import json, re, sys
d = json.load(sys.stdin); assert d["outcome"] == "booted", d
def s(t): h, m, x = t.split(":"); return float(h) * 3600 + float(m) * 60 + float(x)
st = {r["stage"]: s(r["elapsed"]) for r in d.get("stagesReached", [])}
tally = ["-"] * 5
try:
    m = re.search(r"data channel: (\d+) commands, (\d+) bytes in, (\d+) bytes out, ([\d.]+) ms executing; (\d+) state writes", open(sys.argv[4]).read())
    tally = list(m.groups()) if m else tally
except FileNotFoundError:
    pass
row = [sys.argv[1], "%.2f" % s(d["elapsed"]), "%.2f" % (float(sys.argv[3]) - float(sys.argv[2]))]
row += ["%.2f" % st[k] if k in st else "-" for k in ("bootOptionStarted", "grub", "kernel", "init")]
u, s_ = open(sys.argv[5]).read().split()[-2:]
print(" ".join(row + tally + ["%.2f" % (float(u) + float(s_))]))
' "$config" "$start" "$end" "$work/vtpm.log" "$work/cpu"
  [ -f "$work/vtpm.log" ] && grep -o 'data channel: .*' "$work/vtpm.log" | tail -1 >> "$work/tallies.txt" || true
}

if [ ${#configs[@]} -eq 0 ]; then main=(standard sb tpm-sha256 tpm-sha1-sha256 trusted-launch); extras=(sb-firmware swtpm-sha1-sha256)
else main=("${configs[@]}"); extras=(); fi
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)  ($(nproc) cores)"
for i in $(seq "$runs"); do
  round=("${main[@]}"); [ "$i" -le "$extra" ] && round+=("${extras[@]}")
  for config in "${round[@]}"; do run "$config" "$i"; done
done | tee "$work/results.txt"
echo "# load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
[ -f "$work/tallies.txt" ] && { echo "# last tl-vtpm tally per boot:"; sed 's/^/#   /' "$work/tallies.txt"; }
python3 - "$work/results.txt" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if not l.startswith("#")]
order = list(dict.fromkeys(r[0] for r in rows))
def col(label, i): return [float(r[i]) for r in rows if r[0] == label and r[i] != "-"]
def med(label, i): v = col(label, i); return statistics.median(v) if v else None
base = med("standard", 1)
cbase = med("standard", 12)
print(f"{'config':18} {'n':>2} {'boot median':>11} {'min–max':>12} {'vs standard':>11} {'process':>8} {'cpu':>7} {'cpu vs std':>10} | {'firmware':>8} {'→GRUB':>6} {'→init':>6} {'→booted':>7} | tpm cmds  in/out bytes  exec ms  writes")
for label in order:
    b, p = col(label, 1), med(label, 2)
    fw, grub, init = med(label, 3), med(label, 4), med(label, 6)
    bm = statistics.median(b)
    over = f"{100 * (bm / base - 1):+.1f}%" if base else "-"
    phases = [fw, grub - fw if grub and fw else None, init - grub if init and grub else None, bm - init if init else None]
    ph = " ".join(f"{x:8.2f}" if j == 0 else f"{x:6.2f}" if j < 3 else f"{x:7.2f}" if x is not None else "      -" for j, x in enumerate(phases)) if None not in phases else "(no stage times)"
    t = [r[7:12] for r in rows if r[0] == label and r[7] != "-"]
    tally = "  ".join(f"{statistics.median(float(x[k]) for x in t):g}" for k in range(5)) if t else "-"
    c = med(label, 12)
    cover = f"{100 * (c / cbase - 1):+.1f}%" if cbase else "-"
    print(f"{label:18} {len(b):>2} {bm:10.2f}s {min(b):5.2f}–{max(b):5.2f}s {over:>11} {p:7.2f}s {c:6.2f}s {cover:>10} | {ph} | {tally}")
PY
