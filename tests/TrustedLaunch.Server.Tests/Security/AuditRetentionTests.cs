using TrustedLaunch.Server.Security.Stores;
using TrustedLaunch.Server.Tests.Stores;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Security;

/// <summary>
/// The audit log on either engine: concurrent appends committed in groups are each stored once; retention deletes the
/// events older than the period's start and keeps newer ones.
/// </summary>
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

    [Fact]
    public async Task AppendAsync_ManyConcurrent_EachStoredOnceBeforeItsAppendReturns()
    {
        var audit = new SqlAuditLog(Database);
        var reader = new SqlAuditLog(OpenReplica());
        int[] seenAtReturn = new int[200];

        await Parallel.ForEachAsync(Enumerable.Range(0, 200), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, cancellationToken) =>
        {
            await audit.AppendAsync(new AuditEvent(0, T0, "caller", "principal", "POST", $"/write/{i}", 201, "Succeeded", "127.0.0.1"), cancellationToken);
            // Grouped or not, an append returns only once its event is committed: another connection reads it.
            if (i % 20 == 0)
                seenAtReturn[i] = (await reader.ListAsync(1000, null, cancellationToken)).Count(e => e.Path == $"/write/{i}");
        });

        IReadOnlyList<AuditEvent> stored = await reader.ListAsync(1000, null, default);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"/write/{i}").Order(StringComparer.Ordinal), stored.Select(e => e.Path).Order(StringComparer.Ordinal));
        Assert.All(stored, e => Assert.Equal("caller|principal|POST|201|Succeeded|127.0.0.1",
            string.Join('|', e.Caller, e.CallerKind, e.Method, e.Status, e.Outcome, e.RemoteAddress)));
        Assert.All(Enumerable.Range(0, 10).Select(k => seenAtReturn[k * 20]), seen => Assert.Equal(1, seen));
    }
}

public sealed class SqliteAuditRetentionTests() : AuditRetentionTests(new SqliteStoreEngine());

[IntegrationTest]
[Collection(PostgresClusterGroup.Name)]
public sealed class PostgresAuditRetentionTests(PostgresFixture postgres) : AuditRetentionTests(postgres.Engine);
