namespace TrustedLaunch.Tpm.Protocol;

/// <summary><c>TPMA_OBJECT</c> (TPM 2.0 Library Part 2 §8.3). Bits outside the defined set are reserved and must be 0.</summary>
[Flags]
#pragma warning disable CA1711 // "Attributes" is the TCG name of this type (TPMA_*), not a .NET attribute class.
public enum TpmaObject : uint
#pragma warning restore CA1711
{
    None = 0,
    FixedTpm = 1u << 1,
    StClear = 1u << 2,
    FixedParent = 1u << 4,
    SensitiveDataOrigin = 1u << 5,
    UserWithAuth = 1u << 6,
    AdminWithPolicy = 1u << 7,
    FirmwareLimited = 1u << 8,
    SvnLimited = 1u << 9,
    NoDA = 1u << 10,
    EncryptedDuplication = 1u << 11,
    Restricted = 1u << 16,
    Decrypt = 1u << 17,
    Sign = 1u << 18,
    X509Sign = 1u << 19,
}

/// <summary><c>TPMA_NV</c> (Part 2 §13.4). Bits 7:4 are the <c>TPM_NT</c> index type.</summary>
[Flags]
public enum TpmaNv : uint
{
    None = 0,
    PpWrite = 1u << 0,
    OwnerWrite = 1u << 1,
    AuthWrite = 1u << 2,
    PolicyWrite = 1u << 3,
    TypeCounter = 1u << 4,
    TypeBits = 2u << 4,
    TypeExtend = 4u << 4,
    TypePinFail = 8u << 4,
    TypePinPass = 9u << 4,
    PolicyDelete = 1u << 10,
    WriteLocked = 1u << 11,
    WriteAll = 1u << 12,
    WriteDefine = 1u << 13,
    WriteStClear = 1u << 14,
    GlobalLock = 1u << 15,
    PpRead = 1u << 16,
    OwnerRead = 1u << 17,
    AuthRead = 1u << 18,
    PolicyRead = 1u << 19,
    NoDA = 1u << 25,
    Orderly = 1u << 26,
    ClearStClear = 1u << 27,
    ReadLocked = 1u << 28,
    Written = 1u << 29,
    PlatformCreate = 1u << 30,
    ReadStClear = 1u << 31,
}

/// <summary><c>TPMA_SESSION</c> (Part 2 §8.4).</summary>
[Flags]
public enum TpmaSession : byte
{
    None = 0,
    ContinueSession = 1 << 0,
    AuditExclusive = 1 << 1,
    AuditReset = 1 << 2,
    Decrypt = 1 << 5,
    Encrypt = 1 << 6,
    Audit = 1 << 7,
}

/// <summary><c>TPMA_ALGORITHM</c> (Part 2 §8.2).</summary>
[Flags]
public enum TpmaAlgorithm : uint
{
    None = 0,
    Asymmetric = 1u << 0,
    Symmetric = 1u << 1,
    Hash = 1u << 2,
    ObjectType = 1u << 3,
    Signing = 1u << 8,
    Encrypting = 1u << 9,
    Method = 1u << 10,
}
