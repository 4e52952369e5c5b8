using TrustedLaunch.Uefi.Format.VariableStore;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.HostAgent.GuestState;

/// <summary>What goes into a new VM's guest state (VMGS): the Secure Boot keys of its UEFI store, a vTPM or not, its id.</summary>
public sealed record GuestStateRequest
{
    public required Guid VmId { get; init; }

    /// <summary>One of <see cref="SecureBootTemplates.Names"/>: empty is Secure Boot off (no keys).</summary>
    public required SecureBootTemplate Template { get; init; }

    /// <summary>The PK certificate (DER); null generates a per-VM PK whose private key is discarded.</summary>
    public ReadOnlyMemory<byte>? PlatformKey { get; init; }

    /// <summary>KEK entries beyond the template's (custom: all of KEK).</summary>
    public IReadOnlyList<SignatureDatabaseEntry> Kek { get; init; } = [];

    /// <summary>db entries beyond the template's (custom: all of db).</summary>
    public IReadOnlyList<SignatureDatabaseEntry> Db { get; init; } = [];

    public IReadOnlyList<SignatureDatabaseEntry> Dbx { get; init; } = [];

    public NvFlashLayout Layout { get; init; } = NvFlashLayout.Ovmf4M;

    /// <summary>Manufacture a vTPM certified by the platform CA (Trusted Launch); false leaves the VMGS without one (a Standard VM).</summary>
    public bool WithVTpm { get; init; } = true;

    /// <summary>The template's name as recorded in the identity entry.</summary>
    public string TemplateName => SecureBootTemplates.NameOf(Template);
}
