using System.Data.Common;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Stores;

/// <summary>Named policies and the VMs' references to them: a VM never names a policy that is not stored.</summary>
public abstract class PolicyStoreTests(StoreEngine engine) : StoreTests(engine)
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 10, 0, 0, TimeSpan.Zero);

    private SqlPolicyStore Policies => new(Database);

    private SqlVmRegistry Vms => new(Database);

    [Fact]
    public async Task SaveAsync_NewThenSameName_CreatedThenReplaced()
    {
        var first = new StoredPolicy("debian12", "{\"name\":\"debian12\"}", T0);
        var second = new StoredPolicy("debian12", "{\"name\":\"debian12\",\"allowKernelDebug\":false}", T0.AddMinutes(1));

        Assert.Equal(PolicyWrite.Created, await Policies.SaveAsync(first, default));
        Assert.Equal(first, await Policies.GetAsync("debian12", default));
        Assert.Equal(PolicyWrite.Replaced, await Policies.SaveAsync(second, default));
        Assert.Equal(second, await Policies.GetAsync("debian12", default));
        Assert.Null(await Policies.GetAsync("Debian12", default));
    }

    [Fact]
    public async Task ListAsync_ByName()
    {
        var b = new StoredPolicy("b", "{}", T0);
        var a = new StoredPolicy("a", "{}", T0.AddSeconds(1));
        await Policies.SaveAsync(b, default);
        await Policies.SaveAsync(a, default);

        Assert.Equal([a, b], await Policies.ListAsync(default));
    }

    [Fact]
    public async Task RemoveAsync_InUseUntilTheVmMovesOn_ThenRemovedThenNotFound()
    {
        var vm = Guid.NewGuid();
        await Policies.SaveAsync(new StoredPolicy("strict", "{}", T0), default);
        Assert.True(await Vms.RegisterAsync(new RegisteredVm(vm, null, T0, "strict"), default));

        Assert.Equal(PolicyRemoval.InUse, await Policies.RemoveAsync("strict", default));
        Assert.NotNull(await Policies.GetAsync("strict", default));
        Assert.Equal(PolicyAssignment.Assigned, await Vms.SetPolicyAsync(vm, null, default));
        Assert.Equal(PolicyRemoval.Removed, await Policies.RemoveAsync("strict", default));
        Assert.Equal(PolicyRemoval.NotFound, await Policies.RemoveAsync("strict", default));
    }

    [Fact]
    public async Task RegisterAsync_UnknownPolicy_FalseAndNothingWritten()
    {
        var vm = new RegisteredVm(Guid.NewGuid(), null, T0);
        Assert.True(await Vms.RegisterAsync(vm, default));

        Assert.False(await Vms.RegisterAsync(vm with { PolicyName = "absent", AkCaCertificatesPem = "pem" }, default));
        Assert.False(await Vms.RegisterAsync(new RegisteredVm(Guid.NewGuid(), null, T0, "absent"), default));

        Assert.Equal([vm], await Vms.ListAsync(default));
    }

    [Fact]
    public async Task RegisterAsync_Again_ReplacesThePolicy()
    {
        await Policies.SaveAsync(new StoredPolicy("strict", "{}", T0), default);
        var vm = new RegisteredVm(Guid.NewGuid(), null, T0, "strict");
        await Vms.RegisterAsync(vm, default);

        await Vms.RegisterAsync(vm with { PolicyName = null }, default);

        Assert.Null((await Vms.GetAsync(vm.VmId, default))!.PolicyName);
    }

    [Fact]
    public async Task SetPolicyAsync_AssignedUnknownVmUnknownPolicy()
    {
        var vm = Guid.NewGuid();
        await Vms.RegisterAsync(new RegisteredVm(vm, null, T0), default);
        await Policies.SaveAsync(new StoredPolicy("strict", "{}", T0), default);

        Assert.Equal(PolicyAssignment.Assigned, await Vms.SetPolicyAsync(vm, "strict", default));
        Assert.Equal("strict", (await Vms.GetAsync(vm, default))!.PolicyName);
        Assert.Equal(PolicyAssignment.UnknownPolicy, await Vms.SetPolicyAsync(vm, "absent", default));
        Assert.Equal("strict", (await Vms.GetAsync(vm, default))!.PolicyName);
        Assert.Equal(PolicyAssignment.UnknownVm, await Vms.SetPolicyAsync(Guid.NewGuid(), "strict", default));
        Assert.Equal(PolicyAssignment.UnknownVm, await Vms.SetPolicyAsync(Guid.NewGuid(), null, default));
    }

    [Fact]
    public async Task ForeignKey_DeletingAPolicyInUseAroundTheStore_Refused()
    {
        // The store's conditional DELETE is the rule; the schema's foreign key holds even for a statement that skips it.
        var vm = Guid.NewGuid();
        await Policies.SaveAsync(new StoredPolicy("strict", "{}", T0), default);
        await Vms.RegisterAsync(new RegisteredVm(vm, null, T0, "strict"), default);
        await using DbConnection connection = await Database.OpenConnectionAsync(default);
        await using DbCommand delete = connection.CreateCommand();
        delete.CommandText = "DELETE FROM policies WHERE name = 'strict'";

        DbException e = await Assert.ThrowsAnyAsync<DbException>(() => delete.ExecuteNonQueryAsync());

        Assert.Contains("foreign key", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task SetPolicyAndRemove_Concurrently_NeverLeaveAVmNamingAMissingPolicy()
    {
        // Two database objects over one database stand in for tl server and the CLI (or two replicas) racing on one policy.
        StoreDatabase other = OpenReplica();
        Guid[] vms = Enumerable.Range(0, 8).Select(_ => Guid.NewGuid()).ToArray();
        foreach (Guid vm in vms)
            await Vms.RegisterAsync(new RegisteredVm(vm, null, T0), default);
        await Policies.SaveAsync(new StoredPolicy("contested", "{}", T0), default);

        Task<PolicyAssignment>[] assignments = vms.Select(vm => Task.Run(() => Vms.SetPolicyAsync(vm, "contested", default))).ToArray();
        Task<PolicyRemoval> removal = Task.Run(() => new SqlPolicyStore(other).RemoveAsync("contested", default));
        await Task.WhenAll(assignments);

        bool removed = await removal == PolicyRemoval.Removed;
        IReadOnlyList<RegisteredVm> after = await Vms.ListAsync(default);
        Assert.Equal(removed, await Policies.GetAsync("contested", default) is null);
        Assert.All(after, vm => Assert.True(vm.PolicyName is null || !removed, $"{vm.VmId} names a removed policy"));
        Assert.Equal(after.Count(vm => vm.PolicyName is not null), assignments.Count(a => a.Result == PolicyAssignment.Assigned));
    }
}

public sealed class SqlitePolicyStoreTests() : PolicyStoreTests(new SqliteStoreEngine());

[IntegrationTest]
[Collection(PostgresClusterGroup.Name)]
public sealed class PostgresPolicyStoreTests(PostgresFixture postgres) : PolicyStoreTests(postgres.Engine);
