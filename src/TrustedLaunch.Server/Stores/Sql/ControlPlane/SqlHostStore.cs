using System.Data.Common;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.Server.Stores.Sql.ControlPlane;

/// <summary><see cref="IHostStore"/> on <see cref="StoreDatabase"/> (SQLite or PostgreSQL).</summary>
public sealed class SqlHostStore(StoreDatabase database) : IHostStore
{
    private const string Columns = "name, vcpus, memory_mb, accelerator, agent_version, registered_at, last_seen_at";

    public async Task SaveAsync(HostRecord host, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(writer.Connection, null, $"""
            INSERT INTO hosts (name_key, {Columns}) VALUES (@k, @name, @vcpus, @mem, @accel, @agent, @registered, @seen)
            ON CONFLICT (name_key) DO UPDATE SET vcpus = excluded.vcpus, memory_mb = excluded.memory_mb, accelerator = excluded.accelerator,
                agent_version = excluded.agent_version, last_seen_at = excluded.last_seen_at
            """)
            .With("@k", ResourceIds.Key(host.Name)).With("@name", host.Name).With("@vcpus", host.VCpus).With("@mem", host.MemoryInMB)
            .With("@accel", host.Accelerator.ToString()).With("@agent", host.AgentVersion)
            .With("@registered", StoreDatabase.ToUnixMilliseconds(host.RegisteredAt)).With("@seen", StoreDatabase.ToUnixMilliseconds(host.LastSeenAt));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<HostRecord?> GetAsync(string name, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null, $"SELECT {Columns} FROM hosts WHERE name_key = @k")
            .With("@k", ResourceIds.Key(name));
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<HostRecord>> ListAsync(CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null, $"SELECT {Columns} FROM hosts ORDER BY registered_at, name_key");
        var hosts = new List<HostRecord>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            hosts.Add(Read(reader));
        return hosts;
    }

    public async Task TouchAsync(string name, DateTimeOffset seenAt, CancellationToken cancellationToken)
    {
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(writer.Connection, null,
            $"UPDATE hosts SET last_seen_at = {database.Dialect.Greatest("last_seen_at", "@seen")} WHERE name_key = @k")
            .With("@k", ResourceIds.Key(name)).With("@seen", StoreDatabase.ToUnixMilliseconds(seenAt));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static HostRecord Read(DbDataReader reader) => new()
    {
        Name = reader.GetString(0),
        VCpus = reader.GetInt32(1),
        MemoryInMB = reader.GetInt32(2),
        Accelerator = SqlCommands.ParseEnum<HostAccelerator>(reader.GetString(3)),
        AgentVersion = SqlCommands.NullableString(reader, 4),
        RegisteredAt = StoreDatabase.FromUnixMilliseconds(reader.GetInt64(5)),
        LastSeenAt = StoreDatabase.FromUnixMilliseconds(reader.GetInt64(6)),
    };
}
