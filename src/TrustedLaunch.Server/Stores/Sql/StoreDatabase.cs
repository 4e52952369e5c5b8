using System.Data.Common;
using System.Globalization;

namespace TrustedLaunch.Server.Stores.Sql;

/// <summary>
/// The service's database, SQLite (<see cref="SqliteDatabase"/>, one process, the default) or PostgreSQL
/// (<see cref="PostgresDatabase"/>, any number of replicas): pooled ADO.NET connections, the schema of
/// <see cref="StoreSchema"/>, and the few statements whose spelling differs between the two (<see cref="SqlDialect"/>).
/// Every store is written once against this class; statements use <c>@name</c> parameters, which both providers accept.
/// </summary>
public abstract class StoreDatabase : IDisposable
{
    /// <summary>The schema version this code writes; an older database is migrated, a newer one refused.</summary>
    public const int SchemaVersion = StoreSchema.Version;

    /// <summary>What this database is, for logs and errors (a path, or host and database name; never a password).</summary>
    public abstract string Description { get; }

    /// <summary>The spellings that differ between the engines.</summary>
    public abstract SqlDialect Dialect { get; }

    /// <summary>
    /// Opens the database a <c>--database</c> value names: a PostgreSQL connection string (<c>Host=…;Database=…</c>)
    /// or a SQLite file path. The schema is migrated before this returns.
    /// </summary>
    /// <exception cref="StoreException">The database cannot be opened or is from a newer version of the service.</exception>
    public static StoreDatabase Open(string database)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(database);
        return IsConnectionString(database) ? PostgresDatabase.Open(database) : SqliteDatabase.Open(database);
    }

    /// <summary>Whether <paramref name="database"/> is a PostgreSQL connection string rather than a file path.</summary>
    public static bool IsConnectionString(string database) =>
        database.Contains('=', StringComparison.Ordinal) && database.Contains("host", StringComparison.OrdinalIgnoreCase);

    /// <summary>A new open connection from the pool (for reads, or single-statement writes that decide atomically).</summary>
    public abstract ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken);

    /// <summary>A connection for one write; on SQLite it holds this process's write turn until disposed.</summary>
    public abstract Task<StoreWriter> OpenWriterAsync(CancellationToken cancellationToken);

    /// <summary>
    /// A transaction in which reading, deciding and writing are one step against every other such transaction, in this
    /// process and in every other (SQLite: <c>BEGIN IMMEDIATE</c>; PostgreSQL: a transaction-scoped advisory lock, which
    /// is released by the commit or rollback and so never outlives the pooled connection's use).
    /// </summary>
    public abstract Task<DbTransaction> BeginWriteTransactionAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>Whether <paramref name="exception"/> is the database failing (unreachable, locked, I/O) rather than a bug.</summary>
    public static bool IsDatabaseFailure(Exception exception) => exception is DbException or StoreException;

    /// <summary>The schema version recorded in the database.</summary>
    public async Task<int> ReadSchemaVersionAsync(CancellationToken cancellationToken)
    {
        await using DbConnection connection = await OpenConnectionAsync(cancellationToken);
        await using DbCommand command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_version";
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected abstract void Dispose(bool disposing);

    internal static long ToUnixMilliseconds(DateTimeOffset value) => value.ToUnixTimeMilliseconds();

    internal static DateTimeOffset FromUnixMilliseconds(long value) => DateTimeOffset.FromUnixTimeMilliseconds(value);

    /// <summary>Brings the schema to <see cref="SchemaVersion"/> inside <paramref name="transaction"/>, which the caller has made exclusive.</summary>
    protected async Task MigrateAsync(DbConnection connection, DbTransaction transaction, Func<string, string> spell, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(spell);
        await using (DbCommand create = SqlCommands.Create(connection, transaction,
            spell("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY NOT NULL, applied_at INTEGER NOT NULL)")))
            await create.ExecuteNonQueryAsync(cancellationToken);

        int current;
        await using (DbCommand read = SqlCommands.Create(connection, transaction, "SELECT COALESCE(MAX(version), 0) FROM schema_version"))
            current = Convert.ToInt32(await read.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        if (current > SchemaVersion)
            throw new StoreException($"The database {Description} has schema version {current}; this service understands up to {SchemaVersion}.");

        for (int version = current; version < SchemaVersion; version++)
        {
            if (!string.IsNullOrWhiteSpace(StoreSchema.Migrations[version]))
            {
                await using DbCommand migrate = SqlCommands.Create(connection, transaction, spell(StoreSchema.Migrations[version]));
                await migrate.ExecuteNonQueryAsync(cancellationToken);
            }

            if (StoreSchema.Steps.TryGetValue(version, out var step))
                await step(connection, transaction, cancellationToken);
            await using DbCommand record = SqlCommands.Create(connection, transaction, "INSERT INTO schema_version (version, applied_at) VALUES (@version, @at)")
                .With("@version", (long)version + 1).With("@at", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            await record.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}

/// <summary>A connection for one write; disposing it closes the connection and, on SQLite, passes the write turn on.</summary>
public sealed class StoreWriter : IAsyncDisposable
{
    private SemaphoreSlim? _gate;

    internal StoreWriter(DbConnection connection, SemaphoreSlim? gate)
    {
        Connection = connection;
        _gate = gate;
    }

    public DbConnection Connection { get; }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        Interlocked.Exchange(ref _gate, null)?.Release();
    }
}
