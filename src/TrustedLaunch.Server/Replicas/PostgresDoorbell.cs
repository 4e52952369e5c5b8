using System.Data.Common;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.Server.Stores.Sql;

namespace TrustedLaunch.Server.Replicas;

/// <summary>
/// Passes host wake-ups between the replicas of one PostgreSQL database: a change for a host made through one replica
/// (<see cref="HostSignals.Notify"/>) is sent with <c>NOTIFY tl_hosts</c>, and every replica wakes its own long-polls of
/// that host. Only a doorbell: a poll always re-reads the database, so a lost notification (the listener reconnecting)
/// delays an answer to the poll's timeout and loses nothing.
/// </summary>
internal sealed class PostgresDoorbell(PostgresDatabase database, HostSignals hosts, ILogger<PostgresDoorbell> logger) : BackgroundService
{
    public const string HostsChannel = "tl_hosts";

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        hosts.Rung += Ring;
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        hosts.Rung -= Ring;
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using NpgsqlConnection listener = await database.OpenListenerAsync(stoppingToken);
                listener.Notification += (_, e) => hosts.Wake(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {HostsChannel}", listener))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                while (true)
                    await listener.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (StoreDatabase.IsDatabaseFailure(e))
            {
                ReplicaLog.DoorbellReconnecting(logger, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private void Ring(string hostName) => _ = RingAsync(hostName);

    private async Task RingAsync(string hostName)
    {
        try
        {
            await using DbConnection connection = await database.OpenConnectionAsync(CancellationToken.None);
            await using DbCommand notify = SqlCommands.Create(connection, null, "SELECT pg_notify(@channel, @host)")
                .With("@channel", HostsChannel).With("@host", hostName);
            await notify.ExecuteNonQueryAsync();
        }
        catch (Exception e) when (StoreDatabase.IsDatabaseFailure(e))
        {
            ReplicaLog.DoorbellReconnecting(logger, e.Message); // the other replicas' polls answer at their timeout
        }
    }
}
