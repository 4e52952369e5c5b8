using TrustedLaunch.Attestation.Evidence;

namespace TrustedLaunch.GuestChannel.Tests;

/// <summary>A well-formed bundle for codec tests (its quote is not a real one; the agent tests use real quotes).</summary>
internal static class SampleEvidence
{
    public static AttestationEvidence Create(byte[]? nonce = null) => new()
    {
        Version = AttestationEvidence.CurrentVersion,
        VmId = "5f6e0b1c-4a2d-4c1e-9a0b-123456789abc",
        Nonce = nonce ?? [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
        Tpm = new TpmEvidence
        {
            AkPublic = [0x00, 0x02, 0x00, 0x01],
            AkCertificate = [0x30, 0x03, 0x02, 0x01, 0x01],
            Quote = [0xFF, 0x54, 0x43, 0x47],
            Signature = [0x00, 0x14, 0x00, 0x0B],
            Pcrs = [new PcrBankValues { Bank = "sha256", Values = new Dictionary<int, string> { [0] = new string('a', 64), [14] = new string('0', 64) } }],
        },
        TcgLog = [0, 1, 2, 3],
        Os = new OsIdentity { Id = "debian", VersionId = "12", KernelRelease = "6.1.0-56-amd64" },
        Findings = [new GuestFinding { Kind = GuestFinding.Kinds.ModuleRejected, Module = "ttyprintk", Message = "Loading of unsigned module is rejected", At = DateTimeOffset.UnixEpoch }],
        Agent = new AgentInfo { Version = "1.0.0", CollectedAt = DateTimeOffset.UnixEpoch },
    };
}
