namespace TrustedLaunch.Uefi.Format;

/// <summary><c>EFI_VARIABLE_*</c> attribute bits (UEFI 2.10 §8.2, SetVariable).</summary>
[Flags]
public enum EfiVariableAttributes : uint
{
    None = 0,
    NonVolatile = 0x01,
    BootServiceAccess = 0x02,
    RuntimeAccess = 0x04,
    HardwareErrorRecord = 0x08,

    /// <summary>Counter-based authentication; deprecated, edk2 rejects it with EFI_UNSUPPORTED.</summary>
    AuthenticatedWriteAccess = 0x10,
    TimeBasedAuthenticatedWriteAccess = 0x20,

    /// <summary>Only ever passed to SetVariable; never stored in a variable header.</summary>
    AppendWrite = 0x40,
    EnhancedAuthenticatedAccess = 0x80,

    /// <summary>NV|BS|RT|TIME_BASED_AUTHENTICATED_WRITE_ACCESS (0x27): PK, KEK, db, dbx, dbt.</summary>
    SecureBootDatabase = NonVolatile | BootServiceAccess | RuntimeAccess | TimeBasedAuthenticatedWriteAccess,
}
