namespace TrustedLaunch.Tpm.Protocol.Swtpm;

/// <summary>
/// swtpm control-channel command codes (swtpm <c>include/swtpm/tpm_ioctl.h</c>, <c>CMD_*</c>). On a socket each
/// request is a big-endian UINT32 code followed by the request half of the <c>ptm_*</c> union (vtpm.md §2.1).
/// </summary>
public enum SwtpmControlCommand : uint
{
    GetCapability = 0x01,
    Init = 0x02,
    Shutdown = 0x03,
    GetTpmEstablished = 0x04,
    SetLocality = 0x05,
    HashStart = 0x06,
    HashData = 0x07,
    HashEnd = 0x08,
    CancelTpmCommand = 0x09,
    StoreVolatile = 0x0A,
    ResetTpmEstablished = 0x0B,
    GetStateBlob = 0x0C,
    SetStateBlob = 0x0D,
    Stop = 0x0E,
    GetConfig = 0x0F,
    SetDataFd = 0x10,
    SetBufferSize = 0x11,
    GetInfo = 0x12,
    LockStorage = 0x13,
}

/// <summary><c>PTM_CAP_*</c>: what CMD_GET_CAPABILITY reports as supported.</summary>
[Flags]
public enum SwtpmCapabilities : ulong
{
    None = 0,
    Init = 0x1,
    Shutdown = 0x2,
    GetTpmEstablished = 0x4,
    SetLocality = 0x8,
    Hashing = 0x10,
    CancelTpmCommand = 0x20,
    StoreVolatile = 0x40,
    ResetTpmEstablished = 0x80,
    GetStateBlob = 0x100,
    SetStateBlob = 0x200,
    Stop = 0x400,
    GetConfig = 0x800,
    SetDataFd = 0x1000,
    SetBufferSize = 0x2000,
    GetInfo = 0x4000,
    SendCommandHeader = 0x8000,
    LockStorage = 0x10000,
}

/// <summary><c>PTM_INIT_FLAG_*</c>.</summary>
[Flags]
public enum SwtpmInitOptions : uint
{
    None = 0,
    DeleteVolatile = 0x1,
}

/// <summary><c>PTM_BLOB_TYPE_*</c>: which state blob GET/SET_STATEBLOB moves.</summary>
public enum SwtpmStateBlobType : uint
{
    Permanent = 1,
    Volatile = 2,
    SaveState = 3,
}

/// <summary><c>PTM_STATE_FLAG_*</c>.</summary>
[Flags]
public enum SwtpmStateBlobOptions : uint
{
    None = 0,
    Decrypted = 0x1,
    Encrypted = 0x2,
}

/// <summary><c>SWTPM_INFO_*</c> selectors of CMD_GET_INFO.</summary>
[Flags]
public enum SwtpmInfoSelectors : ulong
{
    None = 0,
    TpmSpecification = 0x1,
    TpmAttributes = 0x2,
    TpmFeatures = 0x4,
    RuntimeAlgorithms = 0x8,
    RuntimeCommands = 0x10,
    ActiveProfile = 0x20,
    AvailableProfiles = 0x40,
    RuntimeAttributes = 0x80,
}

/// <summary>TPM 1.2-style result codes the control channel answers with (libtpms <c>tpm_error.h</c>).</summary>
public static class SwtpmResult
{
    public const uint Success = 0;
    public const uint BadParameter = 0x03;
    public const uint Fail = 0x09;
    public const uint BadOrdinal = 0x0A;
    public const uint Size = 0x17;
    public const uint IoError = 0x1F;
    public const uint BadLocality = 0x3D;
    public const uint Retry = 0x800;
}
