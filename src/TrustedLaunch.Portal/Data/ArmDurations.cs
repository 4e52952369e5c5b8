using System.Globalization;
using System.Xml;

namespace TrustedLaunch.Portal.Data;

/// <summary>ARM's ISO 8601 durations (<c>PT1.5S</c>) as people read them.</summary>
public static class ArmDurations
{
    public static string Text(string? duration)
    {
        if (string.IsNullOrEmpty(duration))
            return "";
        TimeSpan span;
        try
        {
            span = XmlConvert.ToTimeSpan(duration);
        }
        catch (FormatException)
        {
            return duration; // not ISO 8601: shown as the API gave it
        }

        return span.TotalSeconds < 60 ? span.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s"
            : span.TotalMinutes < 60 ? $"{(int)span.TotalMinutes} min {span.Seconds} s"
            : $"{(int)span.TotalHours} h {span.Minutes} min";
    }
}
