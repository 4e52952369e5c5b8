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
