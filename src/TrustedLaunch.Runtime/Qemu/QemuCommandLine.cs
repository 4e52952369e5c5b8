using System.Globalization;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Runtime.Acceleration;
using TrustedLaunch.Runtime.Firmware;

namespace TrustedLaunch.Runtime.Qemu;

/// <summary>Turns a <see cref="QemuLaunchSpec"/> into the argument list of <c>qemu-system-x86_64</c>.</summary>
public static class QemuCommandLine
{
    /// <summary>The name the guest agent looks for under <c>/dev/virtio-ports/</c>.</summary>
    public const string AgentPortName = "org.trustedlaunch.agent.0";

    public static IReadOnlyList<string> Build(QemuLaunchSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Disks.Count == 0)
            throw new VmRuntimeException(VmRuntimeFailure.BadInput, "A VM needs at least one disk.");
        if (spec.MemoryMiB is < 128 or > 1024 * 1024)
            throw new VmRuntimeException(VmRuntimeFailure.BadInput, $"Memory {spec.MemoryMiB} MiB is out of range (128 MiB to 1 TiB).");
        if (spec.Cpus is < 1 or > 288)
            throw new VmRuntimeException(VmRuntimeFailure.BadInput, $"CPU count {spec.Cpus} is out of range (1 to 288).");
        if (spec.Firmware is not null && spec.VariableStoreCopy is null)
            throw new VmRuntimeException(VmRuntimeFailure.BadInput, "UEFI firmware needs the VM's variable store copy.");

        var args = new List<string>();
        void Add(params string[] values) => args.AddRange(values);

        if (spec.Name is not null)
            Add("-name", $"{Escape(spec.Name)},debug-threads=on");
        if (spec.Uuid is Guid uuid)
            Add("-uuid", uuid.ToString("D"));

        // q35 is the only QEMU machine with SMM emulation OVMF's SMM_REQUIRE build accepts; smm=on puts the variable
        // driver out of the OS's reach, which is what makes Secure Boot variables tamper-proof from the guest.
        bool smm = spec.Firmware?.SecureBoot == true;
        Add("-machine", $"q35,smm={(smm ? "on" : "off")},vmport=off");
        Add("-accel", spec.Accelerator == Accelerator.Kvm ? "kvm" : (spec.Cpus > 1 ? "tcg,thread=multi" : "tcg"));
        // The CPU model (KVM: the host's; TCG: QEMU's default qemu64), with VMX/SVM hidden unless nested virtualization is asked.
        string model = spec.Accelerator == Accelerator.Kvm ? "host" : "qemu64";
        Add("-cpu", spec.NestedVirtualization ? model : $"{model},-vmx,-svm");
        Add("-m", spec.MemoryMiB.ToString(CultureInfo.InvariantCulture));
        Add("-smp", spec.Cpus.ToString(CultureInfo.InvariantCulture));

        if (smm)
        {
            // Only SMM code may write the variable flash (edk2 OvmfPkg/README "SMM support").
            Add("-global", "driver=cfi.pflash01,property=secure,value=on");
        }

        // Without UEFI firmware QEMU boots its default BIOS (SeaBIOS, bios-256k.bin): a Generation 1 VM, MBR boot, no flash.
        if (spec.Firmware is OvmfFirmware firmware)
        {
            Add("-drive", $"if=pflash,format=raw,unit=0,readonly=on,file={Escape(firmware.CodePath)}");
            Add("-drive", $"if=pflash,format=raw,unit=1,file={Escape(spec.VariableStoreCopy!)}");
        }

        for (int i = 0; i < spec.Disks.Count; i++)
        {
            VmDisk disk = spec.Disks[i];
            string format = disk.Format.QemuName();
            string readOnly = disk.ReadOnly ? ",readonly=on" : "";
            Add("-drive", $"if=none,id=disk{i},format={format},cache=writeback,file={Escape(disk.Path)}{readOnly}");
            Add("-device", $"virtio-blk-pci,drive=disk{i}{(i == 0 ? ",bootindex=1" : "")}");
        }

        if (spec.VTpmControlSocket is not null)
        {
            // vtpm.md §2.5: QEMU's emulator backend speaks the swtpm control protocol on this socket and hands the
            // vTPM a socketpair for TPM commands (CMD_SET_DATAFD). CRB is the TPM 2.0-only interface Azure exposes.
            Add("-chardev", $"socket,id=chrtpm,path={Escape(spec.VTpmControlSocket)}");
            Add("-tpmdev", "emulator,id=tpm0,chardev=chrtpm");
            Add("-device", "tpm-crb,tpmdev=tpm0");
        }

        if (spec.AgentSocket is not null)
        {
            Add("-device", "virtio-serial-pci,id=vser0");
            Add("-chardev", $"socket,id=agent0,path={Escape(spec.AgentSocket)},server=on,wait=off");
            Add("-device", $"virtserialport,bus=vser0.0,chardev=agent0,name={AgentPortName}");
        }

        Add("-chardev", $"file,id=console0,path={Escape(spec.ConsoleLog)}");
        Add("-serial", "chardev:console0");
        Add("-qmp", $"unix:{Escape(spec.QmpSocket)},server=on,wait=off");

        if (spec.Nics.Count > 0)
        {
            for (int i = 0; i < spec.Nics.Count; i++)
            {
                Add("-netdev", UserNetdev(spec.Nics[i], $"net{i}"));
                Add("-device", $"virtio-net-pci,netdev=net{i},mac={Mac(spec.Nics[i].MacAddress)},romfile=");
            }
        }
        else if (spec.Network)
        {
            Add("-netdev", "user,id=net0");
            Add("-device", "virtio-net-pci,netdev=net0,romfile=");
        }
        else
        {
            Add("-nic", "none");
        }

        Add("-display", "none");
        Add("-monitor", "none");
        Add("-parallel", "none");
        Add("-nodefaults");
        Add("-vga", "none");
        if (spec.ExitOnReboot)
            Add("-no-reboot");
        if (spec.Trace is QemuTrace trace)
        {
            // The log backend (Debian's build) writes enabled events to -D's file; -msg timestamp=on gives each line its
            // wall-clock time (TID@SECONDS.MICROS:event), which is what makes a trace a timing tool.
            foreach (string pattern in trace.Patterns)
                Add("-trace", $"enable={pattern}");
            Add("-D", trace.File);
            Add("-msg", "timestamp=on");
        }
        return args;
    }

    // slirp: the guest's network and DHCP address when given (gateway .1, DNS .3 of it, as the first addresses a
    // subnet reserves), and one hostfwd per forwarded port. Ports and addresses are checked: they end up in QEMU's options.
    private static string UserNetdev(QemuNic nic, string id)
    {
        var netdev = new System.Text.StringBuilder($"user,id={id}");
        if (nic.Network is not null)
        {
            if (!System.Net.IPNetwork.TryParse(nic.Network, out System.Net.IPNetwork network) || network.BaseAddress.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork
                || network.PrefixLength > 29)
                throw new VmRuntimeException(VmRuntimeFailure.BadInput, $"The NIC network '{nic.Network}' is not an IPv4 network of at least 8 addresses.");
            byte[] gateway = network.BaseAddress.GetAddressBytes(), dns = network.BaseAddress.GetAddressBytes();
            gateway[3] += 1;
            dns[3] += 3;
            netdev.Append(CultureInfo.InvariantCulture, $",net={network},host={new System.Net.IPAddress(gateway)},dns={new System.Net.IPAddress(dns)}");
            if (nic.GuestAddress is not null)
            {
                if (!System.Net.IPAddress.TryParse(nic.GuestAddress, out System.Net.IPAddress? guest) || !network.Contains(guest))
                    throw new VmRuntimeException(VmRuntimeFailure.BadInput, $"The NIC address '{nic.GuestAddress}' is not in {nic.Network}.");
                netdev.Append(CultureInfo.InvariantCulture, $",dhcpstart={guest}");
            }
        }

        foreach (QemuHostForward forward in nic.HostForwards)
            netdev.Append(",hostfwd=").Append(HostForwardRule(forward));
        return netdev.ToString();
    }

    /// <summary>A forward as slirp spells it, <c>tcp:addr:port-:guestport</c> (checked: it ends up in QEMU's options or monitor).</summary>
    internal static string HostForwardRule(QemuHostForward forward)
    {
        if (!System.Net.IPAddress.TryParse(forward.HostAddress, out System.Net.IPAddress? host) || host.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork
            || forward.HostPort is < 1 or > 65535 || forward.GuestPort is < 1 or > 65535)
            throw new VmRuntimeException(VmRuntimeFailure.BadInput, $"The host forward {forward.HostAddress}:{forward.HostPort} -> {forward.GuestPort} is not valid.");
        return string.Create(CultureInfo.InvariantCulture, $"tcp:{host}:{forward.HostPort}-:{forward.GuestPort}");
    }

    // Azure writes MACs as 00-0D-3A-12-34-56; QEMU wants 00:0d:3a:12:34:56.
    private static string Mac(string mac)
    {
        string colons = mac.Replace('-', ':').ToLowerInvariant();
        if (colons.Length != 17 || !System.Text.RegularExpressions.Regex.IsMatch(colons, "^([0-9a-f]{2}:){5}[0-9a-f]{2}$", System.Text.RegularExpressions.RegexOptions.CultureInvariant))
            throw new VmRuntimeException(VmRuntimeFailure.BadInput, $"The MAC address '{mac}' is not valid.");
        return colons;
    }

    // QEMU option values are comma-separated key=value lists; a literal comma is written as two.
    private static string Escape(string value) => value.Replace(",", ",,", StringComparison.Ordinal);
}
