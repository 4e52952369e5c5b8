using Microsoft.Data.Sqlite;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Testing;
using TrustedLaunch.Testing.Postgres;

namespace TrustedLaunch.Server.Tests.Stores;

/// <summary>Where a store test's database lives: each test gets a fresh one, named by the value <c>--database</c> would take.</summary>
public abstract class StoreEngine
{
    /// <summary>A new, empty database: a SQLite file path or a PostgreSQL connection string.</summary>
    public abstract string NewDatabase();

    /// <summary>Frees what <see cref="NewDatabase"/> made, after every database object over it is disposed.</summary>
    public abstract void Release(string database);
}

/// <summary>A SQLite file in a temporary folder per test.</summary>
public sealed class SqliteStoreEngine : StoreEngine
{
    public override string NewDatabase() => Path.Combine(RepositoryPaths.NewTempDirectory("tl-store"), "tl.db");

    public override void Release(string database)
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(Path.GetDirectoryName(database)!, recursive: true);
    }
}

/// <summary>A database per test in one throw-away PostgreSQL cluster shared by the test run (dropped with it).</summary>
public sealed class PostgresStoreEngine(PostgresCluster cluster) : StoreEngine
{
    public PostgresCluster Cluster { get; } = cluster;

    public override string NewDatabase() => Cluster.ConnectionString(Cluster.CreateDatabase("store"));

    public override void Release(string database)
    {
    }
}

/// <summary>The one PostgreSQL cluster of the test run's PostgreSQL store tests.</summary>
public sealed class PostgresFixture : IDisposable
{
    private readonly Lazy<PostgresCluster> _cluster = new(() => new PostgresCluster());

    public PostgresStoreEngine Engine => new(_cluster.Value);

    public void Dispose()
    {
        if (_cluster.IsValueCreated)
            _cluster.Value.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresClusterGroup : ICollectionFixture<PostgresFixture>
{
    public const string Name = "PostgreSQL";
}

/// <summary>
/// A store test over a fresh service database of <see cref="StoreEngine"/>; the same tests run on SQLite and on
/// PostgreSQL through one subclass each. <see cref="OpenReplica"/> opens a second database object over the same
/// database, standing in for another process (the CLI) or another replica.
/// </summary>
public abstract class StoreTests : IDisposable
{
    private readonly StoreEngine _engine;
    private readonly List<StoreDatabase> _opened = [];

    protected StoreTests(StoreEngine engine)
    {
        _engine = engine;
        DatabaseName = engine.NewDatabase();
        Database = OpenReplica();
    }

    /// <summary>The value that opens this test's database (path or connection string).</summary>
    protected string DatabaseName { get; }

    protected StoreDatabase Database { get; }

    protected StoreEngine Engine => _engine;

    protected StoreDatabase OpenReplica()
    {
        StoreDatabase database = StoreDatabase.Open(DatabaseName);
        _opened.Add(database);
        return database;
    }

    public void Dispose()
    {
        foreach (StoreDatabase database in _opened)
            database.Dispose();
        _engine.Release(DatabaseName);
        GC.SuppressFinalize(this);
    }
}
