namespace TrustedLaunch.Tpm.Protocol;

/// <summary><c>TPM_ST</c> structure tags (TPM 2.0 Library Part 2 §6.9).</summary>
public enum TpmSt : ushort
{
    RspCommand = 0x00C4,
    Null = 0x8000,
    NoSessions = 0x8001,
    Sessions = 0x8002,
    AttestNv = 0x8014,
    AttestCommandAudit = 0x8015,
    AttestSessionAudit = 0x8016,
    AttestCertify = 0x8017,
    AttestQuote = 0x8018,
    AttestTime = 0x8019,
    AttestCreation = 0x801A,
    AttestNvDigest = 0x801C,
    Creation = 0x8021,
    Verified = 0x8022,
    AuthSecret = 0x8023,
    HashCheck = 0x8024,
    AuthSigned = 0x8025,
    FuStatus = 0x8029,
}

/// <summary><c>TPM_SU</c> startup/shutdown types (Part 2 §6.10).</summary>
public enum TpmSu : ushort
{
    Clear = 0x0000,
    State = 0x0001,
}

/// <summary><c>TPM_SE</c> session types (Part 2 §6.11).</summary>
public enum TpmSe : byte
{
    Hmac = 0x00,
    Policy = 0x01,
    Trial = 0x03,
}

/// <summary><c>TPM_CAP</c> capability selectors (Part 2 §6.12).</summary>
public enum TpmCap : uint
{
    Algs = 0x00000000,
    Handles = 0x00000001,
    Commands = 0x00000002,
    PpCommands = 0x00000003,
    AuditCommands = 0x00000004,
    Pcrs = 0x00000005,
    TpmProperties = 0x00000006,
    PcrProperties = 0x00000007,
    EccCurves = 0x00000008,
    AuthPolicies = 0x00000009,
    Act = 0x0000000A,
    Vendor = 0x00000100,
}

/// <summary><c>TPM_ECC_CURVE</c> (Part 2 §6.4).</summary>
public enum TpmEccCurve : ushort
{
    None = 0x0000,
    NistP192 = 0x0001,
    NistP224 = 0x0002,
    NistP256 = 0x0003,
    NistP384 = 0x0004,
    NistP521 = 0x0005,
    BnP256 = 0x0010,
    BnP638 = 0x0011,
    Sm2P256 = 0x0020,
}
