using System.CommandLine;

namespace TrustedLaunch.Cli.Commands;

/// <summary>
/// Every top-level verb of <c>tl</c>, in the order <c>tl --help</c> lists them; each area builds its own subtree in its
/// own folder. Tool verbs are built by both binaries: the JIT host (<c>tl.dll</c>, apphost <c>tl-server</c>) and the
/// NativeAOT <c>tl</c> (src/TrustedLaunch.Cli.Native compiles these sources without the service folders). Service
/// verbs (<see cref="ServiceVerb"/>) need ASP.NET Core or the JIT: only the JIT host builds them, and the native
/// <c>tl</c> execs <c>tl-server</c> with the same argv for them (docs/architecture.md, "One tl, two binaries").
/// </summary>
internal static partial class CommandCatalog
{
    public static IEnumerable<Command> All() =>
    [
        EventLog.EventLogCommands.Create(),
        Tpm.TpmCommands.Create(),
        Uefi.UefiCommands.Create(),
        SecureBoot.SecureBootCommands.Create(),
        Module.ModuleCommands.Create(),
        Ca.CaCommands.Create(),
        Vtpm.VtpmCommands.Create(),
        .. Service(ServiceVerb.Vmgs),
        .. Service(ServiceVerb.Backup),
        .. Service(ServiceVerb.Image),
        .. Service(ServiceVerb.Boot),
        .. Service(ServiceVerb.Server),
        .. Service(ServiceVerb.Host),
        Group.GroupCommands.Create(),
        Vm.VmCommands.Create(),
        Snapshot.SnapshotCommands.Create(),
        Disk.DiskCommands.Create(),
        Vmss.VmssCommands.Create(),
        Deployment.DeploymentCommands.Create(),
        Security.SecurityCommands.Create(),
        Attest.AttestCommands.Create(),
        .. Service(ServiceVerb.Quickstart),
        .. Service(ServiceVerb.Interop),
    ];

    /// <summary>The verb's command in the JIT host; none in the NativeAOT <c>tl</c>, which forwards the verb.</summary>
    private static partial IEnumerable<Command> Service(ServiceVerb verb);
}

/// <summary>The verbs only the JIT host (<c>tl-server</c>) runs: the services themselves and what is not yet NativeAOT-clean.</summary>
internal enum ServiceVerb
{
    Vmgs,
    Backup,
    Image,
    Boot,
    Server,
    Host,
    Quickstart,
    Interop,
}

/// <summary>
/// The service verbs' names and one-line descriptions, which both binaries know: the JIT host's commands carry them,
/// and the NativeAOT <c>tl</c> lists them in its own <c>tl --help</c> (the same bytes) without building their trees.
/// </summary>
internal static class ServiceVerbs
{
    /// <summary>The verb as typed.</summary>
    public static string Name(ServiceVerb verb) => verb switch
    {
        ServiceVerb.Vmgs => "vmgs",
        ServiceVerb.Backup => "backup",
        ServiceVerb.Image => "image",
        ServiceVerb.Boot => "boot",
        ServiceVerb.Server => "server",
        ServiceVerb.Host => "host",
        ServiceVerb.Quickstart => "quickstart",
        ServiceVerb.Interop => "interop",
        _ => throw new ArgumentOutOfRangeException(nameof(verb), verb, "not a service verb"),
    };

    /// <summary>Whether <paramref name="word"/> is a service verb's name, exactly as the parser matches it.</summary>
    public static bool IsName(string word) => Enum.GetValues<ServiceVerb>().Any(verb => Name(verb) == word);

    /// <summary>The verb's line in <c>tl --help</c>.</summary>
    public static string Description(ServiceVerb verb) => verb switch
    {
        ServiceVerb.Vmgs =>
            "VM guest state files (UEFI variables + vTPM state + identity, AES-256-GCM per entry).",
        ServiceVerb.Backup =>
            "Backups of a VM's OS disk and VMGS as one encrypted archive (the host's files; the VM stopped or deallocated).",
        ServiceVerb.Image =>
            "Build and inspect guest disk images.",
        ServiceVerb.Boot =>
            "Boot one VM in the foreground and report the boot verdict (exit 0 booted, 1 refused/failed/timeout, 2 bad input, 3 environment).",
        ServiceVerb.Server =>
            "Run the attestation service and the ARM control plane, with a local host that runs the VMs, until Ctrl-C or SIGTERM (the VMs keep running). " +
            "Exit 0 stopped cleanly, 2 bad option, 3 cannot start (port in use, database unusable).",
        ServiceVerb.Host =>
            "Run the host agent: register with the control plane, run the VMs placed on this host (they outlive the agent and are adopted again), " +
            "attest them continuously, report. Exit 0 stopped (Ctrl-C/SIGTERM), 2 bad option, 3 environment (CA, host key, tools).",
        ServiceVerb.Quickstart =>
            "Install missing packages, build the Debian guest, start tl server with its local host in the background, create a Trusted Launch VM through the API, " +
            "wait until it runs and its first attestation passed, report. The service keeps running (--stop ends it). " +
            "Exit 0 running and attested, 1 the VM failed to run or to attest, 2 bad input, 3 environment.",
        ServiceVerb.Interop =>
            "Use TrustedLaunch's vTPM and firmware from libvirt (and the stacks on it): swtpm shims, QEMU firmware descriptors.",
        _ => throw new ArgumentOutOfRangeException(nameof(verb), verb, "not a service verb"),
    };
}
