namespace TrustedLaunch.Tpm.Protocol;

/// <summary>
/// A scheme selector with its details, covering <c>TPMT_RSA_SCHEME</c>, <c>TPMT_ECC_SCHEME</c>,
/// <c>TPMT_KEYEDHASH_SCHEME</c>, <c>TPMT_SIG_SCHEME</c> and <c>TPMT_KDF_SCHEME</c> (TPM 2.0 Library Part 2 §11.1–11.2):
/// every one is an algorithm id followed by a hash algorithm unless the scheme is NULL (or RSAES, which has none);
/// ECDAA adds a UINT16 commit count and XOR a KDF.
/// </summary>
public readonly record struct TpmtScheme(TpmAlgId Scheme, TpmAlgId Hash = TpmAlgId.Null, ushort Count = 0, TpmAlgId Kdf = TpmAlgId.Null)
{
    public static TpmtScheme Null => new(TpmAlgId.Null);

    public void Write(TpmWriter writer)
    {
        writer.WriteAlgId(Scheme);
        if (!HasHash(Scheme))
            return;
        writer.WriteAlgId(Hash);
        if (Scheme == TpmAlgId.EcDaa)
            writer.WriteUInt16(Count); // Part 2 §11.2.3.1: TPMS_SCHEME_ECDAA.count
        else if (Scheme == TpmAlgId.Xor)
            writer.WriteAlgId(Kdf);    // Part 2 §11.1.21: TPMS_SCHEME_XOR.kdf
    }

    public static TpmtScheme Read(ref TpmReader reader)
    {
        TpmAlgId scheme = reader.ReadAlgId();
        if (!HasHash(scheme))
            return new TpmtScheme(scheme);
        TpmAlgId hash = reader.ReadAlgId();
        return scheme switch
        {
            TpmAlgId.EcDaa => new TpmtScheme(scheme, hash, Count: reader.ReadUInt16()),
            TpmAlgId.Xor => new TpmtScheme(scheme, hash, Kdf: reader.ReadAlgId()),
            _ => new TpmtScheme(scheme, hash),
        };
    }

    /// <summary>True when the scheme's details start with a hash algorithm; NULL and RSAES carry none.</summary>
    public static bool HasHash(TpmAlgId scheme) => scheme switch
    {
        TpmAlgId.Null or TpmAlgId.RsaEs => false,
        TpmAlgId.RsaSsa or TpmAlgId.RsaPss or TpmAlgId.Oaep or TpmAlgId.EcDsa or TpmAlgId.EcDh or TpmAlgId.EcDaa
            or TpmAlgId.Sm2 or TpmAlgId.EcSchnorr or TpmAlgId.EcMqv or TpmAlgId.Hmac or TpmAlgId.Xor
            or TpmAlgId.Mgf1 or TpmAlgId.Kdf1Sp800_56A or TpmAlgId.Kdf2 or TpmAlgId.Kdf1Sp800_108 => true,
        _ => throw new TpmFormatException($"Undefined scheme 0x{(ushort)scheme:X4}."),
    };
}

/// <summary><c>TPMT_SYM_DEF_OBJECT</c> / <c>TPMT_SYM_DEF</c> (Part 2 §11.1.6–11.1.7).</summary>
public readonly record struct TpmtSymDef(TpmAlgId Algorithm, ushort KeyBits = 0, TpmAlgId Mode = TpmAlgId.Null)
{
    public static TpmtSymDef Null => new(TpmAlgId.Null);

    public static TpmtSymDef Aes128Cfb => new(TpmAlgId.Aes, 128, TpmAlgId.Cfb);

    public static TpmtSymDef Aes256Cfb => new(TpmAlgId.Aes, 256, TpmAlgId.Cfb);

    public void Write(TpmWriter writer)
    {
        writer.WriteAlgId(Algorithm);
        if (Algorithm == TpmAlgId.Null)
            return;
        writer.WriteUInt16(KeyBits); // for XOR this field holds the hash algorithm (TPMU_SYM_KEY_BITS.xor)
        if (Algorithm != TpmAlgId.Xor)
            writer.WriteAlgId(Mode);
    }

    public static TpmtSymDef Read(ref TpmReader reader)
    {
        TpmAlgId alg = reader.ReadAlgId();
        if (alg == TpmAlgId.Null)
            return Null;
        ushort bits = reader.ReadUInt16();
        return alg == TpmAlgId.Xor ? new TpmtSymDef(alg, bits) : new TpmtSymDef(alg, bits, reader.ReadAlgId());
    }
}
