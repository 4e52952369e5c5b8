using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using TrustedLaunch.Posture.Alerts;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;

namespace TrustedLaunch.Server.Posture.Stores;

/// <summary>
/// A <c>security_alerts</c> row as an alert: the JSON as last written whole, under the columns a repeat folded where its
/// result was stored moves without it (<c>alert_count</c>, <c>end_time</c>, <c>last_result_id</c>; docs/posture.md).
/// Every read of an alert goes through here, so what a client sees and what a guard compares are the same values.
/// </summary>
internal static class AlertRows
{
    /// <summary>The columns <see cref="Read"/> expects, in its order.</summary>
    public const string Columns = "alert_json, alert_count, end_time, last_result_id";

    public static SecurityAlert Read(DbDataReader reader)
    {
        SecurityAlert alert = JsonSerializer.Deserialize(reader.GetString(0), PostureJson.Default.SecurityAlert)!;
        int count = checked((int)reader.GetInt64(1));
        long lastResult = reader.GetInt64(3);
        if (count == alert.Count && lastResult == alert.LastResultId)
            return alert;
        // Repeats folded since the JSON was written: one more occurrence each, the newest result the one they name.
        var properties = new Dictionary<string, string>(alert.ExtendedProperties, StringComparer.Ordinal)
        {
            ["occurrences"] = count.ToString(CultureInfo.InvariantCulture),
        };
        if (lastResult > alert.LastResultId && properties.ContainsKey("attestationResultId"))
            properties["attestationResultId"] = lastResult.ToString(CultureInfo.InvariantCulture);
        return alert with
        {
            Count = count,
            EndTimeUtc = StoreDatabase.FromUnixMilliseconds(reader.GetInt64(2)),
            LastResultId = lastResult,
            ExtendedProperties = properties,
        };
    }

    public static async Task<IReadOnlyList<SecurityAlert>> ReadAllAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var list = new List<SecurityAlert>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            list.Add(Read(reader));
        return list;
    }

    public static async Task<SecurityAlert?> ReadOneAsync(DbCommand command, CancellationToken cancellationToken)
    {
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }
}

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
