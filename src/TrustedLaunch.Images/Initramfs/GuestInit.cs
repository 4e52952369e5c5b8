namespace TrustedLaunch.Images.Initramfs;

/// <summary>
/// The guest's /init (busybox sh) and its helpers. It reports what the kernel sees as <c>TL-GUEST: key=value</c>
/// lines and finally <c>TL-GUEST: booted</c>, which the runtime's console parser turns into the boot verdict
/// (docs/images.md lists every line). It stays up for the guest agent and powers off on the ACPI power button.
/// </summary>
internal static class GuestInit
{
    public const string AgentPath = "/usr/bin/tl-guest-agent";

    public const string Script = """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        export PATH=/bin:/usr/bin
        mount -t proc proc /proc
        mount -t sysfs sys /sys
        mount -t devtmpfs dev /dev
        mount -t securityfs securityfs /sys/kernel/security
        mkdir -p /dev/pts /run /tmp /var/log
        say() { echo "TL-GUEST: $1"; }
        say "kernel=$(uname -r)"
        # The kernel's own statement (arch/x86/kernel/setup.c via efi_get_secureboot), not a guess from efivars.
        if dmesg | grep -q "secureboot: Secure boot enabled"; then say "secure-boot=enabled"
        elif dmesg | grep -q "secureboot: Secure boot disabled"; then say "secure-boot=disabled"
        else say "secure-boot=unknown"; fi
        lockdown=$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/security/lockdown 2>/dev/null)
        say "lockdown=${lockdown:-unknown}"
        if [ -e /sys/class/tpm/tpm0 ]; then
          say "tpm=$(cat /sys/class/tpm/tpm0/tpm_version_major 2>/dev/null || echo 1).0"
          [ -e /sys/kernel/security/tpm0/binary_bios_measurements ] && say "event-log=present" || say "event-log=absent"
        else
          say "tpm=none"
        fi
        # Signed Debian modules: the virtio-serial port for the agent, and the ACPI power button.
        for m in $(cat /lib/modules/load-order); do insmod /lib/modules/$m.ko 2>/dev/null || say "module-failed=$m"; done
        # The NICs (virtio-net): link up, one DHCP lease (QEMU's user-mode network hands out the NIC's private IP), then the
        # MAC and IPv4 address as the guest sees them. -q: no renewing daemon (the slirp lease outlives a test guest).
        ip link set lo up
        for n in /sys/class/net/*; do
          ifc=${n##*/}; [ "$ifc" = lo ] && continue
          ip link set "$ifc" up
          udhcpc -i "$ifc" -n -q -t 5 -T 1 -s /etc/udhcpc.script >/dev/null 2>&1
          ip4=$(ip -4 -o addr show dev "$ifc" | sed -n 's/.* inet \([0-9.]*\)\/.*/\1/p' | head -n 1)
          say "nic=$(cat $n/address) ${ip4:-none}"
        done
        # The deliberately unsigned module: refused under Secure Boot (lockdown), loaded with a taint otherwise.
        out=$(insmod /lib/modules/unsigned/ttyprintk.ko 2>&1); rc=$?
        if [ $rc -eq 0 ]; then say "module-unsigned=loaded ttyprintk tainted=$(cat /proc/sys/kernel/tainted)"
        else say "module-unsigned=rejected ttyprintk rc=$rc ${out##*: }"; fi
        # No udev here: make /dev/virtio-ports/NAME links as udev's 60-virtio rules would.
        i=0; while [ $i -lt 30 ]; do
          for p in /sys/class/virtio-ports/vport*; do
            [ -s "$p/name" ] || continue
            mkdir -p /dev/virtio-ports; ln -sf ../${p##*/} /dev/virtio-ports/$(cat $p/name)
          done
          [ -e /dev/virtio-ports/org.trustedlaunch.agent.0 ] && break
          i=$((i+1)); sleep 0.1
        done
        if [ -e /dev/virtio-ports/org.trustedlaunch.agent.0 ]; then say "agent-port=/dev/virtio-ports/org.trustedlaunch.agent.0"
        else say "agent-port=missing"; fi
        acpid -c /etc/acpi -l /var/log/acpid.log
        # The attestation agent, restarted if it ever exits (it does not on bad input; this covers a crash or OOM kill).
        if [ -x /usr/bin/tl-guest-agent ]; then
          ( while true; do /usr/bin/tl-guest-agent </dev/null >/dev/console 2>&1; echo "tl-init: tl-guest-agent exited ($?), restarting" >/dev/console; sleep 2; done ) &
          say "agent=started pid $!"
        else say "agent=absent"; fi
        # For replay checks without the agent: the VM id QEMU was given, the PCRs as the guest kernel reads them, then the
        # firmware event log (gzip, base64, between markers). Nothing extends PCRs 0-9 after the firmware hands over.
        say "product-uuid=$(cat /sys/class/dmi/id/product_uuid 2>/dev/null)"
        if [ -e /sys/class/tpm/tpm0/pcr-sha256 ]; then
          for n in 0 1 2 3 4 5 6 7 8 9; do say "pcr-sha256-$n=$(cat /sys/class/tpm/tpm0/pcr-sha256/$n)"; done
        fi
        if [ -r /sys/kernel/security/tpm0/binary_bios_measurements ]; then
          dmesg -n 1 # no kernel messages inside the block
          # gzip first: every console byte is an emulated UART write, and the log compresses about 4:1.
          say "event-log-gzip-base64-begin"; gzip -c /sys/kernel/security/tpm0/binary_bios_measurements | base64; say "event-log-gzip-base64-end"
        fi
        say "booted"
        while true; do sleep 3600; done
        """;

    /// <summary>busybox udhcpc's hook (it configures nothing itself): the leased address and the default route.</summary>
    public const string DhcpScript = """
        #!/bin/sh
        case "$1" in
          deconfig) ip -4 addr flush dev "$interface" ;;
          bound|renew)
            ip -4 addr flush dev "$interface"
            ip addr add "$ip/${mask:-24}" dev "$interface"
            [ -n "$router" ] && ip route add default via "${router%% *}" dev "$interface"
            ;;
        esac
        exit 0
        """;

    /// <summary>busybox acpid runs <c>/etc/acpi/PWRF/00000080</c> for the power button (EV_KEY KEY_POWER).</summary>
    public const string PowerButton = """
        #!/bin/sh
        echo "TL-GUEST: power-button" > /dev/console
        sync
        poweroff -f
        """;

    public const string OsRelease = """
        PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
        NAME="Debian GNU/Linux"
        VERSION_ID="12"
        VERSION="12 (bookworm)"
        VERSION_CODENAME=bookworm
        ID=debian
        VARIANT="TrustedLaunch test guest (busybox initramfs)"
        VARIANT_ID=trustedlaunch
        """;
}
