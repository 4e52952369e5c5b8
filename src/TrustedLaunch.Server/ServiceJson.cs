using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TrustedLaunch.Server;

/// <summary>The one JSON shape of the HTTP API: camelCase, enums as strings, nulls omitted.</summary>
public static class ServiceJson
{
    public static readonly JsonSerializerOptions Options = Configure(new JsonSerializerOptions());

    /// <summary>For documents whose standard uses snake_case names (OpenID provider metadata).</summary>
    public static readonly JsonSerializerOptions SnakeCaseOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Applies the API's conventions to <paramref name="options"/> (used for ASP.NET Core's HTTP JSON too).</summary>
    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        options.AllowDuplicateProperties = false; // a request with a field given twice is refused, not read as its last value
        return options;
    }

    /// <summary>A detached copy of a stored JSON text's root element.</summary>
    public static JsonElement ParseElement(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
