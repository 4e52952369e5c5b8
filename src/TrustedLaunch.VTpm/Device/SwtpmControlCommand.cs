namespace TrustedLaunch.VTpm.Device;

/// <summary>swtpm control-channel command codes (<c>include/swtpm/tpm_ioctl.h</c>; vtpm.md §2.2).</summary>
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
    StoreVolatile = 0x0a,
    ResetTpmEstablished = 0x0b,
    GetStateBlob = 0x0c,
    SetStateBlob = 0x0d,
    Stop = 0x0e,
    GetConfig = 0x0f,
    SetDataFd = 0x10,
    SetBufferSize = 0x11,
    GetInfo = 0x12,
    LockStorage = 0x13,
}

/// <summary>Capability bits answered to CMD_GET_CAPABILITY (<c>PTM_CAP_*</c>).</summary>
[Flags]
public enum SwtpmCapabilities : uint
{
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
