using System.Data.Common;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.Server.Stores.Sql.ControlPlane;

/// <summary><see cref="IOperationStore"/> on <see cref="StoreDatabase"/>; VM writes upsert their operations through <see cref="UpsertAsync"/> in their own transaction.</summary>
public sealed class SqlOperationStore(StoreDatabase database) : IOperationStore
{
    private const string Columns = "operation_id, subscription_id, location, resource_id, kind, status, error_json, start_time, end_time, target_version";

    public async Task<OperationRecord?> GetAsync(string operationId, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null, $"SELECT {Columns} FROM operations WHERE operation_id = @id")
            .With("@id", operationId.ToLowerInvariant());
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<bool> CompleteAsync(OperationRecord operation, CancellationToken cancellationToken)
    {
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        return await UpsertAsync(writer.Connection, null, operation, cancellationToken);
    }

    /// <summary>Inserts an operation, or moves an existing one on unless it is already terminal (a completed operation never changes).</summary>
    internal static async Task<bool> UpsertAsync(DbConnection connection, DbTransaction? transaction, OperationRecord operation,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        await using DbCommand command = SqlCommands.Create(connection, transaction, $"""
            INSERT INTO operations ({Columns}) VALUES (@id, @s, @location, @resource, @kind, @status, @error, @start, @end, @target)
            ON CONFLICT (operation_id) DO UPDATE SET status = excluded.status, error_json = excluded.error_json, end_time = excluded.end_time
            WHERE operations.status = 'InProgress'
            """)
            .With("@id", operation.OperationId.ToLowerInvariant()).With("@s", operation.SubscriptionId.ToLowerInvariant())
            .With("@location", operation.Location).With("@resource", operation.ResourceId).With("@kind", operation.Kind.ToString())
            .With("@status", operation.Status.ToString())
            .With("@error", SqlCommands.ToJson(operation.Error, ControlPlaneJson.Default.ArmErrorDetail))
            .With("@start", StoreDatabase.ToUnixMilliseconds(operation.StartTime))
            .With("@end", operation.EndTime is DateTimeOffset end ? StoreDatabase.ToUnixMilliseconds(end) : null)
            .With("@target", operation.TargetVersion);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    private static OperationRecord Read(DbDataReader reader) => new()
    {
        OperationId = reader.GetString(0),
        SubscriptionId = reader.GetString(1),
        Location = reader.GetString(2),
        ResourceId = reader.GetString(3),
        Kind = SqlCommands.ParseEnum<OperationKind>(reader.GetString(4)),
        Status = SqlCommands.ParseEnum<OperationStatus>(reader.GetString(5)),
        Error = SqlCommands.FromJson(reader, 6, ControlPlaneJson.Default.ArmErrorDetail),
        StartTime = StoreDatabase.FromUnixMilliseconds(reader.GetInt64(7)),
        EndTime = SqlCommands.NullableInt64(reader, 8) is long end ? StoreDatabase.FromUnixMilliseconds(end) : null,
        TargetVersion = SqlCommands.NullableInt64(reader, 9),
    };
}
