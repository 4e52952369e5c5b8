using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using TrustedLaunch.Posture.Alerts;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;

namespace TrustedLaunch.Server.Posture.Stores;

/// <summary>
/// A <c>security_alerts</c> row as an alert: the JSON as last written whole, under its count, end time and last result
/// (<c>alert_count</c>, <c>end_time</c>, <c>last_result_id</c>) plus the repeats folded where they were stored under the
/// VM's repeat mark whose tag the alert carries (<c>posture_work.repeat_count</c>, <c>repeat_last_at</c>,
/// <c>repeat_last_result</c>; docs/posture.md). Every read of an alert goes through here, and every guard compares the
/// same sums, so what a client sees and what a write checks are one value.
/// </summary>
internal static class AlertRows
{
    /// <summary>The alerts (<c>a</c>) with their repeats, as <see cref="Read"/> expects them; the caller adds the <c>WHERE</c>.</summary>
    public static string Select(SqlDialect dialect) =>
        "SELECT a.alert_json, a.alert_count + COALESCE(w.repeat_count, 0), " +
        $"{dialect.Greatest("a.end_time", "COALESCE(w.repeat_last_at, 0)")}, {dialect.Greatest("a.last_result_id", "COALESCE(w.repeat_last_result, 0)")} " +
        "FROM security_alerts a LEFT JOIN posture_work w ON a.repeats_with <> '' AND w.vm_id = a.vm_id AND w.repeat_tag = a.repeats_with";

    /// <summary>The count of the alert row <paramref name="table"/> with its repeats, for a guard.</summary>
    public static string Count(string table) =>
        $"{table}.alert_count + COALESCE(({Repeats(table, "repeat_count")}), 0)";

    /// <summary>The last result of the alert row <paramref name="table"/> with its repeats, for a guard.</summary>
    public static string LastResult(SqlDialect dialect, string table)
    {
        ArgumentNullException.ThrowIfNull(dialect);
        return dialect.Greatest($"{table}.last_result_id", $"COALESCE(({Repeats(table, "repeat_last_result")}), 0)");
    }

    private static string Repeats(string table, string column) =>
        $"SELECT w.{column} FROM posture_work w WHERE {table}.repeats_with <> '' AND w.vm_id = {table}.vm_id AND w.repeat_tag = {table}.repeats_with";

    public static SecurityAlert Read(DbDataReader reader)
    {
        SecurityAlert alert = JsonSerializer.Deserialize(reader.GetString(0), PostureJson.Default.SecurityAlert)!;
        int count = checked((int)reader.GetInt64(1));
        long lastResult = reader.GetInt64(3);
        if (count == alert.Count && lastResult == alert.LastResultId)
            return alert;
        // Repeats counted since the JSON was written: one more occurrence each, the newest result the one they name.
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

    public static Task<IReadOnlyList<SecurityAlert>> ReadAllAsync(DbCommand command, CancellationToken cancellationToken) =>
        SqlCommands.ReadAllAsync(command, Read, cancellationToken);

    public static async Task<SecurityAlert?> ReadOneAsync(DbCommand command, CancellationToken cancellationToken)
    {
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }
}
