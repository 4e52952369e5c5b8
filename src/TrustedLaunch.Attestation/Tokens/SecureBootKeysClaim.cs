using System.Text.Json;

namespace TrustedLaunch.Attestation;

/// <summary>Writes and reads the <see cref="AttestationClaims.SecureBootKeys"/> claim: PK, KEK, db and the dbx level as measured.</summary>
public static class SecureBootKeysClaim
{
    public static void Write(Utf8JsonWriter w, SecureBootKeys keys)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(keys);
        w.WriteStartObject(AttestationClaims.SecureBootKeys);
        WriteEntries(w, "pk", keys.Pk);
        WriteEntries(w, "kek", keys.Kek);
        WriteEntries(w, "db", keys.Db);
        w.WriteStartObject("dbx");
        w.WriteNumber("count", keys.DbxCount);
        if (keys.DbxDigest is not null)
            w.WriteString("digest", keys.DbxDigest);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>The claim of a token's (or stored result's) claims object; null when absent or not shaped as written.</summary>
    public static SecureBootKeys? Read(JsonElement claims)
    {
        if (claims.ValueKind != JsonValueKind.Object || !claims.TryGetProperty(AttestationClaims.SecureBootKeys, out JsonElement keys)
            || keys.ValueKind != JsonValueKind.Object)
            return null;
        if (ReadEntries(keys, "pk") is not { } pk || ReadEntries(keys, "kek") is not { } kek || ReadEntries(keys, "db") is not { } db)
            return null;
        int count = 0;
        string? digest = null;
        if (keys.TryGetProperty("dbx", out JsonElement dbx) && dbx.ValueKind == JsonValueKind.Object)
        {
            if (dbx.TryGetProperty("count", out JsonElement c) && c.ValueKind == JsonValueKind.Number)
                count = c.GetInt32();
            if (dbx.TryGetProperty("digest", out JsonElement d) && d.ValueKind == JsonValueKind.String)
                digest = d.GetString();
        }

        return new SecureBootKeys { Pk = pk, Kek = kek, Db = db, DbxCount = count, DbxDigest = digest };
    }

    private static void WriteEntries(Utf8JsonWriter w, string name, IReadOnlyList<KeyEntry> entries)
    {
        w.WriteStartArray(name);
        foreach (KeyEntry e in entries)
        {
            w.WriteStartObject();
            w.WriteString("name", e.Name);
            w.WriteString("sha256", e.Sha256);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static List<KeyEntry>? ReadEntries(JsonElement keys, string name)
    {
        if (!keys.TryGetProperty(name, out JsonElement list) || list.ValueKind != JsonValueKind.Array)
            return null;
        var entries = new List<KeyEntry>();
        foreach (JsonElement e in list.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("name", out JsonElement n) || !e.TryGetProperty("sha256", out JsonElement h)
                || n.ValueKind != JsonValueKind.String || h.ValueKind != JsonValueKind.String)
                return null;
            entries.Add(new KeyEntry(n.GetString()!, h.GetString()!));
        }

        return entries;
    }
}
