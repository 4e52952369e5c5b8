namespace TrustedLaunch.ControlPlane.Model;

/// <summary>
/// <c>properties.trustedLaunchExtensions</c>: the one object that carries this platform's VM settings Azure's schema has
/// no field for. It sits inside <c>properties</c> because ARM passes <c>properties</c> to the resource provider
/// untouched (a template resource with an unknown top-level member fails ARM's template validation), and its name
/// cannot collide with a present or future Azure member. It never changes the meaning of an Azure field: with it left
/// out, a request means what it means to Azure. Answers always carry it with every default spelt out.
/// </summary>
public sealed record TrustedLaunchExtensions
{
    /// <summary>
    /// <c>microsoft</c> (default: Microsoft's 2011 and 2023 KEKs and UEFI/Windows CAs in KEK/db, as Azure),
    /// <c>microsoft-2023</c> (only the 2023 CAs), <c>microsoft-2011</c> (only the 2011 CAs) or <c>custom</c> (only
    /// <see cref="SecureBootKeys"/>).
    /// </summary>
    public string? SecureBootTemplate { get; init; }

    /// <summary>Keys enrolled in the VM's UEFI variable store at creation: all of them with <c>custom</c>, beyond the template's with the Microsoft ones.</summary>
    public SecureBootKeys? SecureBootKeys { get; init; }

    /// <summary>Seconds between attestations of a running VM with a vTPM (default 60; 10..86400).</summary>
    public int? AttestationIntervalSeconds { get; init; }

    /// <summary>The stored reference policy (<c>tl server policy add</c>) the VM's boots must meet; absent: the built-in minimum.</summary>
    public string? ReferencePolicy { get; init; }

    /// <summary>Expose VMX/SVM to the guest (nested virtualization); default false, refused with Trusted Launch.</summary>
    public bool? NestedVirtualizationEnabled { get; init; }

    /// <summary>
    /// Read-only: the VM is not run by this platform but by another manager on one of its hosts (a libvirt domain that
    /// <c>tl host --libvirt-domain</c> registered and attests). Power operations and changes are refused; attestation works as for any VM.
    /// </summary>
    public ExternallyManagedVm? ExternallyManaged { get; init; }
}

/// <summary><c>trustedLaunchExtensions.externallyManaged</c>: who runs the VM and how its host finds it.</summary>
public sealed record ExternallyManagedVm
{
    /// <summary><c>libvirt</c>.</summary>
    public required string Manager { get; init; }

    /// <summary>The host whose agent attests it (the libvirt daemon it asked is on that machine).</summary>
    public required string HostName { get; init; }

    /// <summary>The libvirt domain's name and UUID (the UUID is the VM's <c>vmId</c>, and the subject of its vTPM's certificates).</summary>
    public required string DomainName { get; init; }

    public required string DomainUuid { get; init; }

    /// <summary>The libvirt connection URI the host agent uses (<c>qemu:///system</c>, <c>qemu:///session</c>).</summary>
    public string? ConnectionUri { get; init; }

    /// <summary>The virtio-serial channel's socket on the host (the domain's <c>&lt;channel type='unix'&gt;</c> with target <c>org.trustedlaunch.agent.0</c>).</summary>
    public string? AgentSocket { get; init; }
}

/// <summary>
/// Secure Boot keys, each a base64 DER X.509 certificate; a <see cref="Dbx"/> entry may instead be
/// <c>sha256:&lt;64 hex digits&gt;</c> (a revoked image digest).
/// </summary>
public sealed record SecureBootKeys
{
    /// <summary>The PK certificate; absent: the platform generates one per VM.</summary>
    public string? PlatformKey { get; init; }

    public IReadOnlyList<string>? Kek { get; init; }

    public IReadOnlyList<string>? Db { get; init; }

    public IReadOnlyList<string>? Dbx { get; init; }
}
