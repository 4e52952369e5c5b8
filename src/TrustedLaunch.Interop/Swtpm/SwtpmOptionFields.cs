using System.Globalization;

namespace TrustedLaunch.Interop.Swtpm;

/// <summary>swtpm's <c>key=value,key=value</c> option values (<c>--ctrl</c>, <c>--tpmstate</c>, <c>--key</c>, …).</summary>
public sealed class SwtpmOptionFields
{
    private readonly Dictionary<string, string> _fields;
    private readonly string _option;

    private SwtpmOptionFields(string option, Dictionary<string, string> fields)
    {
        _option = option;
        _fields = fields;
    }

    /// <exception cref="SwtpmArgumentException">A part is not <c>key=value</c>.</exception>
    public static SwtpmOptionFields Parse(string option, string value)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string part in value.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
                throw new SwtpmArgumentException($"{option}: '{part}' is not key=value");
            fields[part[..eq]] = part[(eq + 1)..];
        }

        return new SwtpmOptionFields(option, fields);
    }

    public string? Get(string key) => _fields.GetValueOrDefault(key);

    public bool Has(string key) => _fields.ContainsKey(key);

    /// <summary>Fails on any field outside <paramref name="known"/>, so a typo is never silently ignored.</summary>
    public void RequireOnly(params string[] known)
    {
        foreach (string key in _fields.Keys)
        {
            if (!known.Contains(key, StringComparer.Ordinal))
                throw new SwtpmArgumentException($"{_option}: '{key}=' is not supported here (supported: {string.Join(", ", known)})");
        }
    }

    public int? GetInt(string key)
    {
        string? text = Get(key);
        if (text is null)
            return null;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new SwtpmArgumentException($"{_option}: {key}='{text}' is not a number");
    }

    /// <summary>An octal file mode such as <c>0600</c>.</summary>
    public UnixFileMode? GetMode(string key)
    {
        string? text = Get(key);
        if (text is null)
            return null;
        try
        {
            return (UnixFileMode)Convert.ToInt32(text, 8);
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            throw new SwtpmArgumentException($"{_option}: {key}='{text}' is not an octal file mode", e);
        }
    }
}
