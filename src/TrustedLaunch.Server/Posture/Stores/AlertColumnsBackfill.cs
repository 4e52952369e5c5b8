using System.Data.Common;
using System.Text.Json;
using TrustedLaunch.Posture.Alerts;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;

namespace TrustedLaunch.Server.Posture.Stores;

/// <summary>Migration 20's step: the count, end time and last result of every stored alert, from its JSON.</summary>
internal static class AlertColumnsBackfill
{
    public static async Task RunAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        var alerts = new List<SecurityAlert>();
        await using (DbCommand read = SqlCommands.Create(connection, transaction, "SELECT alert_json FROM security_alerts"))
        await using (DbDataReader reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
                alerts.Add(JsonSerializer.Deserialize(reader.GetString(0), PostureJson.Default.SecurityAlert)!);
        }

        foreach (SecurityAlert alert in alerts)
        {
            await using DbCommand update = SqlCommands.Create(connection, transaction,
                    "UPDATE security_alerts SET alert_count = @c, end_time = @e, last_result_id = @r WHERE name = @n")
                .With("@c", alert.Count).With("@e", StoreDatabase.ToUnixMilliseconds(alert.EndTimeUtc)).With("@r", alert.LastResultId).With("@n", alert.Name);
            await update.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
