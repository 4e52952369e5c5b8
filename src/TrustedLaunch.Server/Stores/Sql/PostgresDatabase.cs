using System.Data.Common;
using Npgsql;

namespace TrustedLaunch.Server.Stores.Sql;

/// <summary>
/// The service's PostgreSQL database, shared by any number of <c>tl server</c> replicas (docs/scale-out.md): one
/// <see cref="NpgsqlDataSource"/> (one connection pool) per process, the schema of <see cref="StoreSchema"/> in
/// PostgreSQL's type names, migrated at start by whichever replica gets the migration lock first.
/// </summary>
public sealed class PostgresDatabase : StoreDatabase
{
    // Transaction-scoped advisory lock keys (pg_advisory_xact_lock): released by commit or rollback, so a pooled
    // connection never carries one to its next user. Arbitrary constants, the same in every replica.
    private const long MigrationLock = 0x544C_4D49_4752; // "TLMIGR"
    private const long WriteLock = 0x544C_5752_4954;     // "TLWRIT"

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _listenerConnectionString;

    private PostgresDatabase(NpgsqlDataSource dataSource, string listenerConnectionString, string description)
    {
        _dataSource = dataSource;
        _listenerConnectionString = listenerConnectionString;
        Description = description;
    }

    public override string Description { get; }

    public override SqlDialect Dialect => SqlDialect.Postgres;

    /// <summary>Opens the database <paramref name="connectionString"/> names and migrates its schema.</summary>
    /// <exception cref="StoreException">The connection string is malformed, the server cannot be reached, or the schema is newer.</exception>
    public static new PostgresDatabase Open(string connectionString)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new StoreException($"The database connection string is not valid: {e.Message}", e);
        }

        // The application name shows in pg_stat_activity, so an operator can count each replica's connections.
        if (string.IsNullOrEmpty(builder.ApplicationName))
            builder.ApplicationName = "tl-server";
        // Npgsql's automatic preparation: a statement run a few times on a physical connection is prepared there and
        // reused (parse and plan once per connection, not per command). The store's statements are a few dozen fixed texts.
        if (builder.MaxAutoPrepare == 0)
            builder.MaxAutoPrepare = 128;
        // A pooled connection is handed back as it was taken: the stores leave no session state on one (advisory locks are
        // transaction-scoped, LISTEN has its own connection outside the pool), so Npgsql's reset — with prepared statements,
        // six statements run by the server before the next user's first command — is pure cost on every checkout
        // (docs/benchmarks.md, the fleet profile). An operator who sets the keyword keeps their choice.
        if (!NamesKeyword(connectionString, "No Reset On Close", "NoResetOnClose"))
            builder.NoResetOnClose = true;
        string description = $"postgresql://{builder.Host}:{builder.Port}/{builder.Database}";
        // The doorbell's LISTEN is session state: it gets a connection of its own, outside the pool, held for the process's life.
        string listener = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Pooling = false, KeepAlive = 30 }.ConnectionString;
        var database = new PostgresDatabase(new NpgsqlDataSourceBuilder(builder.ConnectionString).Build(), listener, description);
        try
        {
            database.MigrateAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is NpgsqlException or PostgresException or InvalidOperationException)
        {
            database.Dispose();
            throw new StoreException($"Cannot open the database {description}: {e.Message}", e);
        }
        catch
        {
            database.Dispose();
            throw;
        }

        return database;
    }

    // Npgsql's builder answers every known keyword as present; the generic builder holds only those the text names.
    private static bool NamesKeyword(string connectionString, params string[] spellings)
    {
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        return spellings.Any(given.ContainsKey);
    }

    public override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    // PostgreSQL has row locks and many writers: no turn to wait for.
    public override async Task<StoreWriter> OpenWriterAsync(CancellationToken cancellationToken) =>
        new(await _dataSource.OpenConnectionAsync(cancellationToken), gate: null);

    public override async Task<DbTransaction> BeginWriteTransactionAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        DbTransaction transaction = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            await using DbCommand command = SqlCommands.Create(connection, transaction, "SELECT pg_advisory_xact_lock(@key)").With("@key", WriteLock);
            await command.ExecuteNonQueryAsync(cancellationToken);
            return transaction;
        }
        catch
        {
            await transaction.DisposeAsync();
            throw;
        }
    }

    /// <summary>A new connection outside the pool, for one long-lived <c>LISTEN</c> (<see cref="Replicas.PostgresDoorbell"/>).</summary>
    public async Task<NpgsqlConnection> OpenListenerAsync(CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(_listenerConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _dataSource.Dispose();
    }

    private async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using NpgsqlConnection connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Replicas starting together: the first migrates, the others wait here and then find the schema current.
        await using (DbCommand lockCommand = SqlCommands.Create(connection, transaction, "SELECT pg_advisory_xact_lock(@key)").With("@key", MigrationLock))
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        await MigrateAsync(connection, transaction, StoreSchema.ForPostgres, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }
}
