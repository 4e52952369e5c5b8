using TrustedLaunch.HostAgent.GuestState;
using TrustedLaunch.Runtime.GuestState;
using TrustedLaunch.Testing;
using TrustedLaunch.Uefi.VariableStore;
using TrustedLaunch.Vmgs.Keys;

namespace TrustedLaunch.HostAgent.Tests.GuestState;

/// <summary>A Standard VM's guest state: a UEFI store and its identity, no vTPM; the runtime opens it only when asked not to require one.</summary>
public sealed class GuestStateProvisionerTests
{
    [Fact]
    public void Create_WithoutVTpm_StoreAndIdentityOnly()
    {
        string dir = RepositoryPaths.NewTempDirectory("tl-guest-state");
        string kekPath = Path.Combine(dir, "host.kek");
        string vmgs = Path.Combine(dir, "vm.vmgs");
        var vmId = Guid.NewGuid();
        using (VmgsKeyEncryptionKey kek = VmgsKeyEncryptionKey.Generate(kekPath))
        {
            Assert.Null(GuestStateProvisioner.Create(vmgs, kek, new GuestStateRequest { VmId = vmId, Template = SecureBootTemplate.Empty, WithVTpm = false }, null));
            Assert.Throws<IOException>(() => GuestStateProvisioner.Create(vmgs, kek, new GuestStateRequest { VmId = vmId, Template = SecureBootTemplate.Empty, WithVTpm = false }, null));
        }

        VmgsGuestState state = VmgsGuestState.Open(vmgs, kekPath, requireVTpm: false);
        var refused = Assert.Throws<VmgsGuestStateException>(() => VmgsGuestState.Open(vmgs, kekPath));

        Assert.False(state.HasVTpm);
        Assert.Equal(vmId.ToString(), state.VmId);
        Assert.Equal("empty", state.SecureBootTemplate);
        Assert.Equal(VmgsGuestStateProblem.Incomplete, refused.Problem);
        Assert.Throws<VmgsGuestStateException>(() => state.VTpm());
    }

    [Fact]
    public void Create_VTpmWithoutCa_Refused()
    {
        string dir = RepositoryPaths.NewTempDirectory("tl-guest-state");
        using VmgsKeyEncryptionKey kek = VmgsKeyEncryptionKey.Generate(Path.Combine(dir, "host.kek"));

        Assert.Throws<GuestStateRequestException>(() => GuestStateProvisioner.Create(Path.Combine(dir, "vm.vmgs"), kek,
            new GuestStateRequest { VmId = Guid.NewGuid(), Template = SecureBootTemplate.Microsoft }, null));
        Assert.False(File.Exists(Path.Combine(dir, "vm.vmgs")));
    }

    [Fact]
    public void HostKey_CreatedOnceOwnerOnly_InAFolderOfItsOwn()
    {
        string hostDirectory = Path.Combine(RepositoryPaths.NewTempDirectory("tl-host-key"), "host");

        string first = HostKey.Ensure(hostDirectory);
        byte[] key = File.ReadAllBytes(first);
        string second = HostKey.Ensure(hostDirectory);

        Assert.Equal(first, second);
        Assert.Equal(key, File.ReadAllBytes(second));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(first));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(hostDirectory));
    }
}
