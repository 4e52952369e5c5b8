#!/usr/bin/env bash
# Boots the Debian guest image under Debian's real libvirt with TrustedLaunch's vTPM as its swtpm and its firmware
# descriptor, then checks what the issue asks: the guest's event log replays to its PCRs (tl attest verify: AK chain,
# quote, replay, appraisal) and the EK certificates chain to the platform CA. docs/interop.md §3.
# A session libvirtd runs as an unprivileged user (nobody) with its XDG folders in a temp folder: no system daemon,
# no host setup. The boot holds /tmp/tl-boot.lock. In the same boot, `tl host --libvirt-domain` attests the running domain
# for a `tl server` (docs/interop.md §5): the control plane shows it as a VM resource marked externally managed, its
# attestation passes, and a power operation on it is refused. Prints "PROOF OK" and exits 0 when every check passed.
# Usage: scripts/libvirt-interop-proof.sh TL TL_VTPM IMAGE.raw [WORK_DIR]
set -euo pipefail
tl=$(readlink -f "$1"); tl_vtpm=$(readlink -f "$2"); image=$(readlink -f "$3")
work=${4:-$(mktemp -d /tmp/tl-libvirt-proof.XXXXXX)}
mkdir -p "$work"; chmod 755 "$work"
runas=(setpriv --reuid=65534 --regid=65534 --clear-groups)
xdg=(XDG_RUNTIME_DIR="$work/xdg/run" XDG_CONFIG_HOME="$work/xdg/config" XDG_CACHE_HOME="$work/xdg/cache" XDG_DATA_HOME="$work/xdg/data" HOME="$work/home")
mkdir -p "$work"/xdg/{run,config,cache,data} "$work/home"; chmod 700 "$work/xdg/run"
virsh() { "${runas[@]}" env "${xdg[@]}" virsh -c qemu:///session "$@"; }

"$tl" ca init "$work/pki" >/dev/null
"$tl" uefi vars create --template microsoft --out "$work/vars-microsoft.fd" >/dev/null
"$tl" interop install-swtpm-shims --dir "$work/shims" --ca "$work/pki" --tl-vtpm "$tl_vtpm"
"$tl" interop firmware-descriptors --vars-template "$work/vars-microsoft.fd" --install "$work/xdg/config/qemu/firmware"
cp --sparse=always "$image" "$work/debian.raw"
cat > "$work/domain.xml" <<XML
<domain type='qemu'>
  <name>tl-interop-proof</name>
  <memory unit='MiB'>1024</memory>
  <vcpu>1</vcpu>
  <os firmware='efi'>
    <type arch='x86_64' machine='q35'>hvm</type>
    <firmware><feature enabled='yes' name='secure-boot'/><feature enabled='yes' name='enrolled-keys'/></firmware>
  </os>
  <features><acpi/><smm state='on'/></features>
  <on_reboot>destroy</on_reboot>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$work/debian.raw'/><target dev='vda' bus='virtio'/></disk>
    <serial type='file'><source path='$work/console.log'/><target port='0'/></serial>
    <channel type='unix'><source mode='bind' path='$work/agent.sock'/><target type='virtio' name='org.trustedlaunch.agent.0'/></channel>
    <tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>
  </devices>
</domain>
XML
chown -R 65534:65534 "$work"

"${runas[@]}" env "${xdg[@]}" PATH="$work/shims:$PATH" libvirtd >"$work/libvirtd.log" 2>&1 &
libvirtd_pid=$!
host_pid=; server_pid=
cleanup() {
  [ -n "$host_pid" ] && kill "$host_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  virsh destroy tl-interop-proof >/dev/null 2>&1 || true; kill "$libvirtd_pid" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 50); do [ -S "$work/xdg/run/libvirt/libvirt-sock" ] && break; sleep 0.2; done
virsh define "$work/domain.xml" >/dev/null

exec 9>/tmp/tl-boot.lock
flock 9
start=$(date +%s.%N)
virsh start tl-interop-proof
# The agent's first console line says it runs (on a loaded 2-core host under TCG that can take minutes).
for _ in $(seq 1200); do grep -q "^tl-guest-agent" "$work/console.log" 2>/dev/null && break; sleep 0.5; done
booted=$(date +%s.%N)
grep -q "^tl-guest-agent" "$work/console.log" || { echo "the guest agent did not start; console:"; tail -c 2000 "$work/console.log"; exit 1; }
echo "booted in $(echo "$booted - $start" | bc) s (TCG, libvirt start to guest agent)"
virsh dumpxml tl-interop-proof | grep -E "<loader|<nvram"
uuid=$(virsh domuuid tl-interop-proof | head -1)
"$tl" interop collect-evidence --agent-socket "$work/agent.sock" --out "$work/evidence.json" --timeout 300 | tee "$work/collect.txt"
nonce=$(sed -n 's/.*nonce \([0-9a-f]*\).*/\1/p' "$work/collect.txt")

# tl host attests the libvirt-managed domain by name, for a tl server trusting the same platform CA. Its virsh must reach
# the session daemon: a wrapper first on its PATH runs the real one as that daemon's user, with its XDG folders.
mkdir -p "$work/virsh-bin"
printf '#!/bin/sh\nexec %s env %s /usr/bin/virsh "$@"\n' "${runas[*]}" "${xdg[*]}" > "$work/virsh-bin/virsh"
chmod 755 "$work/virsh-bin/virsh"
port=$((20000 + RANDOM % 20000)); url="http://127.0.0.1:$port"
"$tl" server --data "$work/server" --listen "$url" --ca "$work/pki" --no-local-host >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do "$tl" group list --server "$url" >/dev/null 2>&1 && break; sleep 0.3; done
"$tl" group create -n libvirt-rg -l westus --tags trustedLaunch.registeringHosts=libvirt-host --server "$url" >/dev/null
PATH="$work/virsh-bin:$PATH" "$tl" host --server "$url" --name libvirt-host --data "$work/host" --ca "$work/pki" \
  --libvirt-domain tl-interop-proof --libvirt-uri qemu:///session --libvirt-resource-group libvirt-rg >"$work/host.log" 2>&1 &
host_pid=$!
verdict=
for _ in $(seq 300); do
  verdict=$(python3 -c 'import json,sys,urllib.request
try: print(json.load(urllib.request.urlopen(sys.argv[1]))["verdict"])
except Exception: pass' "$url/v1/vms/$uuid/attestations/latest")
  [ -n "$verdict" ] && break; sleep 1
done
[ "$verdict" = pass ] || { echo "tl host did not attest the domain (latest verdict: '${verdict:-none}'); host log:"; tail -n 30 "$work/host.log"; exit 1; }
"$tl" vm show -g libvirt-rg -n tl-interop-proof --server "$url" -o json > "$work/vm.json"
python3 - "$work/vm.json" "$uuid" <<'PY'
import json, sys
vm = json.load(open(sys.argv[1]))
managed = vm["properties"]["trustedLaunchExtensions"]["externallyManaged"]
assert vm["properties"]["vmId"] == sys.argv[2] and managed["manager"] == "libvirt" and managed["domainName"] == "tl-interop-proof", vm
print(f"tl host attested libvirt domain tl-interop-proof: VM resource {vm['id']}, externallyManaged by {managed['manager']} on {managed['hostName']}")
PY
echo "latest attestation of $uuid through tl host: $verdict"
if "$tl" vm stop -g libvirt-rg -n tl-interop-proof --server "$url" > "$work/stop.txt" 2>&1; then echo "tl vm stop of a libvirt-managed VM was not refused"; exit 1; fi
grep -o "managed by libvirt on host libvirt-host" "$work/stop.txt" | head -1
# An attestation on request: the API raises the domain's attestation generation, which wakes tl host's long poll, and the host
# attests at once. --timeout 50 is below the 60 s interval that just restarted: a result in time came from the request.
"$tl" vm attest -g libvirt-rg -n tl-interop-proof --server "$url" --timeout 50 -o json > "$work/attest.json" \
  || { echo "tl vm attest of the libvirt domain did not pass:"; cat "$work/attest.json"; tail -n 30 "$work/host.log"; exit 1; }
python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); print("tl vm attest on libvirt domain tl-interop-proof: " + a["verdict"])' "$work/attest.json"
kill "$host_pid" "$server_pid"; wait "$host_pid" "$server_pid" 2>/dev/null || true; host_pid=; server_pid=

virsh destroy tl-interop-proof >/dev/null
flock -u 9

"$tl" attest verify --evidence "$work/evidence.json" --ca "$work/pki" --vm-id "$uuid" --nonce "$nonce"
state=$(ls -d "$work"/xdg/config/libvirt/qemu/swtpm/*/tpm2)
ls -l "$state"
"$tl" vtpm show --state "$state/tl-vtpm.state" --key-file "$state/tl-vtpm.key" --json > "$work/identity.json"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
for key in json.load(open(f"{work}/identity.json"))["keys"]:
    open(f"{work}/{key['role']}.pem", "w").write(key["certificatePem"])
PY
openssl verify -CAfile "$work/pki/root-ca.crt" -untrusted "$work/pki/vtpm-ek-ca.crt" "$work/ek-rsa2048.pem" "$work/ek-eccp256.pem"
openssl x509 -in "$work/ek-rsa2048.pem" -noout -subject | grep -qi "$uuid"
echo "EK certificate subject names the domain UUID $uuid"
echo "PROOF OK"
