using Microsoft.Data.Sqlite;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Stores;

/// <summary>SQLite connections kept open between store calls with their hot statements compiled (issue 19), and when they are not kept.</summary>
public sealed class SqliteKeptConnectionTests : IDisposable
{
    private readonly string _directory = RepositoryPaths.NewTempDirectory("tl-kept");
    private readonly SqliteDatabase _database;

    public SqliteKeptConnectionTests() => _database = SqliteDatabase.Open(Path.Combine(_directory, "tl.db"));

    public void Dispose()
    {
        _database.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task OpenConnection_AfterDispose_SameOpenConnectionWithItsPragmasAndStatement()
    {
        SqliteConnection first = _database.OpenConnection();
        System.Data.Common.DbCommand statement = SqlCommands.Prepared(first, null, "SELECT @x + 1").With("@x", 41L);
        Assert.Equal(42L, await statement.ExecuteScalarAsync());
        await statement.DisposeAsync();
        await first.DisposeAsync();

        await using SqliteConnection again = _database.OpenConnection();
        await using System.Data.Common.DbCommand reused = SqlCommands.Prepared(again, null, "SELECT @x + 1").With("@x", 1L);

        Assert.Same(first, again);
        Assert.Same(statement, reused);
        Assert.Equal(System.Data.ConnectionState.Open, again.State);
        Assert.Equal(2L, await reused.ExecuteScalarAsync());
        Assert.Equal(1L, Pragma(again, "foreign_keys"));
        Assert.Equal(5000L, Pragma(again, "busy_timeout"));
    }

    [Fact]
    public void OpenConnection_DisposedInsideATransaction_NotKept()
    {
        SqliteConnection abandoned = _database.OpenConnection();
        abandoned.BeginTransaction(deferred: false); // never committed nor disposed: its user failed mid-write
        abandoned.Dispose();

        using SqliteConnection next = _database.OpenConnection();

        Assert.NotSame(abandoned, next);
        Assert.Equal(System.Data.ConnectionState.Closed, abandoned.State);
        using SqliteTransaction write = next.BeginTransaction(deferred: false); // the write lock was released with it
        write.Commit();
    }

    [Fact]
    public void Dispose_Database_ClosesTheKeptConnections()
    {
        SqliteDatabase database = SqliteDatabase.Open(Path.Combine(_directory, "other.db"));
        SqliteConnection kept = database.OpenConnection();
        kept.Dispose();
        Assert.Equal(System.Data.ConnectionState.Open, kept.State);

        database.Dispose();

        Assert.Equal(System.Data.ConnectionState.Closed, kept.State);
    }

    private static long Pragma(SqliteConnection connection, string name)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "PRAGMA " + name;
        return (long)command.ExecuteScalar()!;
    }
}
