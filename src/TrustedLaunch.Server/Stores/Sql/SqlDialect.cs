namespace TrustedLaunch.Server.Stores.Sql;

/// <summary>
/// The expressions whose spelling differs between SQLite and PostgreSQL. Everything else the stores write (upserts with
/// <c>ON CONFLICT … DO UPDATE/NOTHING</c> and <c>excluded</c>, <c>RETURNING</c>, partial indexes) is spelled alike.
/// </summary>
public abstract class SqlDialect
{
    public static SqlDialect Sqlite { get; } = new SqliteDialect();

    public static SqlDialect Postgres { get; } = new PostgresDialect();

    /// <summary>The larger of two integer expressions.</summary>
    public abstract string Greatest(string left, string right);

    /// <summary>The text of the top-level member <paramref name="member"/> of the JSON document in <paramref name="column"/>.</summary>
    public abstract string JsonText(string column, string member);

    /// <summary>The integer value of the top-level member <paramref name="member"/> of the JSON document in <paramref name="column"/>.</summary>
    public abstract string JsonInteger(string column, string member);

    /// <summary>
    /// Appended to a sub-select that picks rows to claim: on PostgreSQL the rows are locked and those another transaction
    /// holds are skipped (<c>FOR UPDATE SKIP LOCKED</c>); SQLite's one writer makes the claiming statement exclusive as it is.
    /// </summary>
    public abstract string SkipLocked { get; }

    private sealed class SqliteDialect : SqlDialect
    {
        public override string SkipLocked => "";

        public override string Greatest(string left, string right) => $"MAX({left}, {right})";

        public override string JsonText(string column, string member) => $"json_extract({column}, '$.{member}')";

        public override string JsonInteger(string column, string member) => $"json_extract({column}, '$.{member}')";
    }

    private sealed class PostgresDialect : SqlDialect
    {
        public override string SkipLocked => " FOR UPDATE SKIP LOCKED";

        public override string Greatest(string left, string right) => $"GREATEST({left}, {right})";

        public override string JsonText(string column, string member) => $"({column}::jsonb ->> '{member}')";

        public override string JsonInteger(string column, string member) => $"({column}::jsonb ->> '{member}')::bigint";
    }
}
