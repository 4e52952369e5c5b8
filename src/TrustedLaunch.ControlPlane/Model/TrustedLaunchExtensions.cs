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
