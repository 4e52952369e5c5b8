using System.Data.Common;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.Server.Stores.Sql.ControlPlane;

/// <summary><see cref="IImageStore"/> on <see cref="StoreDatabase"/> (SQLite or PostgreSQL).</summary>
public sealed class SqlImageStore(StoreDatabase database) : IImageStore
{
    private const string Columns = "publisher, offer, sku, version, file_path, generation, secure_boot_json, registered_at";
    private const string Keys = "publisher_key = @p AND offer_key = @o AND sku_key = @k";

    public async Task SaveAsync(ImageEntry image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbCommand command = KeyParameters(SqlCommands.Create(writer.Connection, null, $"""
            INSERT INTO images (publisher_key, offer_key, sku_key, {Columns}) VALUES (@p, @o, @k, @publisher, @offer, @sku, @version, @file, @gen, @sb, @at)
            ON CONFLICT (publisher_key, offer_key, sku_key, version) DO UPDATE SET publisher = excluded.publisher, offer = excluded.offer,
                sku = excluded.sku, file_path = excluded.file_path, generation = excluded.generation, secure_boot_json = excluded.secure_boot_json,
                registered_at = excluded.registered_at
            """), image.Publisher, image.Offer, image.Sku)
            .With("@publisher", image.Publisher).With("@offer", image.Offer).With("@sku", image.Sku).With("@version", image.Version.ToString())
            .With("@file", image.FilePath).With("@gen", image.Generation.ToString())
            .With("@sb", SqlCommands.ToJson(image.SecureBoot, ControlPlaneJson.Default.SecureBootFinding))
            .With("@at", StoreDatabase.ToUnixMilliseconds(image.RegisteredAt));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<ImageEntry>> ListAsync(string publisher, string offer, string sku, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = KeyParameters(SqlCommands.Create(connection, null, $"SELECT {Columns} FROM images WHERE {Keys}"),
            publisher, offer, sku);
        return await ReadAllAsync(command, cancellationToken);
    }

    public async Task<IReadOnlyList<ImageEntry>> ListAllAsync(CancellationToken cancellationToken)
    {
        await using DbConnection connection = await database.OpenConnectionAsync(cancellationToken);
        await using DbCommand command = SqlCommands.Create(connection, null, $"SELECT {Columns} FROM images ORDER BY publisher_key, offer_key, sku_key");
        return await ReadAllAsync(command, cancellationToken);
    }

    public async Task<bool> RemoveAsync(string publisher, string offer, string sku, string version, CancellationToken cancellationToken)
    {
        await using StoreWriter writer = await database.OpenWriterAsync(cancellationToken);
        await using DbCommand command = KeyParameters(SqlCommands.Create(writer.Connection, null, $"DELETE FROM images WHERE {Keys} AND version = @version"),
            publisher, offer, sku).With("@version", version);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    private static DbCommand KeyParameters(DbCommand command, string publisher, string offer, string sku) =>
        command.With("@p", ResourceIds.Key(publisher)).With("@o", ResourceIds.Key(offer)).With("@k", ResourceIds.Key(sku));

    private static async Task<IReadOnlyList<ImageEntry>> ReadAllAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var images = new List<ImageEntry>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            _ = ImageVersion.TryParse(reader.GetString(3), out ImageVersion version);
            images.Add(new ImageEntry
            {
                Publisher = reader.GetString(0),
                Offer = reader.GetString(1),
                Sku = reader.GetString(2),
                Version = version,
                FilePath = reader.GetString(4),
                Generation = SqlCommands.ParseEnum<HyperVGeneration>(reader.GetString(5)),
                SecureBoot = SqlCommands.FromJson(reader, 6, ControlPlaneJson.Default.SecureBootFinding) ?? new SecureBootFinding(null, ""),
                RegisteredAt = StoreDatabase.FromUnixMilliseconds(reader.GetInt64(7)),
            });
        }

        return images;
    }
}
