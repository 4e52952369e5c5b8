using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrustedLaunch.Cli.Commands.Arm;

/// <summary>One column of <c>-o table</c>: its header and how to read it from a resource.</summary>
internal sealed record TableColumn(string Header, Func<JsonElement, string?> Value);

/// <summary>Prints control-plane answers as az does: indented JSON (default) or a table with a header and a dashed rule.</summary>
internal static class ArmOutput
{
    // Written straight from the element (what JsonSerializer would do, without its reflection: NativeAOT-safe).
    private static readonly JsonWriterOptions Indented = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(TextWriter output, string format, JsonElement value, IReadOnlyList<TableColumn> columns)
    {
        if (format == "table")
            WriteTable(output, value.ValueKind == JsonValueKind.Array ? [.. value.EnumerateArray()] : [value], columns);
        else
            output.WriteLine(Indent(value));
    }

    /// <summary>An answer the CLI built (az's summary objects) as an element, written by the node itself: no reflection.</summary>
    public static JsonElement Element(JsonNode value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
            value.WriteTo(writer);
        return JsonElement.Parse(buffer.WrittenSpan);
    }

    /// <summary>Resources gathered from several answers as one JSON array.</summary>
    public static JsonElement Element(IEnumerable<JsonElement> values)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (JsonElement value in values)
                value.WriteTo(writer);
            writer.WriteEndArray();
        }

        return JsonElement.Parse(buffer.WrittenSpan);
    }

    /// <summary>Indented JSON as az prints it (relaxed escaping: non-ASCII and HTML characters as they are).</summary>
    public static string Indent(JsonElement value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, Indented))
            value.WriteTo(writer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static void WriteTable(TextWriter output, IReadOnlyList<JsonElement> rows, IReadOnlyList<TableColumn> columns)
    {
        string[][] cells = [.. rows.Select(r => columns.Select(c => c.Value(r) ?? "").ToArray())];
        int[] widths = [.. columns.Select((c, i) => Math.Max(c.Header.Length, cells.Length == 0 ? 0 : cells.Max(row => row[i].Length)))];
        output.WriteLine(string.Join("  ", columns.Select((c, i) => c.Header.PadRight(widths[i]))).TrimEnd());
        output.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (string[] row in cells)
            output.WriteLine(string.Join("  ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd());
    }

    /// <summary>The string at a dotted path (<c>properties.hardwareProfile.vmSize</c>), or null.</summary>
    public static string? At(JsonElement element, string path)
    {
        foreach (string part in path.Split('.'))
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(part, out element))
                return null;
        }

        return element.ValueKind switch
        {
            JsonValueKind.String => element.GetString(),
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            _ => element.GetRawText(),
        };
    }

    /// <summary>The <c>PowerState/…</c> of an instance view, as az's <c>powerState</c> ("VM running").</summary>
    public static string? PowerState(JsonElement instanceView) => Status(instanceView, "PowerState/", display: true);

    /// <summary>The first status whose code starts with <paramref name="prefix"/>: its displayStatus, or the rest of its code.</summary>
    public static string? Status(JsonElement instanceView, string prefix, bool display = false)
    {
        if (instanceView.ValueKind != JsonValueKind.Object || !instanceView.TryGetProperty("statuses", out JsonElement statuses))
            return null;
        foreach (JsonElement status in statuses.EnumerateArray())
        {
            string code = status.GetProperty("code").GetString() ?? "";
            if (code.StartsWith(prefix, StringComparison.Ordinal))
                return display && status.TryGetProperty("displayStatus", out JsonElement d) ? d.GetString() : code[prefix.Length..];
        }

        return null;
    }
}
