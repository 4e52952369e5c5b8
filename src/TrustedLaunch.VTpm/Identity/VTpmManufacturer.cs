using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Transport;
using TrustedLaunch.VTpm.Engine;
using TrustedLaunch.VTpm.State;

namespace TrustedLaunch.VTpm.Identity;

/// <summary>What to manufacture.</summary>
public sealed record VTpmManufactureOptions
{
    /// <summary>The VM this vTPM belongs to; goes into every certificate's subject.</summary>
    public required Guid VmId { get; init; }

    /// <summary>Active PCR banks (default SHA-256 + SHA-1); every other implemented bank is deallocated.</summary>
    public IReadOnlyList<TpmAlgId> PcrBanks { get; init; } = VTpmLayout.DefaultBanks;

    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>
/// Creates a brand-new vTPM and gives it a platform-certified identity, in-process (no swtpm_setup): the only
/// code path that lets libtpms manufacture (vtpm.md §8.4). Steps: manufacture → Startup → PCR_Allocate + restart →
/// EK RSA-2048 (L-1) and EK ECC P-256 (L-2) persisted with EK certificates in write-locked platform NV → RSA-2048
/// restricted signing AK at 0x81000003 with its AK certificate at 0x01C101D0 → Shutdown.
/// </summary>
public static class VTpmManufacturer
{
    public static VTpmIdentity Manufacture(VTpmStateStore store, IPlatformCa ca, VTpmManufactureOptions options)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(ca);
        ArgumentNullException.ThrowIfNull(options);
        ValidateBanks(options.PcrBanks);
        using LibTpmsEngine engine = LibTpmsEngine.Manufacture(store);
        engine.Initialize();
        TpmDescription tpm = Describe(engine);
        using var client = new TpmClient(engine, ownsTransport: false);
        client.Startup(TpmSu.Clear);

        // Part 3 §22.5: the allocation takes effect at the next _TPM_Init, i.e. a libtpms restart.
        PcrAllocateResult allocated = client.PcrAllocate(Allocation(options.PcrBanks));
        if (!allocated.Success)
            throw new InvalidOperationException($"TPM2_PCR_Allocate refused the banks {string.Join(',', options.PcrBanks)}.");
        client.Shutdown(TpmSu.Clear);
        engine.Terminate();
        engine.Initialize();
        client.Startup(TpmSu.Clear);

        DateTimeOffset now = options.Time.GetUtcNow().AddMinutes(-5);
        ProvisionKey(client, TpmHandles.Endorsement, EkTemplates.RsaL1, VTpmLayout.EkRsa,
            key => TpmCertificateBuilder.IssueEndorsementKeyCertificate(key, options.VmId, tpm, ca.EndorsementKeyCa, now));
        ProvisionKey(client, TpmHandles.Endorsement, EkTemplates.EccL2, VTpmLayout.EkEcc,
            key => TpmCertificateBuilder.IssueEndorsementKeyCertificate(key, options.VmId, tpm, ca.EndorsementKeyCa, now));
        ProvisionKey(client, TpmHandles.Endorsement, VTpmLayout.AkTemplate, VTpmLayout.Ak,
            key => TpmCertificateBuilder.IssueAttestationKeyCertificate(key, options.VmId, tpm, ca.AttestationKeyCa, now));

        VTpmIdentity identity = VTpmIdentityReader.Read(client, LibTpmsEngine.LibraryVersion);
        client.Shutdown(TpmSu.Clear);
        engine.Terminate();
        return identity;
    }

    private static void ProvisionKey(TpmClient client, uint hierarchy, TpmtPublic template, VTpmKeySlot slot,
        Func<AsymmetricAlgorithm, X509Certificate2> issue)
    {
        CreatePrimaryResult created = client.CreatePrimary(hierarchy, template);
        try
        {
            client.EvictControl(created.Handle, slot.PersistentHandle);
        }
        finally
        {
            client.FlushContext(created.Handle);
        }

        using AsymmetricAlgorithm publicKey = created.Public.Type == TpmAlgId.Rsa ? created.Public.ToRsa() : created.Public.ToECDsa();
        using X509Certificate2 certificate = issue(publicKey);
        byte[] der = certificate.RawData;
        client.NvDefineSpace(new TpmsNvPublic(slot.CertificateIndex, TpmAlgId.Sha256, VTpmLayout.CertificateIndexAttributes, [], (ushort)der.Length),
            authHandle: TpmHandles.Platform);
        client.NvWriteAll(slot.CertificateIndex, der, authHandle: TpmHandles.Platform);
        client.NvWriteLock(slot.CertificateIndex, authHandle: TpmHandles.Platform); // swtpm_setup --lock-nvram
    }

    /// <summary>TPM2_PCR_Allocate's selection: all 24 PCRs in each of <paramref name="banks"/>, none in every other implemented bank.</summary>
    internal static TpmlPcrSelection Allocation(IReadOnlyList<TpmAlgId> banks) => new(VTpmLayout.ImplementedBanks
        .Select(bank => new TpmsPcrSelection(bank, banks.Contains(bank) ? Enumerable.Range(0, 24).ToArray() : []))
        .ToArray());

    internal static void ValidateBanks(IReadOnlyList<TpmAlgId> banks)
    {
        if (banks.Count == 0)
            throw new ArgumentException("At least one PCR bank must be active.", nameof(banks));
        foreach (TpmAlgId bank in banks)
        {
            if (!VTpmLayout.ImplementedBanks.Contains(bank))
                throw new ArgumentException($"PCR bank {bank} is not implemented by libtpms; choose from sha1, sha256, sha384, sha512.", nameof(banks));
        }
    }

    /// <summary>TPMLIB_GetInfo(spec | attributes): manufacturer, model, version, spec family/level/revision.</summary>
    internal static TpmDescription Describe(LibTpmsEngine engine)
    {
        using JsonDocument info = JsonDocument.Parse(engine.GetInfo(1 | 2));
        JsonElement spec = info.RootElement.GetProperty("TPMSpecification");
        JsonElement attributes = info.RootElement.GetProperty("TPMAttributes");
        return new TpmDescription(
            attributes.GetProperty("manufacturer").GetString() ?? "",
            attributes.GetProperty("model").GetString() ?? "",
            attributes.GetProperty("version").GetString() ?? "",
            spec.GetProperty("family").GetString() ?? "2.0",
            spec.GetProperty("level").GetInt32(),
            spec.GetProperty("revision").GetInt32());
    }
}
