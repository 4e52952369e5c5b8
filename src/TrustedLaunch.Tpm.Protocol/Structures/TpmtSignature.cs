namespace TrustedLaunch.Tpm.Protocol;

/// <summary>
/// <c>TPMT_SIGNATURE</c> (TPM 2.0 Library Part 2 §11.3.4). RSA schemes carry one TPM2B; ECC schemes carry R and S;
/// HMAC carries a TPMT_HA; NULL carries nothing.
/// </summary>
public sealed record TpmtSignature(TpmAlgId SigAlg, TpmAlgId Hash, byte[] Signature, byte[] SignatureS)
{
    public static TpmtSignature Rsa(TpmAlgId scheme, TpmAlgId hash, byte[] signature) => new(scheme, hash, signature, []);

    public static TpmtSignature Ecc(TpmAlgId scheme, TpmAlgId hash, byte[] r, byte[] s) => new(scheme, hash, r, s);

    public bool IsRsa => SigAlg is TpmAlgId.RsaSsa or TpmAlgId.RsaPss;

    public bool IsEcc => SigAlg is TpmAlgId.EcDsa or TpmAlgId.EcDaa or TpmAlgId.Sm2 or TpmAlgId.EcSchnorr;

    /// <summary>ECC R (alias of <see cref="Signature"/>).</summary>
    public byte[] SignatureR => Signature;

    public void Write(TpmWriter writer)
    {
        writer.WriteAlgId(SigAlg);
        if (SigAlg == TpmAlgId.Null)
            return;
        writer.WriteAlgId(Hash);
        if (IsRsa)
        {
            writer.WriteSized(Signature);
        }
        else if (IsEcc)
        {
            writer.WriteSized(Signature);
            writer.WriteSized(SignatureS);
        }
        else if (SigAlg == TpmAlgId.Hmac)
        {
            writer.WriteBytes(Signature);
        }
        else
        {
            throw new InvalidOperationException($"Cannot marshal signature scheme 0x{(ushort)SigAlg:X4}.");
        }
    }

    public byte[] ToBytes()
    {
        var w = new TpmWriter(Signature.Length + SignatureS.Length + 16);
        Write(w);
        return w.ToArray();
    }

    public static TpmtSignature Read(ref TpmReader reader)
    {
        int at = reader.Position;
        TpmAlgId sigAlg = reader.ReadAlgId();
        if (sigAlg == TpmAlgId.Null)
            return new TpmtSignature(sigAlg, TpmAlgId.Null, [], []);
        TpmAlgId hash = reader.ReadAlgId();
        switch (sigAlg)
        {
            case TpmAlgId.RsaSsa or TpmAlgId.RsaPss: // TPMS_SIGNATURE_RSA
                return new TpmtSignature(sigAlg, hash, reader.ReadSized(TpmtPublic.MaxRsaKeyBytes, "RSA signature").ToArray(), []);
            case TpmAlgId.EcDsa or TpmAlgId.EcDaa or TpmAlgId.Sm2 or TpmAlgId.EcSchnorr: // TPMS_SIGNATURE_ECC
                byte[] r = reader.ReadSized(TpmtPublic.MaxEccKeyBytes, "ECC signature R").ToArray();
                byte[] s = reader.ReadSized(TpmtPublic.MaxEccKeyBytes, "ECC signature S").ToArray();
                return new TpmtSignature(sigAlg, hash, r, s);
            case TpmAlgId.Hmac: // TPMT_HA: the hash selector was just read, the digest follows
                int size = TpmHashAlgorithm.DigestSize(hash);
                if (size == 0)
                    throw TpmReader.Malformed($"HMAC signature hash 0x{(ushort)hash:X4} is not a hash.", at + 2);
                return new TpmtSignature(sigAlg, hash, reader.ReadBytes(size).ToArray(), []);
            default:
                throw TpmReader.Malformed($"Signature scheme 0x{(ushort)sigAlg:X4} is not defined.", at);
        }
    }

    public static TpmtSignature Parse(ReadOnlySpan<byte> bytes)
    {
        var reader = new TpmReader(bytes);
        var value = Read(ref reader);
        reader.ExpectEnd("TPMT_SIGNATURE");
        return value;
    }

    public bool Equals(TpmtSignature? other) =>
        other is not null && SigAlg == other.SigAlg && Hash == other.Hash &&
        Signature.AsSpan().SequenceEqual(other.Signature) && SignatureS.AsSpan().SequenceEqual(other.SignatureS);

    public override int GetHashCode() => HashCode.Combine(SigAlg, Hash, Signature.Length);
}
