using System.Globalization;
using System.Text.Json;

namespace TrustedLaunch.Vmgs.Lifecycle;

/// <summary>One snapshot of a VM's disk set: a folder holding both copies and <c>manifest.json</c>.</summary>
public sealed record VmDiskSnapshot
{
    public const string ManifestName = "manifest.json";

    public required string SnapshotId { get; init; }
    public required string Directory { get; init; }
    public required DateTimeOffset CreatedUtc { get; init; }
    public required string OsDiskFile { get; init; }
    public required string OsDiskSha256 { get; init; }
    public required string VmgsFile { get; init; }
    public required string VmgsSha256 { get; init; }

    /// <summary>Full path of the OS disk copy.</summary>
    public string OsDiskPath => Path.Combine(Directory, OsDiskFile);

    /// <summary>Full path of the VMGS copy.</summary>
    public string VmgsPath => Path.Combine(Directory, VmgsFile);

    internal byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("snapshotId", SnapshotId);
            json.WriteString("createdUtc", CreatedUtc.ToString("O", CultureInfo.InvariantCulture));
            json.WriteString("osDisk", OsDiskFile);
            json.WriteString("osDiskSha256", OsDiskSha256);
            json.WriteString("vmgs", VmgsFile);
            json.WriteString("vmgsSha256", VmgsSha256);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Reads a snapshot folder's manifest.</summary>
    /// <exception cref="VmDiskSetException">Missing or malformed manifest.</exception>
    public static VmDiskSnapshot Load(string directory)
    {
        string path = Path.Combine(directory, ManifestName);
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            JsonElement root = document.RootElement;
            string Text(string name) => root.GetProperty(name).GetString() ?? throw new VmDiskSetException($"{path}: {name} is null.");
            return new VmDiskSnapshot
            {
                SnapshotId = Text("snapshotId"),
                Directory = Path.GetFullPath(directory),
                CreatedUtc = DateTimeOffset.Parse(Text("createdUtc"), CultureInfo.InvariantCulture),
                OsDiskFile = Path.GetFileName(Text("osDisk")),
                OsDiskSha256 = Text("osDiskSha256"),
                VmgsFile = Path.GetFileName(Text("vmgs")),
                VmgsSha256 = Text("vmgsSha256"),
            };
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new VmDiskSetException($"Snapshot manifest {path} is missing or malformed: {e.Message}", e);
        }
    }
}

/// <summary>A disk-set operation failed: the VMGS is in use, a snapshot is incomplete or altered.</summary>
public sealed class VmDiskSetException : Exception
{
    public VmDiskSetException() { }

    public VmDiskSetException(string message) : base(message) { }

    public VmDiskSetException(string message, Exception innerException) : base(message, innerException) { }
}
