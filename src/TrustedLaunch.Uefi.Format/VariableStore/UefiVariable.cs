namespace TrustedLaunch.Uefi.Format.VariableStore;

/// <summary>A live UEFI variable as a store holds it: keyed by (VendorGuid, Name).</summary>
public sealed record UefiVariable
{
    public required string Name { get; init; }

    public required Guid VendorGuid { get; init; }

    /// <summary>Stored attributes (never APPEND_WRITE).</summary>
    public required EfiVariableAttributes Attributes { get; init; }

    public required ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>Time of the last time-based authenticated write; zero for other variables.</summary>
    public EfiTime TimeStamp { get; init; }

    /// <summary>Counter of the obsolete counter-based authentication; kept as found.</summary>
    public ulong MonotonicCount { get; init; }

    /// <summary>Index of the obsolete counter-based public key; kept as found.</summary>
    public uint PubKeyIndex { get; init; }

    /// <summary>The live variable a stored record holds.</summary>
    public static UefiVariable From(StoredVariable record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new UefiVariable
        {
            Name = record.Name, VendorGuid = record.VendorGuid, Attributes = record.Attributes, Data = record.Data,
            TimeStamp = record.TimeStamp, MonotonicCount = record.MonotonicCount, PubKeyIndex = record.PubKeyIndex,
        };
    }
}
