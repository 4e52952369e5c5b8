namespace TrustedLaunch.Uefi.Format.VariableStore;

/// <summary>What a variable header's State byte says (MdeModulePkg VariableFormat.h; bits are only ever cleared).</summary>
public enum VariableState
{
    /// <summary>0x3F VAR_ADDED: the live copy.</summary>
    Added,

    /// <summary>0x3E VAR_ADDED &amp; VAR_IN_DELETED_TRANSITION: being replaced; live only when no Added copy exists.</summary>
    InDeletedTransition,

    /// <summary>VAR_DELETED cleared (0x3D, 0x3C, …): dead.</summary>
    Deleted,

    /// <summary>0x7F VAR_HEADER_VALID_ONLY: the header was written but the data never completed.</summary>
    HeaderValidOnly,
}

/// <summary>One <c>AUTHENTICATED_VARIABLE_HEADER</c> record found in a store, with its name and data.</summary>
public sealed record StoredVariable
{
    /// <summary>Size of AUTHENTICATED_VARIABLE_HEADER (SecurityPkg AuthenticatedVariableFormat.h).</summary>
    public const int AuthenticatedHeaderSize = 60;

    /// <summary>StartId of every header (VARIABLE_DATA).</summary>
    public const ushort StartId = 0x55AA;

    public const byte StateAdded = 0x3F;
    public const byte StateInDeletedTransitionMask = 0xFE;
    public const byte StateDeletedMask = 0xFD;
    public const byte StateHeaderValidOnly = 0x7F;

    /// <summary>Byte offset of the header within the flash file.</summary>
    public required int Offset { get; init; }

    public required byte RawState { get; init; }

    public required VariableState State { get; init; }

    public required EfiVariableAttributes Attributes { get; init; }

    public ulong MonotonicCount { get; init; }

    public EfiTime TimeStamp { get; init; }

    public uint PubKeyIndex { get; init; }

    public required Guid VendorGuid { get; init; }

    public required string Name { get; init; }

    public required ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>Classifies a State byte the way edk2 VariableParsing.c does.</summary>
    public static VariableState Classify(byte state) => state switch
    {
        StateAdded => VariableState.Added,
        StateAdded & StateInDeletedTransitionMask => VariableState.InDeletedTransition,
        StateHeaderValidOnly => VariableState.HeaderValidOnly,
        _ => VariableState.Deleted,
    };
}
