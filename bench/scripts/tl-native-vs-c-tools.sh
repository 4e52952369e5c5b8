#!/usr/bin/env bash
# Whole process, side by side, without hyperfine: the NativeAOT `tl` (and the JIT `dotnet tl.dll` for reference) vs
# the C tools on the same inputs: eventlog replay (and its --json) vs tpm2_eventlog, tpm checkquote vs tpm2_checkquote, secureboot
# verify vs sbverify, attest verify vs tpm2_checkquote + tpm2_eventlog. Each command runs RUNS times after one warm-up;
# prints the median wall time and the median user+system CPU of the process (getrusage of the child). Run from the
# repository root; builds through ./tl (artifacts/tl; TL_DIR=DIR measures DIR/tl and DIR/tl.dll without building).
# Usage: bench/scripts/tl-native-vs-c-tools.sh [RUNS=21]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
runs="${1:-21}"
dir="${TL_DIR:-$root/artifacts/tl}"
[ -n "${TL_DIR:-}" ] || "$root/tl" --version >/dev/null   # builds tl.dll, tl-server and the native tl when the sources changed
tl="$dir/tl"; jit="dotnet $dir/tl.dll"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT

log="$root/tests/corpus/qemu/ovmf4m-ms-sb-crb/binary_bios_measurements"
quote="$root/tests/corpus/public/go-tpm-tools-gce-cos-85-nonce9009"
golden="$root/tests/TrustedLaunch.Cli.Tests/Attest/Golden"
nonce=7f3a9c1e5b2d4f6081a3c5e7092b4d6f8193a5c7e9fb1d3f5577991133557799
cache="$("$root/scripts/fetch-debian-boot-chain.sh")"
kernel=$(ls "$cache"/linux-image-6.1.0-56-amd64/boot/vmlinuz-* | head -n1)
store=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
"$tl" uefi vars show "$store" --export-certs "$work/certs" >/dev/null
openssl x509 -inform DER -in "$work/certs/db-1.der" -out "$work/db.pem"
# tpm2_checkquote wants TPM2B_PUBLIC and a TPML_PCR_SELECTION + TPML_DIGEST file (as tpm-checkquote-vs-tpm2.sh).
python3 - "$quote" "$golden/evidence-sb.json" "$work" <<'PY'
import base64, json, struct, sys
src, evidence, out = sys.argv[1], sys.argv[2], sys.argv[3]
ak = open(f"{src}/ak.pub", "rb").read()
open(f"{out}/ak.pub", "wb").write(struct.pack(">H", len(ak)) + ak)
vals = sorted((int(i), bytes.fromhex(h)) for b, i, h in (l.split() for l in open(f"{src}/pcrs.txt") if l.startswith("sha256 ")))
sel = struct.pack("<I", 1) + struct.pack("<HB4sx", 0x000B, 3, bytes([0xFF, 0xFF, 0xFF, 0])) + bytes(8 * 15)
lists = [vals[i:i + 8] for i in range(0, len(vals), 8)]
body = struct.pack("<I", len(lists))
for l in lists:
    body += struct.pack("<I", len(l)) + b"".join(struct.pack("<H", len(v)) + v.ljust(64, b"\0") for _, v in l) + bytes(66 * (8 - len(l)))
open(f"{out}/q.pcrs", "wb").write(sel + body)
d = json.load(open(evidence)); t = d["tpm"]
for name, data in (("gak.pub", t["akPublic"]), ("gquote.msg", t["quote"]), ("gquote.sig", t["signature"]), ("glog.bin", d["tcgLog"])):
    open(f"{out}/{name}", "wb").write(base64.b64decode(data))
PY
cq="-u $work/ak.pub -m $quote/quote_sha256.bin -s $quote/quote_sha256.sig -f $work/q.pcrs -g sha256 -q 9009"
verify="attest verify --evidence $golden/evidence-sb.json --ca $golden/ca --vm-id $(cat "$golden/vm-id.txt") --nonce $nonce"

measure() { # NAME COMMAND… : median wall ms and median CPU ms of RUNS runs (exit codes ignored: some verdicts are refusals)
  python3 - "$runs" "$@" <<'PY'
import resource, statistics, subprocess, sys, time
runs, name, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3]
walls, cpus = [], []
for i in range(runs + 1):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if i:  # the first run warms the page cache
        walls.append(wall * 1000)
        cpus.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
print(f"{name:<44} wall {statistics.median(walls):7.1f} ms   cpu {statistics.median(cpus):7.1f} ms")
PY
}

measure "tl eventlog replay (native)" "$tl eventlog replay $log"
measure "tl eventlog replay (JIT)" "$jit eventlog replay $log"
measure "tpm2_eventlog" "tpm2_eventlog $log"
measure "tl eventlog replay --json (native)" "$tl eventlog replay $log --json"
measure "tl eventlog replay --json (JIT)" "$jit eventlog replay $log --json"
measure "tl tpm checkquote (native)" "$tl tpm checkquote $cq"
measure "tl tpm checkquote (JIT)" "$jit tpm checkquote $cq"
measure "tpm2_checkquote" "tpm2_checkquote $cq"
measure "tl secureboot verify (native)" "$tl secureboot verify $kernel --vars $store"
measure "tl secureboot verify (JIT)" "$jit secureboot verify $kernel --vars $store"
measure "sbverify --cert db" "sbverify --cert $work/db.pem $kernel"
measure "tl attest verify (native)" "$tl $verify"
measure "tl attest verify (JIT)" "$jit $verify"
measure "tpm2_checkquote + tpm2_eventlog" "tpm2_checkquote -u $work/gak.pub -m $work/gquote.msg -s $work/gquote.sig -q $nonce -g sha256 >/dev/null && tpm2_eventlog $work/glog.bin >/dev/null"
ls -lL "$tl" | awk '{printf "size of the native tl: %.1f MB\n", $5/1048576}'
