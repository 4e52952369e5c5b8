using System.Security.Cryptography;

namespace TrustedLaunch.Tpm.Protocol;

/// <summary>
/// <c>TPMT_PUBLIC</c> (TPM 2.0 Library Part 2 §12.2.4) for RSA, ECC, KEYEDHASH and SYMCIPHER objects. The
/// <c>TPMU_PUBLIC_PARMS</c>/<c>TPMU_PUBLIC_ID</c> unions are flattened: the fields that apply follow <see cref="Type"/>.
/// </summary>
public sealed record TpmtPublic
{
    public const int MaxRsaKeyBytes = 512;  // MAX_RSA_KEY_BYTES for RSA-4096
    public const int MaxEccKeyBytes = 66;   // MAX_ECC_KEY_BYTES for P-521
    public const int MaxDigestBytes = 64;

    public required TpmAlgId Type { get; init; }
    public required TpmAlgId NameAlg { get; init; }
    public required TpmaObject ObjectAttributes { get; init; }
    public byte[] AuthPolicy { get; init; } = [];

    /// <summary>Symmetric algorithm of a storage key or SYMCIPHER object; NULL otherwise.</summary>
    public TpmtSymDef Symmetric { get; init; } = TpmtSymDef.Null;

    /// <summary>RSA, ECC or KEYEDHASH scheme.</summary>
    public TpmtScheme Scheme { get; init; } = TpmtScheme.Null;

    public ushort RsaKeyBits { get; init; }

    /// <summary>The RSA public exponent; 0 means the default 65537 (Part 2 §12.2.3.5).</summary>
    public uint RsaExponent { get; init; }

    public TpmEccCurve EccCurve { get; init; }
    public TpmtScheme EccKdf { get; init; } = TpmtScheme.Null;

    /// <summary>RSA modulus, ECC x coordinate, or KEYEDHASH/SYMCIPHER unique digest.</summary>
    public byte[] Unique { get; init; } = [];

    /// <summary>ECC y coordinate.</summary>
    public byte[] UniqueY { get; init; } = [];

    public void Write(TpmWriter writer)
    {
        writer.WriteAlgId(Type);
        writer.WriteAlgId(NameAlg);
        writer.WriteUInt32((uint)ObjectAttributes);
        writer.WriteSized(AuthPolicy);
        switch (Type)
        {
            case TpmAlgId.Rsa: // TPMS_RSA_PARMS then TPM2B_PUBLIC_KEY_RSA
                Symmetric.Write(writer);
                Scheme.Write(writer);
                writer.WriteUInt16(RsaKeyBits);
                writer.WriteUInt32(RsaExponent);
                writer.WriteSized(Unique);
                break;
            case TpmAlgId.Ecc: // TPMS_ECC_PARMS then TPMS_ECC_POINT
                Symmetric.Write(writer);
                Scheme.Write(writer);
                writer.WriteUInt16((ushort)EccCurve);
                EccKdf.Write(writer);
                writer.WriteSized(Unique);
                writer.WriteSized(UniqueY);
                break;
            case TpmAlgId.KeyedHash: // TPMS_KEYEDHASH_PARMS then TPM2B_DIGEST
                Scheme.Write(writer);
                writer.WriteSized(Unique);
                break;
            case TpmAlgId.SymCipher: // TPMS_SYMCIPHER_PARMS then TPM2B_DIGEST
                Symmetric.Write(writer);
                writer.WriteSized(Unique);
                break;
            default:
                throw new InvalidOperationException($"Cannot marshal a TPMT_PUBLIC of type 0x{(ushort)Type:X4}.");
        }
    }

    public byte[] ToBytes()
    {
        var w = new TpmWriter(Unique.Length + UniqueY.Length + 64);
        Write(w);
        return w.ToArray();
    }

    /// <summary>Writes a <c>TPM2B_PUBLIC</c>: the size, then this structure.</summary>
    public void WriteSized(TpmWriter writer)
    {
        int mark = writer.BeginSized();
        Write(writer);
        writer.EndSized(mark);
    }

    public static TpmtPublic Read(ref TpmReader reader)
    {
        int at = reader.Position;
        TpmAlgId type = reader.ReadAlgId();
        TpmAlgId nameAlg = reader.ReadAlgId();
        if (TpmHashAlgorithm.DigestSize(nameAlg) == 0 && nameAlg != TpmAlgId.Null)
            throw TpmReader.Malformed($"TPMT_PUBLIC nameAlg 0x{(ushort)nameAlg:X4} is not a hash.", at + 2);
        var attributes = (TpmaObject)reader.ReadUInt32();
        byte[] policy = reader.ReadSized(MaxDigestBytes, "authPolicy").ToArray();
        try
        {
            return type switch
            {
                TpmAlgId.Rsa => new TpmtPublic
                {
                    Type = type, NameAlg = nameAlg, ObjectAttributes = attributes, AuthPolicy = policy,
                    Symmetric = TpmtSymDef.Read(ref reader), Scheme = TpmtScheme.Read(ref reader),
                    RsaKeyBits = reader.ReadUInt16(), RsaExponent = reader.ReadUInt32(),
                    Unique = reader.ReadSized(MaxRsaKeyBytes, "RSA modulus").ToArray(),
                },
                TpmAlgId.Ecc => new TpmtPublic
                {
                    Type = type, NameAlg = nameAlg, ObjectAttributes = attributes, AuthPolicy = policy,
                    Symmetric = TpmtSymDef.Read(ref reader), Scheme = TpmtScheme.Read(ref reader),
                    EccCurve = (TpmEccCurve)reader.ReadUInt16(), EccKdf = TpmtScheme.Read(ref reader),
                    Unique = reader.ReadSized(MaxEccKeyBytes, "ECC x").ToArray(),
                    UniqueY = reader.ReadSized(MaxEccKeyBytes, "ECC y").ToArray(),
                },
                TpmAlgId.KeyedHash => new TpmtPublic
                {
                    Type = type, NameAlg = nameAlg, ObjectAttributes = attributes, AuthPolicy = policy,
                    Scheme = TpmtScheme.Read(ref reader), Unique = reader.ReadSized(MaxDigestBytes, "unique").ToArray(),
                },
                TpmAlgId.SymCipher => new TpmtPublic
                {
                    Type = type, NameAlg = nameAlg, ObjectAttributes = attributes, AuthPolicy = policy,
                    Symmetric = TpmtSymDef.Read(ref reader), Unique = reader.ReadSized(MaxDigestBytes, "unique").ToArray(),
                },
                _ => throw TpmReader.Malformed($"TPMT_PUBLIC type 0x{(ushort)type:X4} is not RSA, ECC, KEYEDHASH or SYMCIPHER.", at),
            };
        }
        catch (TpmFormatException e) when (e.Offset < 0)
        {
            throw TpmReader.Malformed(e.Message, reader.Position);
        }
    }

    /// <summary>Parses a bare <c>TPMT_PUBLIC</c> that must fill <paramref name="bytes"/> exactly.</summary>
    public static TpmtPublic Parse(ReadOnlySpan<byte> bytes)
    {
        var reader = new TpmReader(bytes);
        var value = Read(ref reader);
        reader.ExpectEnd("TPMT_PUBLIC");
        return value;
    }

    /// <summary>Reads a <c>TPM2B_PUBLIC</c>; returns the structure and its exact marshalled bytes (which the Name hashes).</summary>
    public static TpmtPublic ReadSized(ref TpmReader reader, out byte[] marshalled)
    {
        int at = reader.Position;
        ReadOnlySpan<byte> inner = reader.ReadSized();
        if (inner.IsEmpty)
            throw TpmReader.Malformed("TPM2B_PUBLIC is empty.", at);
        marshalled = inner.ToArray();
        return Parse(inner);
    }

    /// <summary>Parses either a TPM2B_PUBLIC (as tpm2-tools writes) or a bare TPMT_PUBLIC (as go-tpm writes).</summary>
    public static TpmtPublic ParseEither(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= 2 && ((bytes[0] << 8) | bytes[1]) == bytes.Length - 2)
        {
            var reader = new TpmReader(bytes);
            return ReadSized(ref reader, out _);
        }

        return Parse(bytes);
    }

    /// <summary>The object's Name: nameAlg (UINT16) ‖ H_nameAlg(marshalled TPMT_PUBLIC) (Part 1 §16).</summary>
    public byte[] ComputeName() => ComputeName(NameAlg, ToBytes());

    /// <summary>The Name over already-marshalled bytes, e.g. as returned by the TPM.</summary>
    public static byte[] ComputeName(TpmAlgId nameAlg, ReadOnlySpan<byte> marshalledPublic)
    {
        // nameAlg is read from the wire: TPM_ALG_NULL, SM3 or any other value parses, but no Name can be computed.
        if (!TpmHashAlgorithm.IsComputable(nameAlg))
            throw new TpmFormatException($"nameAlg 0x{(ushort)nameAlg:X4} is not a hash this implementation computes Names with.");
        int size = TpmHashAlgorithm.DigestSize(nameAlg);
        var name = new byte[2 + size];
        name[0] = (byte)((ushort)nameAlg >> 8);
        name[1] = (byte)nameAlg;
        TpmHashAlgorithm.Hash(nameAlg, marshalledPublic, name.AsSpan(2));
        return name;
    }

    /// <summary>The public key as a BCL RSA object (RSA keys only).</summary>
    public RSA ToRsa()
    {
        if (Type != TpmAlgId.Rsa || Unique.Length == 0)
            throw new InvalidOperationException("Not an RSA public key with a modulus.");
        uint e = RsaExponent == 0 ? 65537u : RsaExponent;
        byte[] exponent = e <= 0xFFFFFF ? [(byte)(e >> 16), (byte)(e >> 8), (byte)e] : [(byte)(e >> 24), (byte)(e >> 16), (byte)(e >> 8), (byte)e];
        return RSA.Create(new RSAParameters { Modulus = Unique, Exponent = exponent.SkipWhile(b => b == 0).ToArray() });
    }

    /// <summary>The public key as a BCL ECDsa object (ECC keys on NIST curves only).</summary>
    public ECDsa ToECDsa() => ECDsa.Create(ToEcParameters());

    public ECParameters ToEcParameters()
    {
        if (Type != TpmAlgId.Ecc)
            throw new InvalidOperationException("Not an ECC public key.");
        ECCurve curve = ToEcCurve(EccCurve);
        int size = CoordinateSize(EccCurve);
        return new ECParameters { Curve = curve, Q = new ECPoint { X = LeftPad(Unique, size), Y = LeftPad(UniqueY, size) } };
    }

    public static ECCurve ToEcCurve(TpmEccCurve curve) => curve switch
    {
        TpmEccCurve.NistP256 => ECCurve.NamedCurves.nistP256,
        TpmEccCurve.NistP384 => ECCurve.NamedCurves.nistP384,
        TpmEccCurve.NistP521 => ECCurve.NamedCurves.nistP521,
        _ => throw new NotSupportedException($"ECC curve 0x{(ushort)curve:X4} is not supported by this verifier."),
    };

    /// <summary>Bytes per coordinate of <paramref name="curve"/>.</summary>
    public static int CoordinateSize(TpmEccCurve curve) => curve switch
    {
        TpmEccCurve.NistP192 => 24,
        TpmEccCurve.NistP224 => 28,
        TpmEccCurve.NistP256 or TpmEccCurve.BnP256 or TpmEccCurve.Sm2P256 => 32,
        TpmEccCurve.NistP384 => 48,
        TpmEccCurve.NistP521 => 66,
        TpmEccCurve.BnP638 => 80,
        _ => 0,
    };

    /// <summary>A signing-key public area for a BCL public key (PEM input): nameAlg SHA-256, sign attribute, given scheme.</summary>
    public static TpmtPublic FromPublicKey(AsymmetricAlgorithm key, TpmtScheme scheme)
    {
        const TpmaObject attrs = TpmaObject.Sign | TpmaObject.UserWithAuth;
        switch (key)
        {
            case RSA rsa:
            {
                RSAParameters p = rsa.ExportParameters(false);
                uint e = p.Exponent!.Aggregate(0u, (acc, b) => (acc << 8) | b);
                return new TpmtPublic
                {
                    Type = TpmAlgId.Rsa, NameAlg = TpmAlgId.Sha256, ObjectAttributes = attrs, Scheme = scheme,
                    RsaKeyBits = (ushort)(p.Modulus!.Length * 8), RsaExponent = e == 65537 ? 0 : e, Unique = p.Modulus,
                };
            }
            case ECDsa ecdsa:
            {
                ECParameters p = ecdsa.ExportParameters(false);
                TpmEccCurve curve = p.Curve.Oid.FriendlyName switch
                {
                    "nistP256" or "ECDSA_P256" => TpmEccCurve.NistP256,
                    "nistP384" or "ECDSA_P384" => TpmEccCurve.NistP384,
                    "nistP521" or "ECDSA_P521" => TpmEccCurve.NistP521,
                    _ => p.Curve.Oid.Value switch
                    {
                        "1.2.840.10045.3.1.7" => TpmEccCurve.NistP256,
                        "1.3.132.0.34" => TpmEccCurve.NistP384,
                        "1.3.132.0.35" => TpmEccCurve.NistP521,
                        _ => throw new NotSupportedException($"Curve {p.Curve.Oid.FriendlyName ?? p.Curve.Oid.Value} is not supported."),
                    },
                };
                return new TpmtPublic
                {
                    Type = TpmAlgId.Ecc, NameAlg = TpmAlgId.Sha256, ObjectAttributes = attrs, Scheme = scheme,
                    EccCurve = curve, Unique = p.Q.X!, UniqueY = p.Q.Y!,
                };
            }
            default:
                throw new NotSupportedException($"Key type {key.GetType().Name} is not RSA or ECDSA.");
        }
    }

    /// <summary>A big-endian coordinate as exactly <paramref name="size"/> bytes (a TPM2B may drop leading zeros, or carry extra ones).</summary>
    /// <exception cref="CryptographicException">The value does not fit <paramref name="size"/> bytes.</exception>
    public static byte[] LeftPad(byte[] value, int size)
    {
        if (value.Length == size)
            return value;
        if (value.Length > size)
        {
            int skip = value.Length - size;
            if (value.AsSpan(0, skip).ContainsAnyExcept((byte)0))
                throw new CryptographicException($"Coordinate of {value.Length} bytes does not fit the curve's {size}.");
            return value[skip..];
        }

        var padded = new byte[size];
        value.CopyTo(padded, size - value.Length);
        return padded;
    }

    public bool Equals(TpmtPublic? other) => other is not null && ToBytes().AsSpan().SequenceEqual(other.ToBytes());

    public override int GetHashCode() => HashCode.Combine(Type, NameAlg, ObjectAttributes, Unique.Length);
}
