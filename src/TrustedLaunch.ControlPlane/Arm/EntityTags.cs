using System.Globalization;

namespace TrustedLaunch.ControlPlane.Arm;

/// <summary>
/// ETags as Compute returns them: the resource's version as a quoted integer (<c>ETag: "5"</c>), and the
/// <c>If-Match</c> / <c>If-None-Match</c> preconditions of ARM's Addendum ("ETag" table): <c>If-Match</c> on an absent
/// resource or with a different tag, and <c>If-None-Match: *</c> on an existing one, give 412.
/// </summary>
public static class EntityTags
{
    /// <summary><c>"5"</c> for version 5.</summary>
    public static string Format(long version) => "\"" + version.ToString(CultureInfo.InvariantCulture) + "\"";

    /// <summary>
    /// Null when the request's preconditions hold for a resource at <paramref name="currentVersion"/> (null: absent),
    /// else the 412 refusal naming the header that failed.
    /// </summary>
    public static ArmFailure? CheckPreconditions(string? ifMatch, string? ifNoneMatch, long? currentVersion)
    {
        if (!string.IsNullOrWhiteSpace(ifMatch))
        {
            bool holds = currentVersion is long version && Matches(ifMatch, version);
            if (!holds)
                return ArmErrors.PreconditionFailed("If-Match");
        }

        if (!string.IsNullOrWhiteSpace(ifNoneMatch) && currentVersion is long existing && Matches(ifNoneMatch, existing))
            return ArmErrors.PreconditionFailed("If-None-Match");
        return null;
    }

    /// <summary>Whether a header's list of entity tags (or <c>*</c>) names <paramref name="version"/>; weak tags compare by value.</summary>
    public static bool Matches(string header, long version)
    {
        ArgumentNullException.ThrowIfNull(header);
        foreach (string raw in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (raw == "*")
                return true;
            string tag = raw.StartsWith("W/", StringComparison.Ordinal) ? raw[2..] : raw;
            if (tag.Length >= 2 && tag[0] == '"' && tag[^1] == '"')
                tag = tag[1..^1];
            if (long.TryParse(tag, NumberStyles.None, CultureInfo.InvariantCulture, out long value) && value == version)
                return true;
        }

        return false;
    }
}
