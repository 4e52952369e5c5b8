#!/usr/bin/env bash
# The control plane's overhead on a VM's start: a Trusted Launch VM created through the ARM API (tl server with its local
# host) against `tl boot --vmgs` of the same image, alternating so machine load hits both alike.
#   api    PUT …/virtualMachines/{vm} → the create operation Succeeded (the host reported Running once the console showed
#          "TL-GUEST: booted") → the first attestation result stored (host: challenge → guest agent → evidence → verifier).
#          The host's own log gives the VM folder's creation (overlay + VMGS with a freshly manufactured vTPM) and the
#          verdict's elapsed time (QEMU start → booted).
#   boot   `tl boot --vmgs` of the same image and a VMGS made the same way: launch → booted (the verdict's elapsed).
# Overhead of the control plane = api create→running − the host's verdict elapsed (registration of the operation, the
# long-poll wake-up, the VM folder, the vTPM, QEMU's start, the report and the operation's completion).
# Usage: bench/scripts/create-to-attested.sh [RUNS=3] [TL_DLL]   (TL_DLL: a tl.dll with tl-vtpm beside it; default ./tl's build)
set -euo pipefail
runs=${1:-3}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work=$(mktemp -d)
if [ -n "${2:-}" ]; then dll=$2; else "$root/tl" --help >/dev/null; dll="$root/artifacts/tl/tl.dll"; fi
tl() { dotnet "$dll" "$@"; }
image=$(tl image build debian-12 2>/dev/null)           # with the guest agent; cached in TL_HOME/images
home="$work/home"; mkdir -p "$home"; ln -s "$(dirname "$image")" "$home/images"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
dotnet "$dll" server --data "$home" --listen "$url" >"$work/server.log" 2>&1 & server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"; }  # VMs are deleted in the loop
trap cleanup EXIT
until curl -sf "$url/healthz" >/dev/null; do sleep 0.2; done
tl group create -n bench --server "$url" >/dev/null
tl ca init "$work/pki" >/dev/null
for i in $(seq "$runs"); do
  python3 - "$url" "api-$i" <<'PY'
import json, sys, time, urllib.request
url, name = sys.argv[1], sys.argv[2]
def call(method, path, body=None):
    req = urllib.request.Request(url + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return r.status, dict(r.headers), (json.loads(r.read() or b"null"))
sub = call("GET", "/subscriptions?api-version=2022-12-01")[2]["value"][0]["subscriptionId"]
vm = f"/subscriptions/{sub}/resourceGroups/bench/providers/Microsoft.Compute/virtualMachines/{name}"
body = {"location": "local", "properties": {"hardwareProfile": {"vmSize": "Standard_B1s"},
        "storageProfile": {"imageReference": {"publisher": "Debian", "offer": "debian-12", "sku": "12-gen2", "version": "latest"},
                           "osDisk": {"createOption": "FromImage", "deleteOption": "Delete"}},
        "securityProfile": {"securityType": "TrustedLaunch", "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}}}}
t0 = time.monotonic()
_, headers, created = call("PUT", vm + "?api-version=2024-07-01", body)
op, vmid = headers["Azure-AsyncOperation"], created["properties"]["vmId"]
while True:
    with urllib.request.urlopen(op) as r:
        status = json.loads(r.read())["status"]
    if status != "InProgress": break
    time.sleep(0.02)
assert status == "Succeeded", status
t_running = time.monotonic() - t0
while True:
    try:
        with urllib.request.urlopen(f"{url}/v1/vms/{vmid}/attestations/latest") as r:
            verdict = json.loads(r.read())["verdict"]; break
    except urllib.error.HTTPError:
        time.sleep(0.02)
t_attested = time.monotonic() - t0
print(f"api {name} {vmid} {t_running:.2f} {t_attested:.2f} {verdict}", flush=True)
s, headers, _ = call("DELETE", vm + "?api-version=2024-07-01")
while True:
    with urllib.request.urlopen(headers["Azure-AsyncOperation"]) as r:
        if json.loads(r.read())["status"] != "InProgress": break
    time.sleep(0.1)
PY
  rm -f "$work/vm.vmgs" "$work/host.kek" "$work/disk.qcow2"
  tl vmgs create --out "$work/vm.vmgs" --template microsoft --ca "$work/pki" --key-file "$work/host.kek" --create-key >/dev/null
  qemu-img create -q -f qcow2 -b "$image" -F raw "$work/disk.qcow2"
  tl boot --image "$work/disk.qcow2" --vmgs "$work/vm.vmgs" --kek-file "$work/host.kek" --memory 1024 --json 2>/dev/null \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["outcome"]=="booted", d; h,m,s=d["elapsed"].split(":"); print("boot", float(h)*3600+float(m)*60+float(s))'
done | tee "$work/results.txt"
python3 - "$work/results.txt" "$work/server.log" <<'PY'
import re, statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
log = open(sys.argv[2]).read()
api = [r for r in rows if r[0] == "api"]
folder = {m[0]: int(m[1]) for m in re.findall(r"VM ([0-9a-f-]{36}): created its folder .* in (\d+) ms", log)}
verdict = {}
for vmid, seconds in re.findall(r"VM ([0-9a-f-]{36}): boot verdict booted after ([0-9.]+) s", log):
    verdict.setdefault(vmid, float(seconds))
med = statistics.median
running = med(float(r[3]) for r in api); attested = med(float(r[4]) for r in api)
host_boot = med(verdict[r[2]] for r in api); host_folder = med(folder[r[2]] for r in api) / 1000
boot = med(float(r[1]) for r in rows if r[0] == "boot")
print(f"api: create → running {running:.2f} s, → first attestation {attested:.2f} s (all {', '.join(r[5] for r in api)})")
print(f"host: VM folder (overlay + VMGS + vTPM) {host_folder:.2f} s, QEMU start → booted {host_boot:.2f} s")
print(f"tl boot --vmgs: launch → booted {boot:.2f} s")
print(f"control-plane overhead (create → running − host's QEMU start → booted): {running - host_boot:.2f} s; "
      f"attestation after running: {attested - running:.2f} s")
PY
