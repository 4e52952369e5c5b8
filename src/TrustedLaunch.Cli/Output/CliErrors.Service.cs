using TrustedLaunch.HostAgent.GuestState;
using TrustedLaunch.HostAgent.Http;
using TrustedLaunch.HostAgent.Lifecycle;
using TrustedLaunch.Server;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Cli;

/// <summary>The JIT host's rows of the failure table (not compiled into the NativeAOT <c>tl</c>).</summary>
internal static partial class CliErrors
{
    private static partial CliFailure? Service(Exception e) => e switch
    {
        // The host agent's call to the control plane got no answer.
        ControlPlaneCallException => new(ExitCode.EnvironmentProblem, e.Message),

        // Lifecycle verbs on a host's VM files (backups, snapshots): a failed check → 1, a running VM → 3, else bad input.
        VmLifecycleException lifecycle => new(lifecycle.Code switch
        {
            VmLifecycleException.IntegrityFailed => ExitCode.VerificationFailed,
            VmLifecycleException.VmRunning => ExitCode.EnvironmentProblem,
            _ => ExitCode.BadInput,
        }, e.Message),

        // Inputs the host agent and the server refused: a guest-state request, a CA folder of trust anchors.
        GuestStateRequestException or TrustAnchorException => new(ExitCode.BadInput, e.Message),

        // The service's database and token key.
        StoreException or TokenKeyException => new(ExitCode.EnvironmentProblem, e.Message),
        _ => null,
    };
}
