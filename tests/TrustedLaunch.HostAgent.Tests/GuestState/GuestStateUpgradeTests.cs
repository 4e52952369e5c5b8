using TrustedLaunch.HostAgent.GuestState;
using TrustedLaunch.Runtime.GuestState;
using TrustedLaunch.Testing;
using TrustedLaunch.Uefi.VariableStore;
using TrustedLaunch.VTpm.Identity;
using TrustedLaunch.Vmgs.Keys;

namespace TrustedLaunch.HostAgent.Tests.GuestState;

/// <summary>
/// The guest state a scale set's instances and an upgraded VM get, with libtpms: instances made at once each get their own
/// freshly manufactured vTPM; a Standard VM's VMGS gains Secure Boot keys and a vTPM in place, and one that has a vTPM keeps it.
/// </summary>
[IntegrationTest]
public sealed class GuestStateUpgradeTests
{
    private static readonly Lazy<IPlatformCa> Ca = new(() =>
        FilePlatformCa.Create(Path.Combine(RepositoryPaths.NewTempDirectory("tl-guest-state-ca"), "pki"), "TrustedLaunch Guest State Test"));

    [Fact]
    public async Task Create_ThreeAtOnce_ThreeDistinctVTpms()
    {
        string dir = RepositoryPaths.NewTempDirectory("tl-guest-state");
        using VmgsKeyEncryptionKey kek = VmgsKeyEncryptionKey.Generate(Path.Combine(dir, "host.kek"));
        Guid[] ids = [Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid()];

        VTpmIdentity?[] made = await Task.WhenAll(ids.Select(id => Task.Run(() => GuestStateProvisioner.Create(Path.Combine(dir, $"{id}.vmgs"), kek,
            new GuestStateRequest { VmId = id, Template = SecureBootTemplate.Microsoft }, Ca.Value))));

        Assert.All(made, Assert.NotNull);
        Assert.Equal(3, made.Select(m => m!.Keys.Single(k => k.Role == "ek-rsa2048").PublicKeyPem).Distinct().Count());
        Assert.Equal(3, made.Select(m => m!.Keys.Single(k => k.Role.StartsWith("ak", StringComparison.Ordinal)).CertificatePem).Distinct().Count());
    }

    [Fact]
    public void UpgradeToTrustedLaunch_StandardVmgsGainsKeysAndAVTpm_ThenKeepsIt()
    {
        string dir = RepositoryPaths.NewTempDirectory("tl-guest-state");
        string kekPath = Path.Combine(dir, "host.kek");
        string vmgs = Path.Combine(dir, "vm.vmgs");
        var vmId = Guid.NewGuid();
        using VmgsKeyEncryptionKey kek = VmgsKeyEncryptionKey.Generate(kekPath);
        GuestStateProvisioner.Create(vmgs, kek, new GuestStateRequest { VmId = vmId, Template = SecureBootTemplate.Empty, WithVTpm = false }, null);
        var request = new GuestStateRequest { VmId = vmId, Template = SecureBootTemplate.Microsoft };

        VTpmIdentity? upgraded = GuestStateProvisioner.UpgradeToTrustedLaunch(vmgs, kek, request, Ca.Value);
        byte[] after = File.ReadAllBytes(vmgs);
        VTpmIdentity? again = GuestStateProvisioner.UpgradeToTrustedLaunch(vmgs, kek, request, Ca.Value);

        Assert.NotNull(upgraded);
        Assert.Null(again); // a VMGS with a vTPM (rolled back and forward) keeps it
        Assert.Equal(after, File.ReadAllBytes(vmgs));
        VmgsGuestState state = VmgsGuestState.Open(vmgs, kekPath);
        Assert.True(state.HasVTpm);
        Assert.Equal("microsoft", state.SecureBootTemplate);
        Assert.Equal(vmId.ToString(), state.VmId);
    }
}
