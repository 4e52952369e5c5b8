namespace TrustedLaunch.Uefi.Format;

/// <summary>Well-known EFI GUIDs. EFI_GUID byte order equals <see cref="Guid(ReadOnlySpan{byte})"/>.</summary>
public static class EfiGuids
{
    /// <summary>EFI_GLOBAL_VARIABLE (UEFI 2.10 §3.3): PK, KEK, SecureBoot, BootXXXX, …</summary>
    public static readonly Guid GlobalVariable = new("8be4df61-93ca-11d2-aa0d-00e098032b8c");

    /// <summary>EFI_IMAGE_SECURITY_DATABASE_GUID (UEFI 2.10 §32.6.1): db, dbx, dbt, dbr.</summary>
    public static readonly Guid ImageSecurityDatabase = new("d719b2cb-3d3a-4596-a3bc-dad00e67656f");

    /// <summary>shim's SHIM_LOCK_GUID: MokList, MokListX, SbatLevel, MokListTrusted.</summary>
    public static readonly Guid ShimLock = new("605dab50-e046-4300-abb6-3dd810dd8b23");

    /// <summary>edk2 SecureBootEnable variable vendor GUID.</summary>
    public static readonly Guid SecureBootEnable = new("f0a30bc7-af08-4556-99c4-001009c93a44");

    /// <summary>edk2 CustomMode variable vendor GUID.</summary>
    public static readonly Guid CustomMode = new("c076ec0c-7028-4399-a072-71ee5c448b9f");

    /// <summary>Microsoft's signature-owner GUID in db/KEK entries.</summary>
    public static readonly Guid MicrosoftOwner = new("77fa9abd-0359-4d32-bd60-28f4e78f784b");

    /// <summary>EFI_CERT_TYPE_PKCS7_GUID: WIN_CERTIFICATE_UEFI_GUID.CertType of time-based authenticated writes.</summary>
    public static readonly Guid CertTypePkcs7 = new("4aafd29d-68df-49ee-8aa9-347d375665a7");

    /// <summary>gEfiSystemNvDataFvGuid: FileSystemGuid of the firmware volume that holds the NV variable store.</summary>
    public static readonly Guid SystemNvDataFv = new("fff12b8d-7696-4c8b-a985-2747075b4f50");

    /// <summary>gEfiAuthenticatedVariableGuid: VARIABLE_STORE_HEADER signature of a store of AUTHENTICATED_VARIABLE_HEADERs.</summary>
    public static readonly Guid AuthenticatedVariableStore = new("aaf32c78-947b-439a-a180-2e144ec37792");

    /// <summary>gEfiVariableGuid: VARIABLE_STORE_HEADER signature of a store of plain 32-byte VARIABLE_HEADERs.</summary>
    public static readonly Guid VariableStore = new("ddcf3616-3275-4164-98b6-fe85707ffe7d");

    /// <summary>gEdkiiWorkingBlockSignatureGuid: signature of the fault-tolerant-write working block header.</summary>
    public static readonly Guid FtwWorkingBlockSignature = new("9e58292b-7c68-497d-a0ce-6500fd9f1b95");

    /// <summary>gEfiVendorKeysNvGuid: the edk2 VendorKeysNv variable (1 = platform vendor's default keys).</summary>
    public static readonly Guid VendorKeysNv = new("9073e4e0-60ec-4b6e-9903-4c223c260f3c");

    /// <summary>gEfiCertDbGuid: the edk2 certdb/certdbv variables (signers of private authenticated variables).</summary>
    public static readonly Guid CertDb = new("d9bee56e-75dc-49d9-b4d7-b534210f637a");

    /// <summary>FILE_GUID of OVMF EnrollDefaultKeys; owner of the placeholder dbx entry and of enrolled non-Microsoft keys.</summary>
    public static readonly Guid OvmfEnrollDefaultKeys = new("a0baa8a3-041d-48a8-bc87-c36d121b5e3d");
}
