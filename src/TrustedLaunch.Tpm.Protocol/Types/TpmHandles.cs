namespace TrustedLaunch.Tpm.Protocol;

/// <summary>Permanent handles and handle ranges (<c>TPM_RH</c>, <c>TPM_HT</c>; TPM 2.0 Library Part 2 §7).</summary>
public static class TpmHandles
{
    public const uint Owner = 0x40000001;
    public const uint Null = 0x40000007;
    public const uint Unassigned = 0x40000008;
    /// <summary><c>TPM_RS_PW</c>: the password session (Part 2 §7.4).</summary>
    public const uint PasswordSession = 0x40000009;
    public const uint Lockout = 0x4000000A;
    public const uint Endorsement = 0x4000000B;
    public const uint Platform = 0x4000000C;
    public const uint PlatformNv = 0x4000000D;

    /// <summary>The handle-type byte (<c>TPM_HT</c>) is the most significant octet of a handle (Part 2 §7.2).</summary>
    public static byte HandleType(uint handle) => (byte)(handle >> 24);

    public const byte TypePcr = 0x00;
    public const byte TypeNvIndex = 0x01;
    public const byte TypeHmacSession = 0x02;
    public const byte TypePolicySession = 0x03;
    public const byte TypePermanent = 0x40;
    public const byte TypeTransient = 0x80;
    public const byte TypePersistent = 0x81;

    /// <summary>
    /// The Name of an entity whose Name is its handle (PCR, session, permanent): the big-endian handle
    /// (Part 1 §16). Objects and NV indices have digest Names computed from their public area instead.
    /// </summary>
    public static byte[] HandleName(uint handle) =>
        [(byte)(handle >> 24), (byte)(handle >> 16), (byte)(handle >> 8), (byte)handle];

    /// <summary>TCG EK Credential Profile §2.2.1.4 / Provisioning Guidance: well-known persistent and NV locations.</summary>
    public static class WellKnown
    {
        public const uint EkRsaPersistent = 0x81010001;
        public const uint EkEccPersistent = 0x81010002;
        public const uint SrkRsaPersistent = 0x81000001;
        public const uint SrkEccPersistent = 0x81000002;
        /// <summary>Azure Trusted Launch keeps its attestation key here.</summary>
        public const uint AzureAkPersistent = 0x81000003;
        public const uint EkRsaCertificateNv = 0x01C00002;
        public const uint EkRsaTemplateNv = 0x01C00004;
        public const uint EkRsaNonceNv = 0x01C00003;
        public const uint EkEccCertificateNv = 0x01C0000A;
        public const uint EkEccNonceNv = 0x01C0000B;
        public const uint EkEccTemplateNv = 0x01C0000C;
        /// <summary>Azure Trusted Launch AK certificate.</summary>
        public const uint AzureAkCertificateNv = 0x01C101D0;
    }
}
