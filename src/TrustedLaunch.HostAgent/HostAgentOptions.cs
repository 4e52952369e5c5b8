using TrustedLaunch.Runtime.Acceleration;

namespace TrustedLaunch.HostAgent;

/// <summary>Settings of one host agent (<c>tl host</c>, or the local host of <c>tl server</c>); immutable once it runs.</summary>
public sealed record HostAgentOptions
{
    /// <summary>The control plane (<c>tl server</c>) the agent registers with and polls.</summary>
    public required Uri Server { get; init; }

    /// <summary>The host's name in the control plane (1-63 letters, digits, '-' or '.').</summary>
    public required string HostName { get; init; }

    /// <summary>TL_HOME of this host: VM folders under <c>vms/</c>, the host's key under <c>host/</c>.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>The platform CA folder (<c>tl ca init</c>) whose EK and AK CAs certify the vTPMs this host manufactures.</summary>
    public required string CaDirectory { get; init; }

    /// <summary>How the host authenticates to the control plane (client certificate or bearer secret); null: it does not.</summary>
    public Http.HostCredential? Credential { get; init; }

    /// <summary>vCPUs offered to VMs; null: the machine's.</summary>
    public int? VCpus { get; init; }

    /// <summary>Memory offered to VMs, MiB; null: the machine's.</summary>
    public int? MemoryInMB { get; init; }

    /// <summary>Forces the accelerator; null probes <c>/dev/kvm</c>.</summary>
    public Accelerator? Accelerator { get; init; }

    /// <summary><c>tl-vtpm</c>; null finds it beside tl, on PATH or through <c>TL_VTPM</c>.</summary>
    public string? VTpmProgram { get; init; }

    /// <summary>Where each VM's run folder (sockets, flash copy, process records) is made: short, for Unix socket paths.</summary>
    public string RunRoot { get; init; } = Path.GetTempPath();

    /// <summary>How long a boot may take before the host reports the verdict <c>timeout</c>.</summary>
    public TimeSpan BootTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a guest has to power off on the ACPI button before QEMU is told to quit.</summary>
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the guest agent has to answer a challenge before the attempt is recorded as AgentUnresponsive.</summary>
    public TimeSpan AttestationDeadline { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>How long to wait before calling the control plane again after a failed call.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The long-poll's timeout when the control plane does not say how soon a host must be heard from.</summary>
    public TimeSpan DefaultPollTimeout { get; init; } = TimeSpan.FromSeconds(25);

    /// <summary>How often a running agent checks whether its client certificate is due for renewal.</summary>
    public TimeSpan CertificateRenewalInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>The clock of certificate renewal checks.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The folder VM folders live in.</summary>
    /// <summary>libvirt domains (names) this host attests though libvirt runs them (<c>--libvirt-domain</c>); none by default.</summary>
    public IReadOnlyList<string> LibvirtDomains { get; init; } = [];

    /// <summary>The libvirt connection for <see cref="LibvirtDomains"/> (<c>qemu:///system</c>, or a session's <c>qemu:///session</c>).</summary>
    public string LibvirtUri { get; init; } = "qemu:///system";

    /// <summary>The resource group (and subscription; null: the default one) their VM resources go in.</summary>
    public string? LibvirtResourceGroup { get; init; }

    public string? LibvirtSubscription { get; init; }

    /// <summary>The virsh the agent runs (a wrapper can set the session's environment).</summary>
    public string VirshProgram { get; init; } = "virsh";

    public string VmsDirectory => Path.Combine(DataDirectory, "vms");

    /// <summary>Where a deleted VM's OS disk and VMGS go when its deleteOption is Detach.</summary>
    public string DetachedDirectory => Path.Combine(DataDirectory, "detached");

    /// <summary>The snapshots kept on this host (<c>TL_HOME/snapshots/&lt;id&gt;</c>: disk, VMGS, manifest).</summary>
    public string SnapshotsDirectory => Path.Combine(DataDirectory, "snapshots");

    /// <summary>The host's own folder (its key-encryption key), apart from every VM folder.</summary>
    public string HostDirectory => Path.Combine(DataDirectory, "host");
}
