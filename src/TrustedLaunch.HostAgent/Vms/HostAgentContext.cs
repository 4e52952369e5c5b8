using Microsoft.Extensions.Logging;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.HostAgent.Http;
using TrustedLaunch.VTpm.Identity;

namespace TrustedLaunch.HostAgent.Vms;

/// <summary>What every VM supervisor of a host shares: the settings, the control plane, the host's key and CA, the report queue.</summary>
internal sealed record HostAgentContext(
    HostAgentOptions Options,
    ControlPlaneClient Client,
    ILogger Logger,
    string HostKeyPath,
    Func<IPlatformCa> PlatformCa,
    Action<VmReport> Report);
