using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using TrustedLaunch.HostAgent.Vms;
using TrustedLaunch.Vmgs;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;

namespace TrustedLaunch.HostAgent.Lifecycle;

/// <summary>
/// What the control plane needs to know of a disk restored from a backup (<see cref="VmBackups.RestoreAsDisk"/>) to land it as a
/// resource: the image its qcow2 overlay is based on (the backing file), whether a VM guest state and a vTPM are there, and the
/// serial of the vTPM's EK certificate (the identity the control plane refuses to see twice), read from the VMGS identity entry.
/// </summary>
public sealed record RestoredDiskFacts(string BackingFile, bool GuestStateIncluded, bool VTpm, string? EkCertificateSerial)
{
    /// <exception cref="VmLifecycleException">The disk has no backing file, or the VMGS does not open with the host's key.</exception>
    public static RestoredDiskFacts Read(string folder, string hostKeyPath)
    {
        string disk = Path.Combine(folder, VmFolder.DiskName);
        string backing = BackingFileOf(disk)
            ?? throw new VmLifecycleException(VmLifecycleException.IntegrityFailed, $"{disk} is not a qcow2 overlay on an image (it names no backing file).");
        string vmgs = Path.Combine(folder, VmFolder.VmgsName);
        if (!File.Exists(vmgs))
            return new RestoredDiskFacts(backing, GuestStateIncluded: false, VTpm: false, EkCertificateSerial: null);
        try
        {
            using VmgsKeyEncryptionKey kek = VmgsKeyEncryptionKey.Load(hostKeyPath);
            using VmgsFile file = VmgsFile.Open(vmgs, kek, writable: false);
            bool vTpm = file.ReadEntry(VmgsEntryId.VTpmState) is not null;
            return new RestoredDiskFacts(backing, GuestStateIncluded: true, vTpm, vTpm ? EkSerial(file.ReadEntry(VmgsEntryId.VmIdentity)) : null);
        }
        catch (VmgsException e)
        {
            throw new VmLifecycleException(VmLifecycleException.IntegrityFailed, $"{vmgs}: its guest state does not open with {hostKeyPath}: {e.Message}", e);
        }
    }

    // The identity entry (GuestStateProvisioner) lists the vTPM's certificates: role, subject, serial.
    private static string? EkSerial(byte[]? identity)
    {
        if (identity is null)
            return null;
        using JsonDocument json = JsonDocument.Parse(identity);
        if (!json.RootElement.TryGetProperty("vtpmCertificates", out JsonElement keys) || keys.ValueKind != JsonValueKind.Array)
            return null;
        foreach (JsonElement key in keys.EnumerateArray())
        {
            if (key.TryGetProperty("role", out JsonElement role) && role.GetString() is string r && r.StartsWith("ek", StringComparison.Ordinal)
                && key.TryGetProperty("serial", out JsonElement serial))
                return serial.GetString();
        }

        return null;
    }

    // qcow2 header (big-endian): magic "QFI\xfb", version, backing_file_offset (u64 at 8), backing_file_size (u32 at 16).
    private static string? BackingFileOf(string qcow2)
    {
        using var stream = new FileStream(qcow2, FileMode.Open, FileAccess.Read, FileShare.Read);
        Span<byte> header = stackalloc byte[20];
        if (stream.Read(header) != header.Length || BinaryPrimitives.ReadUInt32BigEndian(header) != 0x514649FB)
            return null;
        ulong offset = BinaryPrimitives.ReadUInt64BigEndian(header[8..]);
        uint size = BinaryPrimitives.ReadUInt32BigEndian(header[16..]);
        if (offset == 0 || size is 0 or > 1023 || offset > (ulong)stream.Length)
            return null;
        byte[] name = new byte[size];
        stream.Position = (long)offset;
        stream.ReadExactly(name);
        return Encoding.UTF8.GetString(name);
    }
}
