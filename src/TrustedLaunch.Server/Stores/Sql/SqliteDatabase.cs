using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace TrustedLaunch.Server.Stores.Sql;

/// <summary>
/// The service's SQLite database, the embedded default: pooled connections in WAL mode (readers do not block the
/// writer, and the CLI can register a VM while <c>tl server</c> runs), one writer at a time, and the schema of
/// <see cref="StoreSchema"/> applied as written.
/// </summary>
public sealed class SqliteDatabase : StoreDatabase
{
    private readonly string _connectionString;

    // SQLite has one writer at a time. Queuing this process's writers here keeps them off SQLite's busy handler, whose
    // sleeps (up to 100 ms a round) would otherwise set the tail latency under load; other processes still meet busy_timeout.
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    // Open connections between uses (KeptSqliteConnection): more than the service's concurrent store calls on 2 cores.
    private const int MaxKept = 32;
    private readonly Stack<KeptSqliteConnection> _kept = new();
    private bool _closing;

    private SqliteDatabase(string path)
    {
        Path = path;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    public override string Description => Path;

    public override SqlDialect Dialect => SqlDialect.Sqlite;

    /// <summary>Opens (creating when absent) the database at <paramref name="path"/> and migrates its schema.</summary>
    /// <exception cref="StoreException">The database is from a newer version of the service, or cannot be opened.</exception>
    public static new SqliteDatabase Open(string path)
    {
        string? directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (directory is not null)
            Directory.CreateDirectory(directory);
        var database = new SqliteDatabase(path);
        try
        {
            database.Migrate();
        }
        catch (SqliteException e)
        {
            database.Dispose();
            throw new StoreException($"Cannot open the database {path}: {e.Message}", e);
        }
        catch
        {
            database.Dispose();
            throw;
        }

        return database;
    }

    /// <summary>An open connection: one this database kept (its statements still compiled), or a new one with the pragmas set.</summary>
    public SqliteConnection OpenConnection()
    {
        lock (_kept)
        {
            if (_kept.TryPop(out KeptSqliteConnection? kept))
                return kept;
        }

        var connection = new KeptSqliteConnection(this, _connectionString);
        try
        {
            connection.Open();
            using SqliteCommand pragmas = connection.CreateCommand();
            // busy_timeout: a second process (the CLI) holding the write lock makes us wait, not fail. foreign_keys is off
            // in SQLite unless each connection turns it on.
            pragmas.CommandText = "PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";
            pragmas.ExecuteNonQuery();
            return connection;
        }
        catch
        {
            connection.Release();
            throw;
        }
    }

    /// <summary>
    /// Takes back a connection its user is done with, unless the database is closing, enough are kept, or a transaction is
    /// still open on it (a user that failed mid-transaction); false: the caller closes it.
    /// </summary>
    internal bool TryKeep(KeptSqliteConnection connection)
    {
        if (connection.State != System.Data.ConnectionState.Open || SQLitePCL.raw.sqlite3_get_autocommit(connection.Handle) == 0)
            return false;
        lock (_kept)
        {
            if (_closing || _kept.Count >= MaxKept)
                return false;
            _kept.Push(connection);
            return true;
        }
    }

    // SQLite's I/O is synchronous underneath; opening on the caller's thread costs less than a hop to the pool.
    public override ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) => ValueTask.FromResult<DbConnection>(OpenConnection());

    public override async Task<StoreWriter> OpenWriterAsync(CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            return new StoreWriter(OpenConnection(), _writeGate);
        }
        catch
        {
            _writeGate.Release();
            throw;
        }
    }

    // BEGIN IMMEDIATE takes the write lock first, so "was it there" and the write are one decision even against another process.
    public override Task<DbTransaction> BeginWriteTransactionAsync(DbConnection connection, CancellationToken cancellationToken) =>
        Task.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(deferred: false));

    protected override void Dispose(bool disposing)
    {
        if (!disposing)
            return;
        KeptSqliteConnection[] kept;
        lock (_kept)
        {
            _closing = true;
            kept = [.. _kept];
            _kept.Clear();
        }

        foreach (KeptSqliteConnection connection in kept)
            connection.Dispose();
        _writeGate.Dispose();
    }

    private void Migrate()
    {
        using SqliteConnection connection = OpenConnection();
        using (SqliteCommand wal = connection.CreateCommand())
        {
            // WAL is a property of the file: set once, every later connection inherits it.
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            wal.ExecuteNonQuery();
        }

        // BEGIN IMMEDIATE takes the write lock first, so two processes starting at once migrate one after the other.
        using SqliteTransaction transaction = connection.BeginTransaction(deferred: false);
        MigrateAsync(connection, transaction, migration => migration, CancellationToken.None).GetAwaiter().GetResult();
        transaction.Commit();
    }
}
