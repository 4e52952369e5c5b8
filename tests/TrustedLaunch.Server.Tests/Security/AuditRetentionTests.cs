using TrustedLaunch.Server.Security.Stores;
using TrustedLaunch.Server.Tests.Stores;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Security;

/// <summary>Audit retention on either engine: events older than the retention period's start are deleted, newer ones kept.</summary>
public abstract class AuditRetentionTests(StoreEngine engine) : StoreTests(engine)
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task PurgeBefore_DeletesOnlyOlderEvents_FromAnyReplica()
    {
        var audit = new SqlAuditLog(Database);
        for (int day = 0; day < 5; day++)
            await audit.AppendAsync(new AuditEvent(0, T0.AddDays(day), "caller", "principal", "PUT", $"/day/{day}", 200, "Succeeded", null), default);

        int purged = await new SqlAuditLog(OpenReplica()).PurgeBeforeAsync(T0.AddDays(3), default);

        Assert.Equal(3, purged);
        Assert.Equal(new[] { "/day/4", "/day/3" }, (await audit.ListAsync(10, null, default)).Select(e => e.Path));
        Assert.Equal(0, await audit.PurgeBeforeAsync(T0.AddDays(3), default));
    }
}

public sealed class SqliteAuditRetentionTests() : AuditRetentionTests(new SqliteStoreEngine());

[IntegrationTest]
[Collection(PostgresClusterGroup.Name)]
public sealed class PostgresAuditRetentionTests(PostgresFixture postgres) : AuditRetentionTests(postgres.Engine);
