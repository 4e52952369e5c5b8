using System.Text.Json;
using TrustedLaunch.Tcg.EventLog;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Tcg.EventLog.Tests;

/// <summary>One corpus folder: its log bytes, published PCRs and the source's expectations (expected.json).</summary>
public sealed class CorpusLog
{
    private CorpusLog(string folder)
    {
        Folder = folder;
        Name = Path.GetFileName(folder);
        string log = Path.Combine(folder, "binary_bios_measurements");
        Bytes = File.Exists(log) ? File.ReadAllBytes(log) : null;
        string pcrs = Path.Combine(folder, "pcrs.txt");
        Pcrs = File.Exists(pcrs) ? PcrValue.ParseList(File.ReadAllText(pcrs)) : null;
        string expected = Path.Combine(folder, "expected.json");
        Expected = File.Exists(expected) ? JsonDocument.Parse(File.ReadAllText(expected)).RootElement : null;
    }

    public string Folder { get; }

    public string Name { get; }

    public byte[]? Bytes { get; }

    public IReadOnlyList<PcrValue>? Pcrs { get; }

    public JsonElement? Expected { get; }

    public TcgEventLog Parse() => TcgEventLog.Parse(Bytes ?? throw new InvalidOperationException($"{Name} has no event log"));

    public string? ExpectedString(params string[] path)
    {
        var e = Find(path);
        return e is { ValueKind: JsonValueKind.String } s ? s.GetString() : null;
    }

    public JsonElement? Find(params string[] path)
    {
        if (Expected is not { } e)
            return null;
        foreach (string p in path)
        {
            if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(p, out e))
                return null;
        }

        return e;
    }

    public static CorpusLog Public(string name) => new(Path.Combine(RepositoryPaths.CorpusRoot, "public", name));

    public static CorpusLog Qemu(string name) => new(Path.Combine(RepositoryPaths.CorpusRoot, "qemu", name));

    /// <summary>Public folders holding an event log (python-uefivars-t02 is a variable store, not a log).</summary>
    public static TheoryData<string> PublicLogNames()
    {
        var data = new TheoryData<string>();
        foreach (string dir in RepositoryPaths.PublicLogs)
        {
            if (File.Exists(Path.Combine(dir, "binary_bios_measurements")))
                data.Add(Path.GetFileName(dir));
        }

        return data;
    }

    public static TheoryData<string> QemuLogNames()
    {
        var data = new TheoryData<string>();
        foreach (string dir in RepositoryPaths.QemuCaptures)
        {
            if (File.Exists(Path.Combine(dir, "binary_bios_measurements")))
                data.Add(Path.GetFileName(dir));
        }

        return data;
    }

    /// <summary>Logs the sources say must be rejected (not an event log at all).</summary>
    public static bool IsKnownInvalid(string name) => name is "keylime-binary_bios_measurements-bogus" or "keylime-binary_bios_measurements-empty";

    /// <summary>The malformed Spec ID (vendorInfo outside the event), which a strict parser must reject.</summary>
    public static bool IsMalformedSpecId(string name) => name == "tpm2-tools-specid-vendordata";
}
