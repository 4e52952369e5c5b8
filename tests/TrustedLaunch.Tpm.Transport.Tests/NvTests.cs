using System.Security.Cryptography;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Transport.Tests;

/// <summary>NV define/write/read/readpublic/lock/undefine through the client, read back by tpm2-tools.</summary>
[IntegrationTest]
public sealed class NvTests
{
    private const uint Index = 0x01500017;

    [Fact]
    public void NvWriteAll_CertificateSizedIndexInChunks_ReadBackByClientAndTpm2NvRead()
    {
        using var bed = new TpmTestBed();
        byte[] data = RandomNumberGenerator.GetBytes(1500);
        var pub = new TpmsNvPublic(Index, TpmAlgId.Sha256, TpmaNv.OwnerWrite | TpmaNv.OwnerRead | TpmaNv.AuthRead | TpmaNv.AuthWrite | TpmaNv.NoDA, [], (ushort)data.Length);
        bed.Client.NvDefineSpace(pub);
        bed.Client.NvWriteAll(Index, data, authHandle: TpmHandles.Owner);
        Assert.Equal(data, bed.Client.NvReadAll(Index, authHandle: TpmHandles.Owner));

        var (readPub, name) = bed.Client.NvReadPublic(Index);
        Assert.Equal(pub with { Attributes = pub.Attributes | TpmaNv.Written }, readPub);
        Assert.Equal(readPub.ComputeName(), name);

        bed.Tool("tpm2_nvread", "0x01500017", "-C", "o", "-s", "1500", "-o", "nv.bin");
        Assert.Equal(data, File.ReadAllBytes(bed.PathOf("nv.bin")));
        Assert.Contains("0x1500017", bed.Tool("tpm2_nvreadpublic").StandardOutput, StringComparison.OrdinalIgnoreCase);

        bed.Client.NvUndefineSpace(Index);
        var e = Assert.Throws<TpmResponseException>(() => bed.Client.NvReadPublic(Index));
        Assert.Equal("TPM_RC_HANDLE", e.ResponseCode.Name);
    }

    [Fact]
    public void NvWriteLock_PlatformCertificateIndex_FurtherWritesRefused()
    {
        using var bed = new TpmTestBed();
        // The attributes swtpm_setup gives EK-certificate indices (vtpm.md §3.2), defined with platform authorization.
        const uint certIndex = TpmHandles.WellKnown.EkRsaCertificateNv;
        var pub = new TpmsNvPublic(certIndex, TpmAlgId.Sha256, (TpmaNv)0x42072001, [], 16);
        bed.Client.NvDefineSpace(pub, authHandle: TpmHandles.Platform);
        bed.Client.NvWrite(certIndex, "0123456789abcdef"u8, authHandle: TpmHandles.Platform);
        bed.Client.NvWriteLock(certIndex, authHandle: TpmHandles.Platform);
        var e = Assert.Throws<TpmResponseException>(() => bed.Client.NvWrite(certIndex, "x"u8, authHandle: TpmHandles.Platform));
        Assert.Equal("TPM_RC_NV_LOCKED", e.ResponseCode.Name);
        Assert.Equal("0123456789abcdef"u8.ToArray(), bed.Client.NvRead(certIndex, 16, authHandle: TpmHandles.Owner));
        bed.Tool("tpm2_nvread", "0x1c00002", "-C", "o", "-o", "cert.bin");
        Assert.Equal("0123456789abcdef"u8.ToArray(), File.ReadAllBytes(bed.PathOf("cert.bin")));
    }

    [Fact]
    public void NvReadLock_ReadStClearIndex_ReadsRefusedUntilRestart()
    {
        using var bed = new TpmTestBed();
        var pub = new TpmsNvPublic(Index, TpmAlgId.Sha256, TpmaNv.AuthRead | TpmaNv.AuthWrite | TpmaNv.ReadStClear, [], 4);
        bed.Client.NvDefineSpace(pub);
        bed.Client.NvWrite(Index, [1, 2, 3, 4]);
        bed.Client.NvReadLock(Index);
        Assert.Equal("TPM_RC_NV_LOCKED", Assert.Throws<TpmResponseException>(() => bed.Client.NvRead(Index, 4)).ResponseCode.Name);
        bed.Client.Shutdown();
        bed.Control.Init();
        bed.Client.Startup();
        Assert.Equal([1, 2, 3, 4], bed.Client.NvRead(Index, 4));
    }
}
