using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.Images;
using TrustedLaunch.Images.Disk;
using TrustedLaunch.SecureBoot;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.Server.ControlPlane;

/// <summary>
/// The upgrade pre-flight's judge: the disk's <c>\EFI\BOOT\BOOTX64.EFI</c> (read as <see cref="BootLayoutProbe"/> reads
/// it) against the db/dbx a VM's Secure Boot template and keys make, by the same code as <c>tl secureboot verify</c>
/// (<see cref="FirmwareImageVerifier"/>).
/// </summary>
public sealed class BootChainVerifier : IBootChainVerifier
{
    // The PK only has to exist for a store to be built; it plays no part in judging a boot loader (db/dbx do), so one
    // throwaway key serves every check (an RSA key generation per request would cost more than the check).
    private static readonly Lazy<byte[]> VerificationPlatformKey = new(() =>
    {
        using var pk = PlatformKeyGenerator.Generate("TrustedLaunch upgrade pre-flight (verification only)");
        return pk.RawData;
    });

    public Task<BootChainVerdict> VerifyAsync(string? diskPath, string secureBootTemplate, SecureBootKeys? keys, CancellationToken cancellationToken) =>
        Task.Run(() => Verify(diskPath, secureBootTemplate, keys), cancellationToken);

    private static BootChainVerdict Verify(string? diskPath, string secureBootTemplate, SecureBootKeys? keys)
    {
        const string binary = BootLayoutProbe.BootLoaderPath;
        ImageSecurityDatabases databases;
        try
        {
            databases = Databases(secureBootTemplate, keys);
        }
        catch (Exception e) when (e is VariableStoreException or FormatException or System.Security.Cryptography.CryptographicException)
        {
            // The host could not enrol these keys either (e.g. an ECC certificate: edk2 takes RSA only).
            return new BootChainVerdict(false, null, $"the VM's Secure Boot keys cannot be enrolled: {e.Message}");
        }

        if (diskPath is null)
            return new BootChainVerdict(null, binary, "the image the OS disk was made from is no longer registered.");
        BootLayoutReport report;
        try
        {
            report = BootLayoutProbe.Probe(diskPath);
        }
        catch (Exception e) when (e is ImageException or IOException)
        {
            return new BootChainVerdict(null, binary, $"the disk cannot be read ({e.Message}).");
        }

        if (report.BootLoader is not byte[] loader)
            return new BootChainVerdict(null, binary, $"{report.BootLoaderProblem ?? report.Detail}.");
        SecureBootVerdict verdict = FirmwareImageVerifier.Verify(loader, databases);
        return new BootChainVerdict(verdict.Allowed, binary, verdict.Message);
    }

    /// <summary>db and dbx as the host will enrol them for the VM (its PK plays no part in judging a boot loader).</summary>
    internal static ImageSecurityDatabases Databases(string secureBootTemplate, SecureBootKeys? keys)
    {
        Guid owner = SecureBootStoreOptions.TrustedLaunchOwner;
        SecureBootTemplate template = SecureBootTemplates.TryParse(secureBootTemplate, out SecureBootTemplate parsed) ? parsed : SecureBootTemplate.Microsoft;
        return ImageSecurityDatabases.FromVariableStore(SecureBootStoreFactory.Create(new SecureBootStoreOptions
        {
            Template = template,
            PlatformKey = VerificationPlatformKey.Value,
            Db = [.. (keys?.Db ?? []).Select(k => SignatureDatabaseEntry.FromCertificate(Convert.FromBase64String(k), owner))],
            Dbx = [.. (keys?.Dbx ?? []).Select(k => k.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase)
                ? SignatureDatabaseEntry.FromHash(k, owner)
                : SignatureDatabaseEntry.FromCertificate(Convert.FromBase64String(k), owner))],
            Owner = owner,
        }));
    }
}
