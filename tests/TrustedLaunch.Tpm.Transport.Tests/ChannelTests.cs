using System.Text.Json;
using TrustedLaunch.Testing.Swtpm;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Protocol.Swtpm;

namespace TrustedLaunch.Tpm.Transport.Tests;

/// <summary>swtpm's control channel, Unix sockets, and the simulator framing, against a real swtpm.</summary>
[IntegrationTest]
public sealed class ChannelTests
{
    [Fact]
    public void ControlChannel_CapabilitiesInfoBufferSize_MatchSwtpm071()
    {
        using var bed = new TpmTestBed();
        var caps = bed.Control.GetCapabilities();
        const SwtpmCapabilities qemuNeeds = SwtpmCapabilities.Init | SwtpmCapabilities.Shutdown | SwtpmCapabilities.GetTpmEstablished
            | SwtpmCapabilities.SetLocality | SwtpmCapabilities.ResetTpmEstablished | SwtpmCapabilities.SetDataFd | SwtpmCapabilities.Stop
            | SwtpmCapabilities.SetBufferSize;
        Assert.Equal(qemuNeeds, caps & qemuNeeds);

        using var info = JsonDocument.Parse(bed.Control.GetInfo(SwtpmInfoSelectors.TpmSpecification | SwtpmInfoSelectors.TpmAttributes));
        Assert.Equal("2.0", info.RootElement.GetProperty("TPMSpecification").GetProperty("family").GetString());
        Assert.Equal("swtpm", info.RootElement.GetProperty("TPMAttributes").GetProperty("model").GetString());

        var (size, min, max) = bed.Control.SetBufferSize(0);
        Assert.True(min <= size && size <= max && max >= 4096, $"{size} {min} {max}");
        Assert.False(bed.Control.GetTpmEstablished());
        bed.Control.SetLocality(0);
        var bad = Assert.Throws<SwtpmControlException>(() => bed.Control.SetLocality(5));
        Assert.Equal(SwtpmResult.BadLocality, bad.Result);
        // SET_BUFFERSIZE with a size is refused while the TPM runs.
        Assert.Equal(SwtpmResult.BadOrdinal, Assert.Throws<SwtpmControlException>(() => bed.Control.SetBufferSize(3968)).Result);
    }

    [Fact]
    public void StateBlobs_SavedStoppedRestored_PcrValuesSurviveWithoutStartup()
    {
        using var bed = new TpmTestBed();
        byte[] digest = System.Security.Cryptography.SHA256.HashData("keep me"u8);
        bed.Client.PcrExtend(16, [new TpmtHa(TpmAlgId.Sha256, digest)]);
        byte[] before = bed.Client.ReadPcrs(TpmlPcrSelection.Of(TpmAlgId.Sha256, 16))[(TpmAlgId.Sha256, 16)];
        var (permanent, _) = bed.Control.GetStateBlob(SwtpmStateBlobType.Permanent);
        var (volatileState, _) = bed.Control.GetStateBlob(SwtpmStateBlobType.Volatile);
        Assert.True(permanent.Length > 1000 && volatileState.Length > 1000, $"{permanent.Length} {volatileState.Length}");

        bed.Control.Stop();
        bed.Control.SetStateBlob(SwtpmStateBlobType.Permanent, permanent);
        bed.Control.SetStateBlob(SwtpmStateBlobType.Volatile, volatileState);
        bed.Control.Init();
        Assert.Equal(before, bed.Client.ReadPcrs(TpmlPcrSelection.Of(TpmAlgId.Sha256, 16))[(TpmAlgId.Sha256, 16)]);
    }

    [Fact]
    public void ControlChannel_StoppedTpm_DataChannelAnswersFatalError()
    {
        using var bed = new TpmTestBed();
        bed.Control.Stop();
        byte[] response = bed.Client.Transport.Execute(new TpmCommandBuilder(TpmCc.GetRandom) { Parameters = { } }.Build());
        var (tag, size, code) = TpmResponse.ReadHeader(response);
        Assert.Equal(TpmSt.NoSessions, tag);
        Assert.Equal(10u, size);
        Assert.Equal("TPM_RC_FAILURE", code.Name);
        bed.Control.Init();
        bed.Client.Startup();
        Assert.Equal(8, bed.Client.GetRandom(8).Length);
        bed.Control.Shutdown();
        Assert.True(SpinWait.SpinUntil(() => bed.Server.HasExited, TimeSpan.FromSeconds(5)), "CMD_SHUTDOWN should end the swtpm process");
    }

    [Fact]
    public void HashStartDataEnd_DrtmSequence_ChangesPcr17()
    {
        using var bed = new TpmTestBed();
        byte[] before = bed.Client.ReadPcrs(TpmlPcrSelection.Of(TpmAlgId.Sha256, 17))[(TpmAlgId.Sha256, 17)];
        bed.Control.SetLocality(4);
        bed.Control.HashStart();
        bed.Control.HashData("dynamic root of trust"u8);
        bed.Control.HashEnd();
        bed.Control.SetLocality(0);
        byte[] after = bed.Client.ReadPcrs(TpmlPcrSelection.Of(TpmAlgId.Sha256, 17))[(TpmAlgId.Sha256, 17)];
        Assert.NotEqual(before, after);
    }

    [Fact]
    public void UnixSockets_DataAndControl_Work()
    {
        using var bed = new TpmTestBed(new SwtpmOptions { UseUnixSockets = true });
        Assert.Equal(16, bed.Client.GetRandom(16).Length);
        Assert.NotEqual(SwtpmCapabilities.None, bed.Control.GetCapabilities());
        Assert.StartsWith("swtpm:path=", bed.Server.Tcti, StringComparison.Ordinal);
        bed.Tool("tpm2_getrandom", "8", "--hex");
    }

    [Fact]
    public void MsSimulatorFraming_OverSwtpmDataChannel_CommandsSucceed()
    {
        using var server = SwtpmProcess.Start();
        using var client = new TpmClient(new MsSimulatorTransport(server.DataEndPoint, platformEndPoint: null));
        Assert.Equal(32, client.GetRandom(32).Length);
        Assert.Equal(24u, client.GetTpmProperties()[TpmPt.PcrCount]);
    }

    [Fact]
    public void TctiSpecification_SwtpmString_OpensWorkingTransport()
    {
        using var server = SwtpmProcess.Start();
        using var client = new TpmClient(TctiSpecification.Open(server.Tcti));
        Assert.Equal(8, client.GetRandom(8).Length);
        Assert.Throws<ArgumentException>(() => TctiSpecification.Open("tabrmd"));
        Assert.Throws<TpmTransportException>(() => TctiSpecification.Open("device:/nonexistent/tpm"));
    }
}
