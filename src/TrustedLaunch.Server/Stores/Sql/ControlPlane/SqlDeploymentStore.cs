using System.Text.Json;
using System.Data.Common;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Deployments;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.Server.Stores.Sql.ControlPlane;

/// <summary><see cref="IDeploymentStore"/> on <see cref="StoreDatabase"/> (SQLite or PostgreSQL): one row per deployment, the record as JSON.</summary>
public sealed class SqlDeploymentStore(StoreDatabase database) : IDeploymentStore
{
    public async Task<DeploymentRecord?> GetAsync(string subscriptionId, string resourceGroup, string name, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null,
            "SELECT record_json FROM deployments WHERE subscription_id = @s AND group_key = @g AND name_key = @n")
            .With("@s", subscriptionId).With("@g", ResourceIds.Key(resourceGroup)).With("@n", ResourceIds.Key(name));
        var found = await ReadAllAsync(command, cancellationToken);
        return found.Count > 0 ? found[0] : null;
    }

    public async Task<IReadOnlyList<DeploymentRecord>> ListAsync(string subscriptionId, string resourceGroup, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null,
            "SELECT record_json FROM deployments WHERE subscription_id = @s AND group_key = @g ORDER BY name_key")
            .With("@s", subscriptionId).With("@g", ResourceIds.Key(resourceGroup));
        return await ReadAllAsync(command, cancellationToken);
    }

    public async Task<IReadOnlyList<DeploymentRecord>> ListActiveAsync(CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null,
            "SELECT record_json FROM deployments WHERE provisioning_state IN ('Accepted', 'Running')");
        return await ReadAllAsync(command, cancellationToken);
    }

    public async Task<WriteOutcome> StartAsync(DeploymentRecord deployment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbTransaction transaction = await database.BeginWriteTransactionAsync(writer.Connection, cancellationToken);
        if (await SqlResourceGroupStore.RefuseNewMemberAsync(writer.Connection, transaction, deployment.SubscriptionId,
            ResourceIds.Key(deployment.ResourceGroup), cancellationToken) is WriteOutcome refused)
            return refused;
        await using (DbCommand command = Parameters(SqlCommands.Create(writer.Connection, transaction, """
            INSERT INTO deployments (subscription_id, group_key, name_key, resource_group, name, provisioning_state, record_json)
            VALUES (@s, @g, @n, @group, @name, @state, @json)
            ON CONFLICT (subscription_id, group_key, name_key) DO UPDATE SET provisioning_state = excluded.provisioning_state,
                record_json = excluded.record_json
            """), deployment))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return WriteOutcome.Written;
    }

    public async Task<bool> UpdateAsync(DeploymentRecord deployment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbCommand command = Parameters(SqlCommands.Create(writer.Connection, null, """
            UPDATE deployments SET provisioning_state = @state, record_json = @json
            WHERE subscription_id = @s AND group_key = @g AND name_key = @n
            """), deployment);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    private static DbCommand Parameters(DbCommand command, DeploymentRecord deployment) => command
        .With("@s", deployment.SubscriptionId).With("@g", ResourceIds.Key(deployment.ResourceGroup)).With("@n", ResourceIds.Key(deployment.Name))
        .With("@group", deployment.ResourceGroup).With("@name", deployment.Name).With("@state", deployment.ProvisioningState)
        .With("@json", JsonSerializer.Serialize(deployment, ControlPlaneJson.Default.DeploymentRecord));

    private static async Task<IReadOnlyList<DeploymentRecord>> ReadAllAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var found = new List<DeploymentRecord>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            found.Add(JsonSerializer.Deserialize(reader.GetString(0), ControlPlaneJson.Default.DeploymentRecord)
                ?? throw new StoreException("A deployment row holds no record."));
        }

        return found;
    }
}
