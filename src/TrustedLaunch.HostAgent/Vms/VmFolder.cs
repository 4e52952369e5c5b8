using System.Text.Json;
using System.Text.Json.Serialization;
using TrustedLaunch.HostSystem;

namespace TrustedLaunch.HostAgent.Vms;

/// <summary>What the host last applied to a VM, kept in its folder so a restarted agent knows (<c>applied.json</c>).</summary>
public sealed record AppliedState
{
    /// <summary>The assignment version applied.</summary>
    public required long Version { get; init; }

    public required long RestartGeneration { get; init; }

    /// <summary>Running, Stopped or Deallocated.</summary>
    public required string PowerState { get; init; }

    /// <summary>How the VM was last started: UEFI Secure Boot enforced (its variable store is written back after a run).</summary>
    public bool SecureBoot { get; init; }

    /// <summary>The VM version of the last snapshot restore applied (a restore is applied once).</summary>
    public long RestoredVersion { get; init; }

    /// <summary>The VM version of the last snapshot restore that succeeded (reported, so the control plane records the sanctioned restore).</summary>
    public long? SucceededRestoreVersion { get; init; }

    /// <summary>The outcome of the last Secure Boot key update applied to the VMGS (sent again while the control plane still shows it pending).</summary>
    public TrustedLaunch.ControlPlane.Model.SecureBootKeyUpdateReport? KeyUpdate { get; init; }
}

/// <summary>
/// One VM's folder on its host, <c>TL_HOME/vms/&lt;vmId&gt;/</c>: its OS disk (a qcow2 overlay on the registered image),
/// its VMGS (Generation 2), its serial console log and <c>applied.json</c>. The host's key is never here. Its run folder
/// (sockets, the firmware's flash copy, the QEMU and vTPM process records) is short-pathed under the run root.
/// </summary>
public sealed class VmFolder
{
    public const string DiskName = "disk.qcow2";
    public const string VmgsName = "vm.vmgs";
    public const string ConsoleName = "console.log";
    private const string AppliedName = "applied.json";
    private const string CreatingPrefix = ".creating-";

    public VmFolder(string vmsDirectory, string runRoot, Guid vmId)
    {
        VmId = vmId;
        Path = System.IO.Path.Combine(vmsDirectory, vmId.ToString("D"));
        RunDirectory = System.IO.Path.Combine(runRoot, $"tl-run-{vmId:N}");
    }

    public Guid VmId { get; }

    public string Path { get; }

    public string RunDirectory { get; }

    public string Disk => System.IO.Path.Combine(Path, DiskName);

    public string Vmgs => System.IO.Path.Combine(Path, VmgsName);

    public string ConsoleLog => System.IO.Path.Combine(Path, ConsoleName);

    public bool Exists => Directory.Exists(Path);

    public bool HasVmgs => File.Exists(Vmgs);

    /// <summary>The VM folders under <paramref name="vmsDirectory"/> (named by VM id); leftovers of interrupted creations are removed.</summary>
    public static IReadOnlyList<Guid> List(string vmsDirectory)
    {
        if (!Directory.Exists(vmsDirectory))
            return [];
        var ids = new List<Guid>();
        foreach (string dir in Directory.EnumerateDirectories(vmsDirectory))
        {
            string name = System.IO.Path.GetFileName(dir);
            if (name.StartsWith(CreatingPrefix, StringComparison.Ordinal))
                Directory.Delete(dir, recursive: true); // a creation cut short: it never became a VM
            else if (Guid.TryParseExact(name, "D", out Guid id))
                ids.Add(id);
        }

        return ids;
    }

    /// <summary>
    /// Makes the folder atomically: <paramref name="build"/> fills a hidden staging folder beside it, which is renamed into
    /// place only when complete. A failure (or a crash) leaves no VM folder, only a staging folder the next start removes.
    /// </summary>
    public void Create(Action<string> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        string parent = System.IO.Path.GetDirectoryName(Path)!;
        CreatePrivateDirectory(parent);
        string staging = System.IO.Path.Combine(parent, CreatingPrefix + VmId.ToString("N"));
        if (Directory.Exists(staging))
            Directory.Delete(staging, recursive: true);
        CreatePrivateDirectory(staging);
        try
        {
            build(staging);
            Directory.Move(staging, Path);
            DurableFile.SyncDirectory(parent);
        }
        catch
        {
            if (Directory.Exists(staging))
                Directory.Delete(staging, recursive: true);
            throw;
        }
    }

    public AppliedState? ReadApplied()
    {
        string path = System.IO.Path.Combine(Path, AppliedName);
        if (!File.Exists(path))
            return null;
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), VmFolderJson.Default.AppliedState);
        }
        catch (JsonException)
        {
            return null; // unreadable: the next assignment is applied as new, which is safe (start is idempotent)
        }
    }

    public void WriteApplied(AppliedState state) =>
        DurableFile.Write(System.IO.Path.Combine(Path, AppliedName), JsonSerializer.SerializeToUtf8Bytes(state, VmFolderJson.Default.AppliedState), overwrite: true);

    /// <summary>Removes the VM's files: the folder and its run folder (deleteOption Delete, or a creation that failed).</summary>
    public void Delete()
    {
        if (Directory.Exists(RunDirectory))
            Directory.Delete(RunDirectory, recursive: true);
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
            DurableFile.SyncDirectory(System.IO.Path.GetDirectoryName(Path)!);
        }
    }

    /// <summary>
    /// deleteOption Detach: the OS disk and the VMGS (which stays keyed by this host's KEK) move to
    /// <c>TL_HOME/detached/&lt;osDiskName&gt;-&lt;diskId:N&gt;/</c> (the disk's uniqueId; the first VM's id for a disk made with it);
    /// everything else goes. Returns that folder.
    /// </summary>
    public string Detach(string detachedDirectory, string osDiskName, Guid diskId)
    {
        string target = DetachedFolder(detachedDirectory, osDiskName, diskId);
        CreatePrivateDirectory(detachedDirectory);
        CreatePrivateDirectory(target);
        foreach (string file in new[] { DiskName, VmgsName })
        {
            string source = System.IO.Path.Combine(Path, file);
            if (File.Exists(source))
                File.Move(source, System.IO.Path.Combine(target, file), overwrite: false);
        }

        DurableFile.SyncDirectory(target);
        Delete();
        return target;
    }

    /// <summary>Where a detached disk's files are kept: <c>TL_HOME/detached/&lt;name&gt;-&lt;diskId:N&gt;</c>.</summary>
    public static string DetachedFolder(string detachedDirectory, string osDiskName, Guid diskId) =>
        System.IO.Path.Combine(detachedDirectory, $"{osDiskName}-{diskId:N}");

    /// <summary>
    /// A detached disk's folder becomes this VM's folder in place: one rename on the same file system, no copy (the VM must have
    /// no folder yet). Its OS disk and VMGS are then the VM's.
    /// </summary>
    public void Adopt(string detachedFolder)
    {
        string parent = System.IO.Path.GetDirectoryName(Path)!;
        CreatePrivateDirectory(parent);
        Directory.Move(detachedFolder, Path);
        DurableFile.SyncDirectory(parent);
        DurableFile.SyncDirectory(System.IO.Path.GetDirectoryName(detachedFolder)!);
    }

    private static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
            Directory.CreateDirectory(path);
        else
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(AppliedState))]
internal sealed partial class VmFolderJson : JsonSerializerContext;
