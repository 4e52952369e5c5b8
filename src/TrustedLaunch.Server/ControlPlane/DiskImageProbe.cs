using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.Images;
using TrustedLaunch.Images.Disk;
using TrustedLaunch.SecureBoot;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.Server.ControlPlane;

/// <summary>
/// The image catalog's probe: the disk's boot layout (<see cref="BootLayoutProbe"/>: MBR/BIOS is V1, GPT + ESP is
/// V2), and for V2 the firmware's decision on <c>\EFI\BOOT\BOOTX64.EFI</c> with the Microsoft template's db/dbx, as
/// <c>tl secureboot verify</c> makes it (<see cref="FirmwareImageVerifier"/>).
/// </summary>
public sealed class DiskImageProbe : IDiskImageProbe
{
    // The Microsoft template's db and dbx. The PK only has to exist for the template to be built; it plays no part
    // in judging a boot loader (db/dbx do), so a throwaway one serves.
    private static readonly Lazy<ImageSecurityDatabases> MicrosoftDatabases = new(() =>
    {
        using var pk = PlatformKeyGenerator.Generate("TrustedLaunch image catalog (verification only)");
        return ImageSecurityDatabases.FromVariableStore(SecureBootStoreFactory.Create(new SecureBootStoreOptions
        {
            Template = SecureBootTemplate.Microsoft,
            PlatformKey = pk.RawData,
        }));
    });

    public Task<ImageProbeResult> ProbeAsync(string path, CancellationToken cancellationToken) =>
        Task.Run(() => Probe(path), cancellationToken);

    /// <summary>Judges a boot loader with the Microsoft keys.</summary>
    public static SecureBootFinding Judge(byte[] bootLoader)
    {
        SecureBootVerdict verdict = FirmwareImageVerifier.Verify(bootLoader, MicrosoftDatabases.Value);
        return new SecureBootFinding(verdict.Allowed,
            $"{BootLayoutProbe.BootLoaderPath} is {(verdict.Allowed ? "allowed" : "denied")} with the Microsoft keys: {verdict.Message}");
    }

    private static ImageProbeResult Probe(string path)
    {
        BootLayoutReport report;
        try
        {
            report = BootLayoutProbe.Probe(path);
        }
        catch (ImageException e)
        {
            throw new ImageProbeException(e.Message, e);
        }
        catch (IOException e)
        {
            throw new ImageProbeException($"The disk image cannot be read: {e.Message}", e);
        }

        if (report.Layout == DiskBootLayout.Bios)
            return new ImageProbeResult(HyperVGeneration.V1, new SecureBootFinding(null, $"{report.Detail} No UEFI boot loader to judge."));
        SecureBootFinding finding = report.BootLoader is byte[] loader
            ? Judge(loader)
            : new SecureBootFinding(null, $"Not judged: {report.BootLoaderProblem}.");
        return new ImageProbeResult(HyperVGeneration.V2, finding);
    }
}
