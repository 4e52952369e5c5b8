using System.Globalization;
using System.Text;

namespace TrustedLaunch.SecureBoot.Sbat;

/// <summary>
/// One SBAT CSV record (rhboot/shim SBAT.md): component_name, component_generation, vendor_name, vendor_package_name,
/// vendor_version, vendor_url.
/// </summary>
public sealed record SbatEntry(string Component, int Generation, string VendorName, string VendorPackage, string VendorVersion, string VendorUrl);

/// <summary>The content of a PE image's <c>.sbat</c> section: the generation numbers shim compares against SbatLevel.</summary>
public sealed record SbatMetadata(string Text, IReadOnlyList<SbatEntry> Entries)
{
    private const int MaxLength = 64 * 1024;

    /// <summary>
    /// Parses the section: ASCII lines of comma-separated fields up to the first NUL. Generations are read as shim reads
    /// them (atoi: leading digits, garbage counts as 0). Lines with fewer than two fields are dropped, as shim drops them.
    /// </summary>
    public static SbatMetadata Parse(ReadOnlySpan<byte> section)
    {
        int nul = section.IndexOf((byte)0);
        if (nul >= 0)
            section = section[..nul];
        if (section.Length > MaxLength)
            section = section[..MaxLength];
        string text = Encoding.ASCII.GetString(section);
        var entries = new List<SbatEntry>();
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            string[] f = line.Split(',');
            if (f.Length < 2 || f[0].Length == 0)
                continue;
            entries.Add(new SbatEntry(f[0], Atoi(f[1]), At(f, 2), At(f, 3), At(f, 4), At(f, 5)));
        }

        return new SbatMetadata(text, entries);
    }

    private static string At(string[] fields, int index) => index < fields.Length ? fields[index] : "";

    private static int Atoi(string value)
    {
        int end = 0;
        while (end < value.Length && end < 9 && char.IsAsciiDigit(value[end]))
            end++;
        return end == 0 ? 0 : int.Parse(value.AsSpan(0, end), NumberStyles.None, CultureInfo.InvariantCulture);
    }
}
