using System.Data.Common;
using Microsoft.Data.Sqlite;

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

    /// <summary>
    /// The row-lock clause of a <c>SELECT</c> that takes rows in a chosen order before writing them (" FOR UPDATE" on
    /// PostgreSQL); empty on SQLite, whose one writer never waits on a row.
    /// </summary>
    public abstract string ForUpdate { get; }

    /// <summary>
    /// Whether <paramref name="exception"/> is a foreign-key violation: on PostgreSQL two statements that each checked the
    /// other's row in their own snapshot can both proceed, and the key constraint is what decides between them (SQLSTATE
    /// 23503); SQLite's one writer never gets there, but its constraint reports the same case (SQLITE_CONSTRAINT_FOREIGNKEY, 787).
    /// </summary>
    public abstract bool IsForeignKeyViolation(DbException exception);

    private sealed class SqliteDialect : SqlDialect
    {
        public override string SkipLocked => "";

        public override string ForUpdate => "";

        public override bool IsForeignKeyViolation(DbException exception) => exception is SqliteException { SqliteExtendedErrorCode: 787 };

        public override string Greatest(string left, string right) => $"MAX({left}, {right})";

        public override string JsonText(string column, string member) => $"json_extract({column}, '$.{member}')";

        public override string JsonInteger(string column, string member) => $"json_extract({column}, '$.{member}')";
    }

    private sealed class PostgresDialect : SqlDialect
    {
        public override string SkipLocked => " FOR UPDATE SKIP LOCKED";

        public override string ForUpdate => " FOR UPDATE";

        public override bool IsForeignKeyViolation(DbException exception) => exception.SqlState == "23503";

        public override string Greatest(string left, string right) => $"GREATEST({left}, {right})";

        public override string JsonText(string column, string member) => $"({column}::jsonb ->> '{member}')";

        public override string JsonInteger(string column, string member) => $"({column}::jsonb ->> '{member}')::bigint";
    }
}
