using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace TrustedLaunch.Server.Stores.Sql;

/// <summary>
/// An open SQLite connection that <see cref="SqliteDatabase"/> keeps between uses, with the statements run through
/// <see cref="SqlCommands.Prepared"/> kept compiled on it. Microsoft.Data.Sqlite keeps a prepared statement only as long
/// as its command object, so a store call that builds its command anew parses its SQL anew; on an attestation's few fixed
/// statements that parsing was a visible share of the service's CPU (docs/benchmarks.md, issue 19). Disposing the
/// connection hands it back to its database (unless a transaction is still open on it, or the database is closing).
/// </summary>
internal sealed class KeptSqliteConnection(SqliteDatabase owner, string connectionString) : SqliteConnection(connectionString)
{
    // SQLite holds each prepared statement's memory for as long as it lives: a bound, far above the hot statements' count.
    private const int MaxStatements = 32;

    private readonly Dictionary<string, KeptSqliteCommand> _statements = new(StringComparer.Ordinal);
    private bool _released;

    /// <summary>The kept command for <paramref name="sql"/> (compiled at its first use on this connection), in <paramref name="transaction"/>.</summary>
    public DbCommand Statement(string sql, DbTransaction? transaction)
    {
        if (!_statements.TryGetValue(sql, out KeptSqliteCommand? command))
        {
            if (_statements.Count >= MaxStatements)
                return new SqliteCommand(sql, this, (SqliteTransaction?)transaction);
            command = new KeptSqliteCommand { Connection = this, CommandText = sql };
            command.Prepare();
            _statements.Add(sql, command);
        }

        command.Transaction = (SqliteTransaction?)transaction;
        return command;
    }

    /// <summary>Closes the connection for good, whatever its database would keep.</summary>
    public void Release()
    {
        _released = true;
        Dispose();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_released && owner.TryKeep(this))
            return;
        foreach (KeptSqliteCommand command in _statements.Values)
            command.Release();
        _statements.Clear();
        base.Dispose(disposing);
    }
}

/// <summary>A command whose disposal by its user only forgets its parameters; its compiled statement stays with its connection.</summary>
internal sealed class KeptSqliteCommand : SqliteCommand
{
    /// <summary>Frees the compiled statement (the connection is closing).</summary>
    public void Release() => base.Dispose(true);

    protected override void Dispose(bool disposing)
    {
        if (!disposing)
        {
            base.Dispose(disposing);
            return;
        }

        Parameters.Clear();
        Transaction = null;
    }
}
