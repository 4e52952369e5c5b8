namespace TrustedLaunch.Tpm.Protocol;

/// <summary>
/// <c>TPMS_ATTEST</c> (TPM 2.0 Library Part 2 §10.12.12): the structure a TPM signs for Quote, Certify,
/// CertifyCreation, GetTime, GetCommandAuditDigest, GetSessionAuditDigest, NV_Certify.
/// </summary>
public sealed record TpmsAttest
{
    /// <summary><c>TPM_GENERATED_VALUE</c> (Part 2 §6.2): "\xFFTCG", proof the TPM produced this structure.</summary>
    public const uint GeneratedValue = 0xFF544347;

    public required uint Magic { get; init; }
    public required TpmSt Type { get; init; }
    public required byte[] QualifiedSigner { get; init; }
    public required byte[] ExtraData { get; init; }
    public required TpmsClockInfo ClockInfo { get; init; }
    public required ulong FirmwareVersion { get; init; }
    public required TpmuAttest Attested { get; init; }

    public void Write(TpmWriter writer)
    {
        writer.WriteUInt32(Magic);
        writer.WriteUInt16((ushort)Type);
        writer.WriteSized(QualifiedSigner);
        writer.WriteSized(ExtraData);
        ClockInfo.Write(writer);
        writer.WriteUInt64(FirmwareVersion);
        Attested.Write(writer);
    }

    public byte[] ToBytes()
    {
        var w = new TpmWriter(160);
        Write(w);
        return w.ToArray();
    }

    public static TpmsAttest Read(ref TpmReader reader)
    {
        uint magic = reader.ReadUInt32();
        int typeAt = reader.Position;
        var type = (TpmSt)reader.ReadUInt16();
        byte[] signer = reader.ReadSized(TpmsNames.MaxNameSize, "qualifiedSigner").ToArray();
        byte[] extra = reader.ReadSized(TpmlDigest.MaxDigestSize, "extraData").ToArray();
        var clock = TpmsClockInfo.Read(ref reader);
        ulong firmware = reader.ReadUInt64();
        TpmuAttest attested = type switch
        {
            TpmSt.AttestQuote => TpmsQuoteInfo.Read(ref reader),
            TpmSt.AttestCertify => TpmsCertifyInfo.Read(ref reader),
            TpmSt.AttestCreation => TpmsCreationInfo.Read(ref reader),
            TpmSt.AttestTime => TpmsTimeAttestInfo.Read(ref reader),
            TpmSt.AttestCommandAudit => TpmsCommandAuditInfo.Read(ref reader),
            TpmSt.AttestSessionAudit => TpmsSessionAuditInfo.Read(ref reader),
            TpmSt.AttestNv => TpmsNvCertifyInfo.Read(ref reader),
            TpmSt.AttestNvDigest => TpmsNvDigestCertifyInfo.Read(ref reader),
            _ => throw TpmReader.Malformed($"TPMS_ATTEST type 0x{(ushort)type:X4} is not an attestation type.", typeAt),
        };
        return new TpmsAttest
        {
            Magic = magic, Type = type, QualifiedSigner = signer, ExtraData = extra, ClockInfo = clock,
            FirmwareVersion = firmware, Attested = attested,
        };
    }

    /// <summary>Parses a TPMS_ATTEST that must fill <paramref name="bytes"/> exactly.</summary>
    public static TpmsAttest Parse(ReadOnlySpan<byte> bytes)
    {
        var reader = new TpmReader(bytes);
        var value = Read(ref reader);
        reader.ExpectEnd("TPMS_ATTEST");
        return value;
    }
}

/// <summary>Maximum sizes for names (Part 2 §10.5.3: sizeof(TPMU_NAME) = 2 + largest digest, or a 4-byte handle).</summary>
internal static class TpmsNames
{
    public const int MaxNameSize = 2 + TpmlDigest.MaxDigestSize;
}

/// <summary><c>TPMU_ATTEST</c> (Part 2 §10.12.11): the per-type body of a TPMS_ATTEST.</summary>
public abstract record TpmuAttest
{
    public abstract void Write(TpmWriter writer);
}

/// <summary><c>TPMS_QUOTE_INFO</c> (Part 2 §10.12.4).</summary>
public sealed record TpmsQuoteInfo(TpmlPcrSelection PcrSelect, byte[] PcrDigest) : TpmuAttest
{
    public override void Write(TpmWriter writer)
    {
        PcrSelect.Write(writer);
        writer.WriteSized(PcrDigest);
    }

    public static TpmsQuoteInfo Read(ref TpmReader reader) =>
        new(TpmlPcrSelection.Read(ref reader), reader.ReadSized(TpmlDigest.MaxDigestSize, "pcrDigest").ToArray());
}

/// <summary><c>TPMS_CERTIFY_INFO</c> (Part 2 §10.12.3).</summary>
public sealed record TpmsCertifyInfo(byte[] Name, byte[] QualifiedName) : TpmuAttest
{
    public override void Write(TpmWriter writer)
    {
        writer.WriteSized(Name);
        writer.WriteSized(QualifiedName);
    }

    public static TpmsCertifyInfo Read(ref TpmReader reader) =>
        new(reader.ReadSized(TpmsNames.MaxNameSize, "name").ToArray(), reader.ReadSized(TpmsNames.MaxNameSize, "qualifiedName").ToArray());
}

/// <summary><c>TPMS_CREATION_INFO</c> (Part 2 §10.12.7).</summary>
public sealed record TpmsCreationInfo(byte[] ObjectName, byte[] CreationHash) : TpmuAttest
{
    public override void Write(TpmWriter writer)
    {
        writer.WriteSized(ObjectName);
        writer.WriteSized(CreationHash);
    }

    public static TpmsCreationInfo Read(ref TpmReader reader) =>
        new(reader.ReadSized(TpmsNames.MaxNameSize, "objectName").ToArray(), reader.ReadSized(TpmlDigest.MaxDigestSize, "creationHash").ToArray());
}

/// <summary><c>TPMS_TIME_ATTEST_INFO</c> (Part 2 §10.12.2).</summary>
public sealed record TpmsTimeAttestInfo(TpmsTimeInfo Time, ulong FirmwareVersion) : TpmuAttest
{
    public override void Write(TpmWriter writer)
    {
        Time.Write(writer);
        writer.WriteUInt64(FirmwareVersion);
    }

    public static TpmsTimeAttestInfo Read(ref TpmReader reader) => new(TpmsTimeInfo.Read(ref reader), reader.ReadUInt64());
}

/// <summary><c>TPMS_COMMAND_AUDIT_INFO</c> (Part 2 §10.12.5).</summary>
public sealed record TpmsCommandAuditInfo(ulong AuditCounter, TpmAlgId DigestAlg, byte[] AuditDigest, byte[] CommandDigest) : TpmuAttest
{
    public override void Write(TpmWriter writer)
    {
        writer.WriteUInt64(AuditCounter);
        writer.WriteAlgId(DigestAlg);
        writer.WriteSized(AuditDigest);
        writer.WriteSized(CommandDigest);
    }

    public static TpmsCommandAuditInfo Read(ref TpmReader reader) =>
        new(reader.ReadUInt64(), reader.ReadAlgId(), reader.ReadSized(TpmlDigest.MaxDigestSize, "auditDigest").ToArray(),
            reader.ReadSized(TpmlDigest.MaxDigestSize, "commandDigest").ToArray());
}

/// <summary><c>TPMS_SESSION_AUDIT_INFO</c> (Part 2 §10.12.6).</summary>
public sealed record TpmsSessionAuditInfo(bool ExclusiveSession, byte[] SessionDigest) : TpmuAttest
{
    public override void Write(TpmWriter writer)
    {
        writer.WriteYesNo(ExclusiveSession);
        writer.WriteSized(SessionDigest);
    }

    public static TpmsSessionAuditInfo Read(ref TpmReader reader) =>
        new(reader.ReadYesNo(), reader.ReadSized(TpmlDigest.MaxDigestSize, "sessionDigest").ToArray());
}

/// <summary><c>TPMS_NV_CERTIFY_INFO</c> (Part 2 §10.12.8).</summary>
public sealed record TpmsNvCertifyInfo(byte[] IndexName, ushort Offset, byte[] NvContents) : TpmuAttest
{
    /// <summary>MAX_NV_BUFFER_SIZE bound for hostile input.</summary>
    public const int MaxNvBuffer = 2048;

    public override void Write(TpmWriter writer)
    {
        writer.WriteSized(IndexName);
        writer.WriteUInt16(Offset);
        writer.WriteSized(NvContents);
    }

    public static TpmsNvCertifyInfo Read(ref TpmReader reader) =>
        new(reader.ReadSized(TpmsNames.MaxNameSize, "indexName").ToArray(), reader.ReadUInt16(),
            reader.ReadSized(MaxNvBuffer, "nvContents").ToArray());
}

/// <summary><c>TPMS_NV_DIGEST_CERTIFY_INFO</c> (Part 2 §10.12.9).</summary>
public sealed record TpmsNvDigestCertifyInfo(byte[] IndexName, byte[] NvDigest) : TpmuAttest
{
    public override void Write(TpmWriter writer)
    {
        writer.WriteSized(IndexName);
        writer.WriteSized(NvDigest);
    }

    public static TpmsNvDigestCertifyInfo Read(ref TpmReader reader) =>
        new(reader.ReadSized(TpmsNames.MaxNameSize, "indexName").ToArray(), reader.ReadSized(TpmlDigest.MaxDigestSize, "nvDigest").ToArray());
}
