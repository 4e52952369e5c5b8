using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Images.Agent;
using TrustedLaunch.Images.Disk;
using TrustedLaunch.Images.Grub;
using TrustedLaunch.Images.Initramfs;
using TrustedLaunch.Images.Packages;
using TrustedLaunch.Images.Signatures;

namespace TrustedLaunch.Images;

/// <summary>Which boot file to leave unsigned on purpose (an untrusted image for Secure Boot tests).</summary>
public enum UntrustedComponent
{
    None,

    /// <summary>grubx64.efi without its Debian signature: shim refuses it under Secure Boot.</summary>
    Grub,

    /// <summary>BOOTX64.EFI (shim) without its Microsoft signature: the firmware refuses it under Secure Boot.</summary>
    Shim,
}

/// <summary>What to build.</summary>
public sealed record DebianImageRequest
{
    public UntrustedComponent Untrusted { get; init; } = UntrustedComponent.None;

    /// <summary>A <c>tl-guest-agent</c> binary to put at /usr/bin/tl-guest-agent; null builds without it.</summary>
    public string? GuestAgent { get; init; }

    /// <summary>The command line the image boots with unless told otherwise.</summary>
    public const string DefaultKernelCommandLine = "console=ttyS0 quiet panic=-1";

    /// <summary>Kernel command line (the console must stay on ttyS0 for the verdict); one line.</summary>
    public string KernelCommandLine { get; init; } = DefaultKernelCommandLine;

    /// <summary>The GRUB commands that load the kernel and initramfs.</summary>
    public GrubKernelLoader KernelLoader { get; init; } = GrubKernelLoader.Linux;

    /// <summary>
    /// 2 (default): GPT + EFI System Partition, Debian's signed shim and GRUB for UEFI (Azure's Generation 2, Trusted Launch
    /// capable). 1: MBR, GRUB for BIOS (grub-pc) in the MBR gap, a FAT partition with the kernel (Generation 1: SeaBIOS boots it).
    /// </summary>
    public int Generation { get; init; } = 2;

    /// <summary>Cache folder for images; null means <c>TL_HOME/images</c>.</summary>
    public string? ImageCache { get; init; }

    /// <summary>Cache folder for downloaded .deb files; null means <c>TL_HOME/cache/debs</c>.</summary>
    public string? PackageCache { get; init; }
}

/// <summary>The built (or cached) image and what it is made of.</summary>
public sealed record DebianImage(string RawPath, string ManifestPath, ImageManifest Manifest, bool FromCache);

/// <summary>Provenance of an image, written beside it as JSON.</summary>
public sealed record ImageManifest
{
    public required string Distribution { get; init; }

    public required string CacheKey { get; init; }

    public required IReadOnlyList<DebianPackage> Packages { get; init; }

    public required string KernelVersion { get; init; }

    public required string KernelCommandLine { get; init; }

    /// <summary>The GRUB commands grub.cfg loads the kernel with.</summary>
    public GrubKernelLoader KernelLoader { get; init; }

    public required UntrustedComponent Untrusted { get; init; }

    public string? GuestAgentSha256 { get; init; }

    /// <summary>Azure's generation: 2 (UEFI, GPT + ESP) or 1 (BIOS, MBR).</summary>
    public int Generation { get; init; } = 2;

    /// <summary>Boot-partition path → SHA-256 of the file put there.</summary>
    public required IReadOnlyDictionary<string, string> Files { get; init; }
}

/// <summary>
/// Builds the Debian 12 guest disk: a GPT disk whose only partition is an EFI System Partition holding Debian's signed
/// shim (removable-media path \EFI\BOOT\BOOTX64.EFI), signed GRUB, the signed kernel and a busybox initramfs
/// (docs/images.md). The image is cached under TL_HOME/images keyed by the package versions and the build inputs.
/// </summary>
public static class DebianImageBuilder
{
    /// <summary>Bumped when the layout or the init changes, so cached images are rebuilt.</summary>
    public const int LayoutVersion = 1;

    public const string Distribution = "debian-12";
    private const long DiskBytes = 64L * 1024 * 1024;
    private const long EspFirstLba = 2048; // 1 MiB alignment
    private static readonly DateTime FixedTime = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public static DebianImage Build(DebianImageRequest request, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        CheckGeneration(request);
        bool bios = request.Generation == 1;
        string grubConfig = bios
            ? GrubBiosImage.Configuration(request.KernelCommandLine)
            : GrubConfiguration.Render($"TrustedLaunch {Distribution}", request.KernelLoader, request.KernelCommandLine);
        string imageCache = request.ImageCache ?? TlHome.Images;
        var apt = new AptRepository(request.PackageCache ?? Path.Combine(TlHome.Cache, "debs"));

        progress?.Report("resolve: package versions (apt-cache)");
        string kernelPackage = AptRepository.ResolveDependency("linux-image-amd64", "linux-image-");
        DebianPackage[] packages = bios
            ?
            [
                AptRepository.Resolve("grub-pc-bin"),
                AptRepository.Resolve("grub-common"),
                AptRepository.Resolve(kernelPackage),
                AptRepository.Resolve("busybox-static"),
            ]
            :
            [
                AptRepository.Resolve("shim-signed"),
                AptRepository.Resolve("grub-efi-amd64-signed"),
                AptRepository.Resolve(kernelPackage),
                AptRepository.Resolve("busybox-static"),
            ];
        IReadOnlyList<SharedLibrary> agentLibraries = request.GuestAgent is null ? [] : SharedLibraries.Merge(SharedLibraries.Of(request.GuestAgent), SharedLibraries.OpenSsl());
        string? agentHash = request.GuestAgent is null ? null : AgentDigest(request.GuestAgent, agentLibraries);
        string key = CacheKey(packages, request, agentHash);
        string raw = Path.Combine(imageCache, $"{Distribution}-{(bios ? "gen1-" : "")}{key}.raw");
        string manifestPath = Path.ChangeExtension(raw, ".json");
        if (File.Exists(raw) && File.Exists(manifestPath))
        {
            progress?.Report($"cached: {raw}");
            return new DebianImage(raw, manifestPath, ReadManifest(manifestPath), FromCache: true);
        }

        Directory.CreateDirectory(imageCache);
        string work = Path.Combine(Path.GetTempPath(), $"tl-image-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            string root = Path.Combine(work, "root");
            foreach (DebianPackage package in packages)
            {
                string deb = apt.Download(package, progress);
                progress?.Report($"unpack: {package.Name}");
                AptRepository.Extract(deb, root);
            }

            string kernelVersion = kernelPackage["linux-image-".Length..];
            var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
            string Stage(string espPath, byte[] content)
            {
                string host = Path.Combine(work, "esp", espPath.TrimStart('/').Replace('/', '_'));
                Directory.CreateDirectory(Path.GetDirectoryName(host)!);
                File.WriteAllBytes(host, content);
                File.SetLastWriteTimeUtc(host, FixedTime);
                files[espPath] = Convert.ToHexStringLower(SHA256.HashData(content));
                return host;
            }

            byte[] kernel = File.ReadAllBytes(Path.Combine(root, "boot", $"vmlinuz-{kernelVersion}"));
            progress?.Report("initramfs: busybox, init, modules (newc + gzip)");
            using var initrd = new MemoryStream();
            GuestInitramfs.Build(root, kernelVersion, request.GuestAgent, initrd, agentLibraries);
            if (bios)
            {
                var bootFiles = new List<(string Host, string Path)> { (Stage("/vmlinuz", kernel), "/vmlinuz"), (Stage("/initrd.gz", initrd.ToArray()), "/initrd.gz") };
                files["(core.img embedded config)"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(grubConfig)));
                progress?.Report("grub: core.img (grub-mkimage from grub-common, i386-pc modules from grub-pc-bin)");
                byte[] core = GrubBiosImage.BuildCore(root, request.KernelCommandLine, work);
                byte[] bootSector = GrubBiosImage.BootSector(root);
                progress?.Report("disk: MBR + GRUB core in the MBR gap + FAT partition (mtools)");
                DurableFile.Publish(raw, overwrite: true, temporary => WriteBiosDisk(temporary, key, bootSector, core, bootFiles));
                return Publish(raw, manifestPath, key, packages, kernelVersion, request, agentHash, files, progress);
            }

            byte[] shim = File.ReadAllBytes(Path.Combine(root, "usr/lib/shim/shimx64.efi.signed"));
            byte[] grub = File.ReadAllBytes(Path.Combine(root, "usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed"));
            if (request.Untrusted == UntrustedComponent.Shim)
                shim = SignatureStripper.StripAuthenticode(shim);
            if (request.Untrusted == UntrustedComponent.Grub)
                grub = SignatureStripper.StripAuthenticode(grub);
            var staged = new List<(string Host, string Esp)>
            {
                (Stage("/EFI/BOOT/BOOTX64.EFI", shim), "/EFI/BOOT/BOOTX64.EFI"),
                (Stage("/EFI/BOOT/grubx64.efi", grub), "/EFI/BOOT/grubx64.efi"),
                // Debian's signed GRUB reads its configuration from /EFI/debian (its embedded prefix).
                (Stage("/EFI/BOOT/grub.cfg", Encoding.ASCII.GetBytes(grubConfig)), "/EFI/BOOT/grub.cfg"),
                (Stage("/EFI/debian/grub.cfg", Encoding.ASCII.GetBytes(grubConfig)), "/EFI/debian/grub.cfg"),
                (Stage("/vmlinuz", kernel), "/vmlinuz"),
                (Stage("/initrd.gz", initrd.ToArray()), "/initrd.gz"),
            };

            progress?.Report("disk: GPT + FAT ESP (mtools)");
            // Published durably: the image first, then the manifest whose presence marks the cache entry complete.
            DurableFile.Publish(raw, overwrite: true, temporary => WriteDisk(temporary, key, staged));
            return Publish(raw, manifestPath, key, packages, kernelVersion, request, agentHash, files, progress);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    // The manifest is written last: its presence marks the cache entry complete.
    private static DebianImage Publish(string raw, string manifestPath, string key, DebianPackage[] packages, string kernelVersion, DebianImageRequest request,
        string? agentHash, IReadOnlyDictionary<string, string> files, IProgress<string>? progress)
    {
        var manifest = new ImageManifest
        {
            Distribution = Distribution,
            CacheKey = key,
            Packages = packages,
            KernelVersion = kernelVersion,
            KernelCommandLine = request.KernelCommandLine,
            KernelLoader = request.KernelLoader,
            Untrusted = request.Untrusted,
            GuestAgentSha256 = agentHash?[..64],
            Generation = request.Generation,
            Files = new SortedDictionary<string, string>(files.ToDictionary(), StringComparer.Ordinal),
        };
        DurableFile.Write(manifestPath, Encoding.UTF8.GetBytes(JsonSerializer.Serialize(manifest, ImageJsonContext.Default.ImageManifest)), overwrite: true);
        progress?.Report($"built: {raw}");
        return new DebianImage(raw, manifestPath, manifest, FromCache: false);
    }

    private static void CheckGeneration(DebianImageRequest request)
    {
        if (request.Generation is not (1 or 2))
            throw new ImageException(ImageFailure.BadInput, $"Generation {request.Generation} is not one: 1 (BIOS, MBR) or 2 (UEFI, GPT).");
        if (request.Generation == 1 && request.Untrusted != UntrustedComponent.None)
            throw new ImageException(ImageFailure.BadInput, "A Generation 1 image has no shim or signed GRUB to leave unsigned (BIOS does not verify).");
        if (request.Generation == 1 && request.KernelLoader != GrubKernelLoader.Linux)
            throw new ImageException(ImageFailure.BadInput, "linuxefi is a UEFI loader; a Generation 1 image boots through BIOS.");
    }

    /// <summary>Writes the image to <paramref name="output"/> as raw (a copy) or qcow2 (<c>qemu-img convert</c>).</summary>
    public static void Export(DebianImage image, string output, string format)
    {
        ArgumentNullException.ThrowIfNull(image);
        string full = Path.GetFullPath(output);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        Action<string> write = format switch
        {
            "raw" => temporary => File.Copy(image.RawPath, temporary),
            "qcow2" => temporary => ExternalCommand.Run("qemu-img", "qemu-utils", ["convert", "-q", "-f", "raw", "-O", "qcow2", image.RawPath, temporary]),
            _ => throw new ImageException($"Unknown image format '{format}' (raw or qcow2)."),
        };
        DurableFile.Publish(full, overwrite: true, write);
    }

    /// <summary>SHA-256 of the agent binary, then (when it is dynamically linked) of each library it brings into the image.</summary>
    internal static string AgentDigest(string agent, IReadOnlyList<SharedLibrary> libraries)
    {
        string digest = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(agent)));
        if (libraries.Count == 0)
            return digest;
        var text = new StringBuilder(digest);
        foreach (SharedLibrary library in libraries)
            text.Append(CultureInfo.InvariantCulture, $"\n{library.GuestPath}={Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(library.HostPath)))}");
        return $"{digest}+libs:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16]}";
    }

    internal static string CacheKey(IEnumerable<DebianPackage> packages, DebianImageRequest request, string? agentHash)
    {
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"layout={LayoutVersion}\n");
        foreach (DebianPackage p in packages)
            text.Append(CultureInfo.InvariantCulture, $"{p}\n");
        text.Append(CultureInfo.InvariantCulture, $"untrusted={request.Untrusted}\ncmdline={request.KernelCommandLine}\nloader={request.KernelLoader}\nagent={agentHash}\n");
        text.Append(GuestInit.Script).Append(GuestInit.PowerButton).Append(GuestInit.DhcpScript).AppendJoin(',', GuestInitramfs.RequiredModules);
        if (request.Generation == 1)
            text.Append(CultureInfo.InvariantCulture, $"generation=1\n{GrubBiosImage.Configuration(request.KernelCommandLine)}"); // Generation 2 keys unchanged
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
        return request.Untrusted == UntrustedComponent.None ? hash : $"unsigned-{request.Untrusted.ToString().ToLowerInvariant()}-{hash}";
    }

    private static void WriteDisk(string path, string key, IReadOnlyList<(string Host, string Esp)> files)
    {
        long totalSectors = DiskBytes / GuidPartitionTable.SectorSize;
        long lastLba = totalSectors - 34 - 1; // leave the backup entry array and header
        // Identifiers derived from the cache key: the same inputs give the same disk.
        byte[] seed = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        var diskId = new Guid(seed.AsSpan(0, 16));
        var partId = new Guid(seed.AsSpan(16, 16));
        using (var disk = new FileStream(path, FileMode.Create, FileAccess.ReadWrite))
        {
            disk.SetLength(DiskBytes);
            GuidPartitionTable.Write(disk, totalSectors, diskId,
                [new GptPartition(1, GptPartition.EfiSystemPartition, partId, EspFirstLba, lastLba, 0, "EFI System Partition")]);
        }

        var esp = new EspFileSystem(path, EspFirstLba * GuidPartitionTable.SectorSize);
        esp.Format(lastLba - EspFirstLba + 1, BitConverter.ToUInt32(seed, 0), "TL-ESP");
        foreach (string dir in new[] { "/EFI", "/EFI/BOOT", "/EFI/debian" })
            esp.CreateDirectory(dir);
        foreach (var (host, espPath) in files)
            esp.CopyIn(host, espPath);
    }

    private static void WriteBiosDisk(string path, string key, byte[] bootSector, byte[] core, IReadOnlyList<(string Host, string Path)> files)
    {
        long totalSectors = DiskBytes / MasterBootRecord.SectorSize;
        byte[] seed = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        using (var disk = new FileStream(path, FileMode.Create, FileAccess.ReadWrite))
        {
            disk.SetLength(DiskBytes);
            MasterBootRecord.Write(disk, bootSector, core, EspFirstLba, totalSectors - EspFirstLba);
        }

        var boot = new EspFileSystem(path, EspFirstLba * MasterBootRecord.SectorSize);
        boot.Format(totalSectors - EspFirstLba, BitConverter.ToUInt32(seed, 0), "TL-BOOT");
        foreach (var (host, bootPath) in files)
            boot.CopyIn(host, bootPath);
    }

    private static ImageManifest ReadManifest(string path) =>
        JsonSerializer.Deserialize(File.ReadAllText(path), ImageJsonContext.Default.ImageManifest)
        ?? throw new ImageException($"Image manifest {path} is empty.");
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(ImageManifest))]
internal sealed partial class ImageJsonContext : JsonSerializerContext;
