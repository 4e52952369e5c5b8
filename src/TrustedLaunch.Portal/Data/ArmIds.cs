namespace TrustedLaunch.Portal.Data;

/// <summary>Reading ARM resource ids (<c>/subscriptions/{id}/resourceGroups/{name}/providers/…</c>).</summary>
public static class ArmIds
{
    /// <summary>The segment after <paramref name="key"/> (compared without case, as ARM does), or null.</summary>
    public static string? Segment(string? id, string key)
    {
        string[] parts = (id ?? "").Split('/');
        for (int i = 0; i + 1 < parts.Length; i++)
        {
            if (parts[i].Equals(key, StringComparison.OrdinalIgnoreCase))
                return parts[i + 1];
        }

        return null;
    }
}
