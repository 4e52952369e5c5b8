namespace TrustedLaunch.Uefi.Format;

/// <summary>What an <c>EFI_SIGNATURE_LIST</c>'s SignatureType GUID denotes (UEFI 2.10 §32.4.1).</summary>
public enum EfiSignatureKind
{
    Unknown,
    Sha256,
    Sha1,
    Sha224,
    Sha384,
    Sha512,
    Sm3,
    Rsa2048,
    Rsa2048Sha256,
    Rsa2048Sha1,
    X509,
    X509Sha256,
    X509Sha384,
    X509Sha512,
    X509Sm3,
}

/// <summary>SignatureType GUIDs and the SignatureData size each implies.</summary>
public static class EfiSignatureType
{
    public static readonly Guid Sha256 = new("c1c41626-504c-4092-aca9-41f936934328");
    public static readonly Guid Sha1 = new("826ca512-cf10-4ac9-b187-be01496631bd");
    public static readonly Guid Sha224 = new("0b6e5233-a65c-44c9-9407-d9ab83bfc8bd");
    public static readonly Guid Sha384 = new("ff3e5307-9fd0-48c9-85f1-8ad56c701e01");
    public static readonly Guid Sha512 = new("093e0fae-a6c4-4f50-9f1b-d41e2b89c19a");
    public static readonly Guid Sm3 = new("57347f87-7a9b-403a-b93c-dc4afb7a0ebc");
    public static readonly Guid Rsa2048 = new("3c5766e8-269c-4e34-aa14-ed776e85b3b6");
    public static readonly Guid Rsa2048Sha256 = new("e2b36190-879b-4a3d-ad8d-f2e7bba32784");
    public static readonly Guid Rsa2048Sha1 = new("67f8444f-8743-48f1-a328-1eaab8736080");
    public static readonly Guid X509 = new("a5c059a1-94e4-4aa7-87b5-ab155c2bf072");
    public static readonly Guid X509Sha256 = new("3bd2a492-96c0-4079-b420-fcf98ef103ed");
    public static readonly Guid X509Sha384 = new("7076876e-80c2-4ee6-aad2-28b349a6865b");
    public static readonly Guid X509Sha512 = new("446dbf63-2502-4cda-bcfa-2465d2b0fe9d");
    public static readonly Guid X509Sm3 = new("60d807e5-10b4-49a9-9331-e40437888d37");

    public static EfiSignatureKind KindOf(Guid type)
    {
        if (type == Sha256) return EfiSignatureKind.Sha256;
        if (type == X509) return EfiSignatureKind.X509;
        if (type == Sha1) return EfiSignatureKind.Sha1;
        if (type == Sha224) return EfiSignatureKind.Sha224;
        if (type == Sha384) return EfiSignatureKind.Sha384;
        if (type == Sha512) return EfiSignatureKind.Sha512;
        if (type == Sm3) return EfiSignatureKind.Sm3;
        if (type == Rsa2048) return EfiSignatureKind.Rsa2048;
        if (type == Rsa2048Sha256) return EfiSignatureKind.Rsa2048Sha256;
        if (type == Rsa2048Sha1) return EfiSignatureKind.Rsa2048Sha1;
        if (type == X509Sha256) return EfiSignatureKind.X509Sha256;
        if (type == X509Sha384) return EfiSignatureKind.X509Sha384;
        if (type == X509Sha512) return EfiSignatureKind.X509Sha512;
        if (type == X509Sm3) return EfiSignatureKind.X509Sm3;
        return EfiSignatureKind.Unknown;
    }

    public static Guid GuidOf(EfiSignatureKind kind) => kind switch
    {
        EfiSignatureKind.Sha256 => Sha256,
        EfiSignatureKind.Sha1 => Sha1,
        EfiSignatureKind.Sha224 => Sha224,
        EfiSignatureKind.Sha384 => Sha384,
        EfiSignatureKind.Sha512 => Sha512,
        EfiSignatureKind.Sm3 => Sm3,
        EfiSignatureKind.Rsa2048 => Rsa2048,
        EfiSignatureKind.Rsa2048Sha256 => Rsa2048Sha256,
        EfiSignatureKind.Rsa2048Sha1 => Rsa2048Sha1,
        EfiSignatureKind.X509 => X509,
        EfiSignatureKind.X509Sha256 => X509Sha256,
        EfiSignatureKind.X509Sha384 => X509Sha384,
        EfiSignatureKind.X509Sha512 => X509Sha512,
        EfiSignatureKind.X509Sm3 => X509Sm3,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "No GUID for an unknown signature kind."),
    };

    /// <summary>SignatureData size (without the 16-byte owner) fixed by the type, or null when variable (X.509) or unknown.</summary>
    public static int? FixedDataSize(EfiSignatureKind kind) => kind switch
    {
        EfiSignatureKind.Sha256 => 32,
        EfiSignatureKind.Sha1 => 20,
        EfiSignatureKind.Sha224 => 28,
        EfiSignatureKind.Sha384 => 48,
        EfiSignatureKind.Sha512 => 64,
        EfiSignatureKind.Sm3 => 32,
        EfiSignatureKind.Rsa2048 or EfiSignatureKind.Rsa2048Sha256 or EfiSignatureKind.Rsa2048Sha1 => 256,
        EfiSignatureKind.X509Sha256 => 48,
        EfiSignatureKind.X509Sha384 => 64,
        EfiSignatureKind.X509Sha512 => 80,
        EfiSignatureKind.X509Sm3 => 48,
        _ => null,
    };
}
