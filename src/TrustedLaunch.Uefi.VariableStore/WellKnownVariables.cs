using TrustedLaunch.Uefi.Format;

namespace TrustedLaunch.Uefi.VariableStore;

/// <summary>A variable's identity: vendor GUID and name.</summary>
public readonly record struct VariableKey(Guid VendorGuid, string Name)
{
    public override string ToString() => $"{Name}-{VendorGuid}";
}

/// <summary>The variables Secure Boot reads (UEFI 2.10 §3.3 and §32.6; edk2 SecurityPkg; shim).</summary>
public static class WellKnownVariables
{
    public static readonly VariableKey PK = new(EfiGuids.GlobalVariable, "PK");
    public static readonly VariableKey KEK = new(EfiGuids.GlobalVariable, "KEK");
    public static readonly VariableKey Db = new(EfiGuids.ImageSecurityDatabase, "db");
    public static readonly VariableKey Dbx = new(EfiGuids.ImageSecurityDatabase, "dbx");
    public static readonly VariableKey Dbt = new(EfiGuids.ImageSecurityDatabase, "dbt");
    public static readonly VariableKey MokList = new(EfiGuids.ShimLock, "MokList");
    public static readonly VariableKey MokListX = new(EfiGuids.ShimLock, "MokListX");
    public static readonly VariableKey SecureBootEnable = new(EfiGuids.SecureBootEnable, "SecureBootEnable");
    public static readonly VariableKey CustomMode = new(EfiGuids.CustomMode, "CustomMode");
    public static readonly VariableKey VendorKeysNv = new(EfiGuids.VendorKeysNv, "VendorKeysNv");
    public static readonly VariableKey CertDb = new(EfiGuids.CertDb, "certdb");

    /// <summary>The signature databases, in the order a summary shows them.</summary>
    public static IReadOnlyList<VariableKey> SignatureDatabases { get; } = [PK, KEK, Db, Dbx, Dbt, MokList, MokListX];

    /// <summary>The key for a short name as the CLI spells it (PK, KEK, db, dbx, dbt; case-insensitive), or null.</summary>
    public static VariableKey? FromShortName(string name) => name.ToUpperInvariant() switch
    {
        "PK" => PK,
        "KEK" => KEK,
        "DB" => Db,
        "DBX" => Dbx,
        "DBT" => Dbt,
        _ => null,
    };
}
