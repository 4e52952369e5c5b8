using System.Text.Json;
using TrustedLaunch.Runtime.VTpm;
using TrustedLaunch.Storage;
using TrustedLaunch.Vmgs;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;
using TrustedLaunch.Vmgs.Storage;

namespace TrustedLaunch.Runtime.GuestState;

/// <summary>
/// A VM launched from its VMGS: the file is checked before anything starts (it opens with the KEK, it has a UEFI store
/// and a vTPM, its identity names the VM), then split between two writers that never hold it at once:
/// <list type="bullet">
/// <item>tl-vtpm (<see cref="VTpm"/>) holds the VMGS writer lock from its start to its exit and persists every NV change
/// into the <c>vtpm</c> entry as it happens;</item>
/// <item>the runtime reads the <c>uefi-nvram</c> entry before tl-vtpm starts (no lock: readers are safe against a writer,
/// docs/vmgs.md §5) and writes it back through <see cref="VariableStore"/> only after QEMU and tl-vtpm have exited —
/// <see cref="VirtualMachine"/> disposes the vTPM before it persists — taking the writer lock for that one entry replace.</item>
/// </list>
/// Every write is a VMGS entry replace (new ciphertext to free space, fsync, the other header copy, fsync), so a kill of
/// either process at any moment leaves the last committed entries, and the kernel drops the OFD lock of a dead process.
/// </summary>
public sealed class VmgsGuestState
{
    private VmgsGuestState(string path, string kekPath, string vmId, string? template, int nvramLength, bool hasVTpm)
    {
        HasVTpm = hasVTpm;
        Path = path;
        KekPath = kekPath;
        VmId = vmId;
        SecureBootTemplate = template;
        VariableStoreLength = nvramLength;
        VariableStore = new DeferredVmgsEntryStore(path, kekPath, VmgsEntryId.UefiNvram);
    }

    /// <summary>The VMGS file (absolute).</summary>
    public string Path { get; }

    /// <summary>The host key-encryption key file.</summary>
    public string KekPath { get; }

    /// <summary>The VM id recorded by <c>tl vmgs create --vm-id</c> (also in the vTPM's AK certificate).</summary>
    public string VmId { get; }

    /// <summary><see cref="VmId"/> as a GUID for QEMU's <c>-uuid</c> (the guest's SMBIOS product UUID), null when it is not one.</summary>
    public Guid? VmUuid => Guid.TryParse(VmId, out Guid id) ? id : null;

    /// <summary>The Secure Boot template the store was made from (microsoft, custom, empty), when recorded.</summary>
    public string? SecureBootTemplate { get; }

    public int VariableStoreLength { get; }

    /// <summary>The <c>uefi-nvram</c> entry, opened only for the moment of each read or write (see the class remarks).</summary>
    public INonVolatileStore VariableStore { get; }

    /// <summary>The VMGS holds a vTPM (a Standard VM's has none).</summary>
    public bool HasVTpm { get; }

    /// <summary>tl-vtpm on this VMGS (<c>--vmgs FILE --kek-file KEK</c>).</summary>
    /// <param name="program">tl-vtpm's path; null finds it beside tl, on PATH or through <c>TL_VTPM</c>.</param>
    /// <exception cref="VmgsGuestStateException">The VMGS has no vTPM.</exception>
    public VTpmOptions VTpm(string? program = null) => HasVTpm
        ? VTpmOptions.ForVmgs(Path, KekPath, program)
        : throw new VmgsGuestStateException(VmgsGuestStateProblem.Incomplete, $"VMGS {Path} has no vtpm entry; a vTPM is only ever manufactured by 'tl vmgs create'.");

    /// <summary>Checks the VMGS (every entry decrypts, no other writer holds it) and reads what the launch needs. Nothing is written.</summary>
    /// <param name="requireVTpm">Refuse a VMGS without a vTPM (every Trusted Launch VM has one; a Standard VM's VMGS has none).</param>
    /// <exception cref="VmgsGuestStateException">The file is missing, malformed, corrupt, keyed differently, or incomplete.</exception>
    public static VmgsGuestState Open(string vmgsPath, string kekPath, bool requireVTpm = true)
    {
        ArgumentNullException.ThrowIfNull(vmgsPath);
        ArgumentNullException.ThrowIfNull(kekPath);
        string path = System.IO.Path.GetFullPath(vmgsPath);
        if (!File.Exists(path))
            throw new VmgsGuestStateException(VmgsGuestStateProblem.Missing, $"VMGS {vmgsPath} does not exist; create it with 'tl vmgs create'.");
        // Opened for writing, though nothing is written: taking the writer lock for a moment tells "another VM or tl command
        // holds this VMGS" here, with its own exit code, rather than as tl-vtpm's refusal after the launch began.
        return WithFile(path, kekPath, writable: true, file =>
        {
            byte[] nvram = ReadNamed(file, VmgsEntryId.UefiNvram, vmgsPath)
                ?? throw new VmgsGuestStateException(VmgsGuestStateProblem.Incomplete, $"VMGS {vmgsPath} has no uefi-nvram entry (import one with 'tl vmgs import --entry uefi-nvram').");
            // Decrypted only to prove it is intact: tl-vtpm would refuse it too, but later and less clearly.
            bool hasVTpm = ReadNamed(file, VmgsEntryId.VTpmState, vmgsPath) is not null;
            if (!hasVTpm && requireVTpm)
                throw new VmgsGuestStateException(VmgsGuestStateProblem.Incomplete, $"VMGS {vmgsPath} has no vtpm entry; a vTPM is only ever manufactured by 'tl vmgs create'.");
            (string vmId, string? template) = ReadIdentity(file.ReadEntry(VmgsEntryId.VmIdentity), vmgsPath);
            return new VmgsGuestState(path, System.IO.Path.GetFullPath(kekPath), vmId, template, nvram.Length, hasVTpm);
        });
    }

    /// <summary>
    /// The <c>uefi-nvram</c> entry of a VMGS as a store, without opening the file now: for a supervisor that adopts a
    /// running VM, whose tl-vtpm holds the writer lock until the VM ends (the store is written back only after that).
    /// </summary>
    public static INonVolatileStore VariableStoreOf(string vmgsPath, string kekPath) =>
        new DeferredVmgsEntryStore(System.IO.Path.GetFullPath(vmgsPath), System.IO.Path.GetFullPath(kekPath), VmgsEntryId.UefiNvram);

    /// <summary>Opens the file read-only with its KEK and runs <paramref name="read"/>, mapping VMGS failures to one exception family.</summary>
    internal static T Read<T>(string path, string kekPath, Func<VmgsFile, T> read) => WithFile(path, kekPath, writable: false, read);

    internal static T WithFile<T>(string path, string kekPath, bool writable, Func<VmgsFile, T> body)
    {
        try
        {
            using VmgsKeyEncryptionKey kek = VmgsKeyEncryptionKey.Load(kekPath);
            using VmgsFile file = VmgsFile.Open(path, kek, writable);
            return body(file);
        }
        catch (SealingKeyException e)
        {
            throw new VmgsGuestStateException(VmgsGuestStateProblem.BadKey, $"key-encryption key {kekPath}: {e.Message}", e);
        }
        catch (VmgsIntegrityException e)
        {
            throw new VmgsGuestStateException(VmgsGuestStateProblem.IntegrityFailed,
                $"VMGS {path} does not open with {kekPath}: wrong key, or the file was corrupted or tampered with ({e.Message}).", e);
        }
        catch (VmgsFormatException e)
        {
            throw new VmgsGuestStateException(VmgsGuestStateProblem.Malformed, $"VMGS {path} is malformed: {e.Message}", e);
        }
        catch (VmgsFileInUseException e)
        {
            throw new VmgsGuestStateException(VmgsGuestStateProblem.InUse, e.Message, e);
        }
    }

    /// <summary>Reads one entry; a failure names the entry, so a caller can tell a locked vTPM from a damaged variable store.</summary>
    private static byte[]? ReadNamed(VmgsFile file, VmgsEntryId entry, string vmgsPath)
    {
        try
        {
            return file.ReadEntry(entry);
        }
        catch (VmgsIntegrityException e)
        {
            throw new VmgsGuestStateException(VmgsGuestStateProblem.IntegrityFailed,
                $"VMGS {vmgsPath}: the {VmgsEntryNames.ToName(entry)} entry does not decrypt: it was corrupted or tampered with ({e.Message}).", e) { Entry = entry };
        }
        catch (VmgsFormatException e)
        {
            throw new VmgsGuestStateException(VmgsGuestStateProblem.Malformed, $"VMGS {vmgsPath}: the {VmgsEntryNames.ToName(entry)} entry is malformed: {e.Message}", e) { Entry = entry };
        }
    }

    private static (string VmId, string? Template) ReadIdentity(byte[]? identity, string vmgsPath)
    {
        if (identity is null)
            throw new VmgsGuestStateException(VmgsGuestStateProblem.Incomplete, $"VMGS {vmgsPath} has no identity entry, so the VM has no id.");
        try
        {
            using JsonDocument json = JsonDocument.Parse(identity);
            JsonElement root = json.RootElement;
            string? vmId = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("vmId", out JsonElement id) && id.ValueKind == JsonValueKind.String
                ? id.GetString()
                : null;
            if (string.IsNullOrEmpty(vmId))
                throw new VmgsGuestStateException(VmgsGuestStateProblem.Malformed, $"VMGS {vmgsPath}: the identity entry has no vmId.");
            string? template = root.TryGetProperty("secureBootTemplate", out JsonElement t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            return (vmId, template);
        }
        catch (JsonException e)
        {
            throw new VmgsGuestStateException(VmgsGuestStateProblem.Malformed, $"VMGS {vmgsPath}: the identity entry is not JSON ({e.Message}).", e);
        }
    }
}

/// <summary>What is wrong with a VMGS a VM was asked to launch from.</summary>
public enum VmgsGuestStateProblem
{
    Missing,
    BadKey,
    Malformed,
    IntegrityFailed,
    Incomplete,
    InUse,
}

/// <summary>A VMGS cannot be used to launch its VM; the message says which file and why.</summary>
public sealed class VmgsGuestStateException : Exception
{
    public VmgsGuestStateException() : this(VmgsGuestStateProblem.Malformed, "The VMGS cannot be used.") { }

    public VmgsGuestStateException(string message) : this(VmgsGuestStateProblem.Malformed, message) { }

    public VmgsGuestStateException(string message, Exception innerException) : this(VmgsGuestStateProblem.Malformed, message, innerException) { }

    public VmgsGuestStateException(VmgsGuestStateProblem problem, string message, Exception? innerException = null)
        : base(message, innerException) => Problem = problem;

    public VmgsGuestStateProblem Problem { get; }

    /// <summary>The one entry that failed; null when the file as a whole (its key, headers, lock) did.</summary>
    public VmgsEntryId? Entry { get; init; }
}
