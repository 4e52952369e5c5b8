using Microsoft.Data.Sqlite;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.Server.Stores.Sqlite.ControlPlane;

/// <summary><see cref="IOperationStore"/> on SQLite; VM writes upsert their operations through <see cref="UpsertAsync"/> in their own transaction.</summary>
public sealed class SqliteOperationStore(SqliteDatabase database) : IOperationStore
{
    private const string Columns = "operation_id, subscription_id, location, resource_id, kind, status, error_json, start_time, end_time, target_version";

    public async Task<OperationRecord?> GetAsync(string operationId, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = database.OpenConnection();
        await using SqliteCommand command = SqliteCommands.Create(connection, null, $"SELECT {Columns} FROM operations WHERE operation_id = $id")
            .With("$id", operationId.ToLowerInvariant());
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<bool> CompleteAsync(OperationRecord operation, CancellationToken cancellationToken)
    {
        await using SqliteWriter writer = await database.OpenWriterAsync(cancellationToken);
        return await UpsertAsync(writer.Connection, null, operation, cancellationToken);
    }

    /// <summary>Inserts an operation, or moves an existing one on unless it is already terminal (a completed operation never changes).</summary>
    internal static async Task<bool> UpsertAsync(SqliteConnection connection, SqliteTransaction? transaction, OperationRecord operation,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        await using SqliteCommand command = SqliteCommands.Create(connection, transaction, $"""
            INSERT INTO operations ({Columns}) VALUES ($id, $s, $location, $resource, $kind, $status, $error, $start, $end, $target)
            ON CONFLICT (operation_id) DO UPDATE SET status = excluded.status, error_json = excluded.error_json, end_time = excluded.end_time
            WHERE operations.status = 'InProgress'
            """)
            .With("$id", operation.OperationId.ToLowerInvariant()).With("$s", operation.SubscriptionId.ToLowerInvariant())
            .With("$location", operation.Location).With("$resource", operation.ResourceId).With("$kind", operation.Kind.ToString())
            .With("$status", operation.Status.ToString())
            .With("$error", SqliteCommands.ToJson(operation.Error, ControlPlaneJson.Default.ArmErrorDetail))
            .With("$start", SqliteDatabase.ToUnixMilliseconds(operation.StartTime))
            .With("$end", operation.EndTime is DateTimeOffset end ? SqliteDatabase.ToUnixMilliseconds(end) : null)
            .With("$target", operation.TargetVersion);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    private static OperationRecord Read(SqliteDataReader reader) => new()
    {
        OperationId = reader.GetString(0),
        SubscriptionId = reader.GetString(1),
        Location = reader.GetString(2),
        ResourceId = reader.GetString(3),
        Kind = SqliteCommands.ParseEnum<OperationKind>(reader.GetString(4)),
        Status = SqliteCommands.ParseEnum<OperationStatus>(reader.GetString(5)),
        Error = SqliteCommands.FromJson(reader, 6, ControlPlaneJson.Default.ArmErrorDetail),
        StartTime = SqliteDatabase.FromUnixMilliseconds(reader.GetInt64(7)),
        EndTime = SqliteCommands.NullableInt64(reader, 8) is long end ? SqliteDatabase.FromUnixMilliseconds(end) : null,
        TargetVersion = SqliteCommands.NullableInt64(reader, 9),
    };
}
