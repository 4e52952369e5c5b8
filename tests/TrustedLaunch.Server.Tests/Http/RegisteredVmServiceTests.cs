using TrustedLaunch.Attestation.Tests.Fixtures;

namespace TrustedLaunch.Server.Tests.Http;

/// <summary>
/// Base of the HTTP test classes that attest the genuine-evidence VM: every test gets a fresh service (its own data
/// folder, Kestrel on a free loopback port) trusting the factory's platform CA, with the factory's VM registered.
/// </summary>
public abstract class RegisteredVmServiceTests(GenuineEvidenceFactory factory) : IAsyncLifetime
{
    protected GenuineEvidenceFactory Factory => factory;

    protected ServiceUnderTest Service { get; private set; } = null!;

    protected Guid VmId => factory.VmId;

    public async Task InitializeAsync()
    {
        Service = await ServiceUnderTest.StartAsync(factory.CaDirectory);
        await Service.RegisterAsync(VmId);
    }

    public async Task DisposeAsync() => await Service.DisposeAsync();
}
