using System.Diagnostics.CodeAnalysis;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Uefi.Format;
using TrustedLaunch.Uefi.Format.VariableStore;

namespace TrustedLaunch.Uefi.VariableStore;

/// <summary>
/// A per-VM OVMF NV variable store: the live variables of a 4 MB or 2 MB flash file, editable offline, serialised back
/// to a flash file (or a byte array for a guest-state file). Loading keeps the original image so that saving rewrites only
/// the variable region; stores created from scratch get a fresh FV header and a pristine FTW working block.
/// </summary>
public sealed class OvmfVariableStore
{
    private readonly List<UefiVariable> _variables;

    private OvmfVariableStore(NvFlashLayout layout, VariableStoreImage? image, IEnumerable<UefiVariable> variables)
    {
        Layout = layout;
        Image = image;
        _variables = [.. variables];
    }

    /// <summary>Region sizes of the flash file.</summary>
    public NvFlashLayout Layout { get; }

    /// <summary>The parsed source image (every record, FTW state), or null for a store created from scratch.</summary>
    public VariableStoreImage? Image { get; }

    /// <summary>Live variables, edk2 semantics (an in-deleted-transition copy counts only without a live one), in store order.</summary>
    public IReadOnlyList<UefiVariable> Variables => _variables;

    /// <summary>True when the source file has an allocated, incomplete fault-tolerant write; such a store is read-only.</summary>
    public bool HasPendingFaultTolerantWrite => Image?.FaultTolerantWrite?.State == FaultTolerantWriteState.WritePending;

    /// <summary>Bytes the live variables take in the store (headers, names, data, alignment).</summary>
    public int UsedBytes => _variables.Sum(VariableStoreWriter.RecordSize);

    /// <summary>Bytes available for variables: the store size less its header.</summary>
    public int Capacity => (int)(Image?.StoreHeader.Size ?? Layout.VariableStoreSize) - VariableStoreHeader.EncodedSize;

    /// <summary>An empty store (no variables at all, like Debian's OVMF_VARS_4M.fd): Secure Boot off, setup mode.</summary>
    public static OvmfVariableStore CreateEmpty(NvFlashLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        return new OvmfVariableStore(layout, null, []);
    }

    /// <summary>Parses a flash file's bytes. Throws <see cref="UefiFormatException"/> when malformed.</summary>
    public static OvmfVariableStore Load(ReadOnlyMemory<byte> flash)
    {
        var layout = NvFlashLayout.ForFileSize(flash.Length)
            ?? throw new UefiFormatException($"A {flash.Length}-byte file is not an OVMF NV flash file (0x84000 for 4 MB, 0x20000 for 2 MB builds).");
        var image = VariableStoreImage.Parse(flash);
        if (image.StoreEnd != layout.VariableRegionSize)
            throw new UefiFormatException($"Variable store ends at 0x{image.StoreEnd:X}, not at 0x{layout.VariableRegionSize:X} as OVMF's layout puts it.") { Offset = image.StoreHeaderOffset + 16 };
        return new OvmfVariableStore(layout, image, image.LiveVariables.Select(UefiVariable.From));
    }

    /// <summary>Reads and parses a flash file.</summary>
    public static OvmfVariableStore LoadFile(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
            throw new FileNotFoundException($"Variable store file not found: {path}", path);
        if (info.Length > NvFlashLayout.Ovmf4M.FileSize)
            throw new UefiFormatException($"{path} is {info.Length} bytes; OVMF variable stores are at most {NvFlashLayout.Ovmf4M.FileSize}.");
        return Load(File.ReadAllBytes(path));
    }

    /// <summary>Finds a live variable by vendor GUID and name (names compare ordinally, as edk2 StrCmp does).</summary>
    public bool TryGet(Guid vendor, string name, [NotNullWhen(true)] out UefiVariable? variable)
    {
        variable = _variables.Find(v => v.VendorGuid == vendor && string.Equals(v.Name, name, StringComparison.Ordinal));
        return variable is not null;
    }

    /// <summary>Adds or replaces a non-volatile variable (replaced in place, so the store keeps its order).</summary>
    public void Set(UefiVariable variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        EnsureEditable();
        if ((variable.Attributes & EfiVariableAttributes.NonVolatile) == 0)
            throw new VariableStoreException($"{variable.Name} is volatile; volatile variables never live in the flash store.");
        if ((variable.Attributes & EfiVariableAttributes.AppendWrite) != 0)
            throw new VariableStoreException($"{variable.Name}: APPEND_WRITE is a SetVariable flag, never a stored attribute.");
        int index = _variables.FindIndex(v => v.VendorGuid == variable.VendorGuid && string.Equals(v.Name, variable.Name, StringComparison.Ordinal));
        int newUsed = UsedBytes + VariableStoreWriter.RecordSize(variable) - (index >= 0 ? VariableStoreWriter.RecordSize(_variables[index]) : 0);
        if (newUsed > Capacity)
            throw new VariableStoreException($"Variable store full: {variable.Name} ({variable.Data.Length} bytes) would need {newUsed} of {Capacity} bytes.");
        if (index >= 0)
            _variables[index] = variable;
        else
            _variables.Add(variable);
    }

    /// <summary>Deletes a variable; returns false when it did not exist.</summary>
    public bool Remove(Guid vendor, string name)
    {
        EnsureEditable();
        return _variables.RemoveAll(v => v.VendorGuid == vendor && string.Equals(v.Name, name, StringComparison.Ordinal)) > 0;
    }

    /// <summary>The flash file: the source image with its variable region rewritten, or a fresh image.</summary>
    public byte[] ToArray()
    {
        EnsureEditable();
        return Image is null ? VariableStoreWriter.Create(Layout, _variables) : VariableStoreWriter.Rewrite(Image, _variables);
    }

    /// <summary>
    /// Writes the flash file through <see cref="DurableFile"/> (temporary file, fsync, rename, folder fsync).
    /// Without <paramref name="overwrite"/> an existing file is never replaced.
    /// </summary>
    public void SaveFile(string path, bool overwrite)
    {
        byte[] flash = ToArray();
        if (!overwrite && File.Exists(path))
            throw new IOException($"{path} exists; pass overwrite (--force) to replace it.");
        DurableFile.Write(path, flash, overwrite);
    }

    /// <summary>PK, KEK, db, dbx, dbt and shim's MOK lists, decoded, and the Secure Boot state the firmware will compute.</summary>
    public SecureBootDatabases SecureBoot => SecureBootDatabases.From(this);

    private void EnsureEditable()
    {
        if (HasPendingFaultTolerantWrite)
            throw new VariableStoreException($"Refusing to edit a store with a pending fault-tolerant write ({Image!.FaultTolerantWrite!.Detail}); boot the VM once so the firmware completes it.");
    }
}
