using System.Security.Cryptography;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Images.Disk;

namespace TrustedLaunch.Images;

/// <summary>
/// A file on the ESP, with the Secure Boot verdict for EFI binaries when a verifier is available, and per signature
/// which db CA admits it (empty when not verified or unsigned).
/// </summary>
public sealed record EspFile(string Path, long Size, string Sha256, bool IsEfiBinary, string? Verdict, string? Reason)
{
    public IReadOnlyList<BootFileSignature> Signatures { get; init; } = [];
}

/// <summary>
/// One signature of an EFI binary: its signer, what the firmware made of it, and the subject of the db certificate that
/// admits it on its own (null: none does). A dual-signed shim has one per CA generation.
/// </summary>
public sealed record BootFileSignature(int Index, string? Signer, string Outcome, string? AdmittedBy);

/// <summary>The verifier's decision on one EFI binary: "allowed"/"denied", the reason, and each signature.</summary>
public sealed record BootFileVerdict(string Verdict, string Reason, IReadOnlyList<BootFileSignature> Signatures);

/// <summary>What <c>tl image inspect</c> reports.</summary>
public sealed record ImageInspection(string Disk, string Format, Guid DiskId, IReadOnlyList<GptPartition> Partitions, IReadOnlyList<EspFile> EspFiles);

/// <summary>Predicts the Secure Boot decision for one EFI binary against a variable store (the Secure Boot toolkit plugs in here).</summary>
public interface IBootFileVerifier
{
    /// <summary>The verdict, e.g. ("allowed", "signed by Microsoft Corporation UEFI CA 2011 in db", [its signatures]).</summary>
    BootFileVerdict Verify(string efiBinary);
}

/// <summary>Reads a guest disk: its GPT, the ESP's files, and per EFI binary the verifier's verdict.</summary>
public static class ImageInspector
{
    public static ImageInspection Inspect(string disk, IBootFileVerifier? verifier)
    {
        string full = Path.GetFullPath(disk);
        if (!File.Exists(full))
            throw new ImageException($"Disk image {disk} does not exist.");
        string work = Path.Combine(Path.GetTempPath(), $"tl-inspect-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            string format = DiskImageFormats.Detect(full).QemuName();
            string raw = full;
            if (format == "qcow2")
            {
                raw = Path.Combine(work, "disk.raw");
                ExternalCommand.Run("qemu-img", "qemu-utils", ["convert", "-q", "-f", "qcow2", "-O", "raw", full, raw]);
            }

            IReadOnlyList<GptPartition> partitions;
            Guid diskId;
            using (var stream = File.OpenRead(raw))
                partitions = GuidPartitionTable.Read(stream, out diskId);

            var files = new List<EspFile>();
            GptPartition? espPartition = partitions.FirstOrDefault(p => p.IsEfiSystemPartition);
            if (espPartition is not null)
            {
                var esp = new EspFileSystem(raw, espPartition.Offset);
                int n = 0;
                foreach (string path in esp.ListFiles())
                {
                    string host = Path.Combine(work, $"f{n++}");
                    esp.CopyOut(path, host);
                    byte[] content = File.ReadAllBytes(host);
                    bool efi = content.Length > 0x40 && content[0] == 'M' && content[1] == 'Z';
                    BootFileVerdict? verdict = efi && verifier is not null ? verifier.Verify(host) : null;
                    files.Add(new EspFile(path, content.Length, Convert.ToHexStringLower(SHA256.HashData(content)), efi, verdict?.Verdict, verdict?.Reason)
                    {
                        Signatures = verdict?.Signatures ?? [],
                    });
                }
            }

            return new ImageInspection(full, format, diskId, partitions, files);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
