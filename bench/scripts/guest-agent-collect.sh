#!/usr/bin/env bash
# Measures tl-guest-agent's evidence collection as a whole process: binary size, peak RSS and wall time of
# `tl-guest-agent --collect` (start, TPM2_Quote over PCRs 0-9,14 in every bank swtpm allocates — all four by default —, AK cert, files, JSON) against a
# swtpm whose AK (0x81000003) and AK certificate NV index (0x01C101D0) are provisioned with tpm2-tools.
# Usage: bench/scripts/guest-agent-collect.sh PATH/TO/tl-guest-agent [runs]
set -euo pipefail
agent=${1:?usage: $0 tl-guest-agent [runs]}; runs=${2:-5}
work=$(mktemp -d /tmp/tl-agent-bench-XXXX); trap 'kill $swtpm_pid 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/state"
swtpm socket --tpm2 --tpmstate dir="$work/state" --server type=unixio,path="$work/tpm.sock" \
  --ctrl type=unixio,path="$work/tpm.sock.ctrl" --flags not-need-init,startup-clear 2>/dev/null & swtpm_pid=$!
for _ in $(seq 50); do [ -S "$work/tpm.sock" ] && break; sleep 0.1; done
export TPM2TOOLS_TCTI="swtpm:path=$work/tpm.sock"
tpm2_createek -c "$work/ek.ctx" -G rsa -u "$work/ek.pub" >/dev/null
tpm2_flushcontext -t  # swtpm has no resource manager: free transient slots between tools
tpm2_createak -C "$work/ek.ctx" -c "$work/ak.ctx" -G rsa -g sha256 -s rsassa -u "$work/ak.pub" >/dev/null
tpm2_flushcontext -t; tpm2_flushcontext -s
tpm2_evictcontrol -C o -c "$work/ak.ctx" 0x81000003 >/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/k.pem" -subj /CN=bench -days 1 -outform DER -out "$work/cert.der" 2>/dev/null
tpm2_nvdefine 0x01C101D0 -C o -s "$(stat -c %s "$work/cert.der")" -a "ownerread|ownerwrite|authread|authwrite" >/dev/null
tpm2_nvwrite 0x01C101D0 -C o -i "$work/cert.der"
echo "size: $(stat -c %s "$agent") bytes"
for i in $(seq "$runs"); do
  /usr/bin/time -f "run $i: peak RSS %M KiB, wall %e s" "$agent" --tpm "swtpm:path=$work/tpm.sock" --kmsg none \
    --collect 00112233445566778899aabbccddeeff > "$work/evidence.json"
done
echo "evidence: $(stat -c %s "$work/evidence.json") bytes of JSON"
