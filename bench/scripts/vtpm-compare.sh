#!/usr/bin/env bash
# Side-by-side whole-process comparison of tl-vtpm (NativeAOT) and swtpm 0.7.1: start-to-ready time (process
# start until the data socket accepts and answers TPM2_GetRandom) and resident memory (VmRSS) after 2,000
# PCR_Extend, same raw client (python3) for both. Prints medians over RUNS (default 15) runs.
# Usage: bench/scripts/vtpm-compare.sh            (publishes tl-vtpm NativeAOT to /tmp/tl-vtpm-aot if missing)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
aot=${TL_VTPM_AOT:-/tmp/tl-vtpm-aot/tl-vtpm}
runs=${RUNS:-15}
if [ ! -x "$aot" ]; then
  flock /tmp/tl-build.lock dotnet publish "$root/src/TrustedLaunch.VTpm.Host" -c Release -r linux-x64 --nologo -v q -clp:ErrorsOnly -o "$(dirname "$aot")" >&2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$root/tl" ca init "$work/pki" >/dev/null
"$root/tl" vtpm manufacture --state "$work/vtpm.state" --key-file "$work/vtpm.key" --create-key --ca "$work/pki" --vm-id 5f0b1a2c-3d4e-4f50-8a6b-7c8d9e0f1a2b >/dev/null
mkdir -p "$work/swtpm"
python3 - "$aot" "$work" "$runs" <<'PY'
import os, socket, statistics, subprocess, sys, time
aot, work, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
extend = bytes.fromhex("8002" "00000041" "00000182" "00000010" "00000009" "400000090000000000" "00000001" "000b") + bytes(32)
getrandom = bytes.fromhex("8001" "0000000c" "0000017b" "0008")
def cmd(s, c):
    s.sendall(c); h = b""
    while len(h) < 10: h += s.recv(10 - len(h))
    n = int.from_bytes(h[2:6], "big"); body = b""
    while len(body) < n - 10: body += s.recv(n - 10 - len(body))
    return h + body
def run(argv, sock):
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            s = socket.socket(socket.AF_UNIX); s.connect(sock); break
        except OSError:
            s.close(); time.sleep(0.0005)
    r = cmd(s, getrandom); ready = (time.perf_counter() - t0) * 1000
    assert r[6:10] == b"\0\0\0\0", r.hex()
    rss0 = rss(p.pid)
    for _ in range(2000): cmd(s, extend)
    rss1 = rss(p.pid)
    s.close(); p.kill(); p.wait()
    for f in (sock, sock + ".ctrl"):
        try: os.unlink(f)
        except FileNotFoundError: pass
    return ready, rss0, rss1
def rss(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"): return int(line.split()[1]) / 1024
flags = ["--flags", "not-need-init,startup-clear"]
def chan(sock): return ["--server", f"type=unixio,path={sock}", "--ctrl", f"type=unixio,path={sock}.ctrl"]
tl = [aot, "socket", "--tpm2", "--state", f"{work}/vtpm.state", "--key-file", f"{work}/vtpm.key"] + chan(f"{work}/tl.sock") + flags
sw = ["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={work}/swtpm"] + chan(f"{work}/sw.sock") + flags
run(sw, f"{work}/sw.sock")  # first swtpm start manufactures its TPM; not counted
res = {"tl-vtpm": [], "swtpm": []}
for i in range(runs):
    res["tl-vtpm"].append(run(tl, f"{work}/tl.sock"))
    res["swtpm"].append(run(sw, f"{work}/sw.sock"))
print(f"{'server':8}  {'start-to-ready ms (median)':>27}  {'RSS MiB ready':>13}  {'RSS MiB after 2000 extends':>26}")
for k, v in res.items():
    print(f"{k:8}  {statistics.median(x[0] for x in v):27.1f}  {statistics.median(x[1] for x in v):13.1f}  {statistics.median(x[2] for x in v):26.1f}")
PY
