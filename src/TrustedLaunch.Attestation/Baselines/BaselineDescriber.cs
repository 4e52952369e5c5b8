using System.Globalization;

namespace TrustedLaunch.Attestation;

/// <summary>Explains a PCR deviation from the appraised boot states: which component changed, from what to what.</summary>
internal static class BaselineDescriber
{
    public static string Describe(int pcr, AttestedBootState before, AttestedBootState after, string expectedHex, string actualHex)
    {
        var changes = new List<string>();
        switch (pcr)
        {
            case 0:
                if (!string.Equals(before.FirmwareVersion, after.FirmwareVersion, StringComparison.Ordinal))
                    changes.Add($"firmware version changed from '{before.FirmwareVersion}' to '{after.FirmwareVersion}'");
                break;
            case 4:
                DescribeBootChain(before, after, changes);
                break;
            case 7:
                DescribeSecureBoot(before, after, changes);
                break;
            case 8:
                if (!string.Equals(before.KernelCommandLine, after.KernelCommandLine, StringComparison.Ordinal) && before.KernelCommandLine is not null && after.KernelCommandLine is not null)
                    changes.Add($"kernel command line changed from '{before.KernelCommandLine}' to '{after.KernelCommandLine}'");
                else
                    DescribeList("kernel command line", CommandLines(before), CommandLines(after), changes);
                DescribeList("grub command", before.GrubCommands, after.GrubCommands, changes);
                break;
            case 9:
                DescribeFiles(before.GrubFiles, after.GrubFiles, changes);
                break;
            case 14:
                DescribeList("MOK variable", before.ShimVariables, after.ShimVariables, changes);
                break;
            default:
                break;
        }

        string prefix = string.Create(CultureInfo.InvariantCulture, $"PCR {pcr}: ");
        return changes.Count > 0
            ? prefix + string.Join(", ", changes) + $" (value {Short(expectedHex)} -> {Short(actualHex)})"
            : prefix + $"value changed from {expectedHex} to {actualHex}";
    }

    private static void DescribeBootChain(AttestedBootState before, AttestedBootState after, List<string> changes)
    {
        int count = Math.Max(before.BootChain.Count, after.BootChain.Count);
        for (int i = 0; i < count; i++)
        {
            BootComponent? old = i < before.BootChain.Count ? before.BootChain[i] : null;
            BootComponent? now = i < after.BootChain.Count ? after.BootChain[i] : null;
            if (old is null && now is not null)
                changes.Add($"{now.Name} added (digest {now.Digest}, {AuthorityText(now, before)})");
            else if (now is null && old is not null)
                changes.Add($"{old.Name} no longer loaded");
            else if (old is not null && now is not null && !string.Equals(old.Digest, now.Digest, StringComparison.OrdinalIgnoreCase))
                changes.Add($"{now.Name} digest changed from {old.Digest} to {now.Digest}, {AuthorityText(now, before)}");
        }
    }

    // "authority unknown": the image was admitted by nothing the baseline boot used.
    private static string AuthorityText(BootComponent component, AttestedBootState baseline)
    {
        if (component.Authority is null)
            return "authority unknown (none logged)";
        bool known = baseline.BootChain.Any(c => c.AuthoritySha256 is not null && string.Equals(c.AuthoritySha256, component.AuthoritySha256, StringComparison.OrdinalIgnoreCase));
        return known ? $"authority {component.AuthorityName ?? component.Authority} (as in the baseline)" : $"authority unknown ({component.Authority})";
    }

    private static void DescribeSecureBoot(AttestedBootState before, AttestedBootState after, List<string> changes)
    {
        if (before.SecureBootEnabled != after.SecureBootEnabled)
            changes.Add(after.SecureBootEnabled == true ? "Secure Boot enabled" : after.SecureBootEnabled == false ? "Secure Boot disabled" : "Secure Boot state no longer measured");
        DescribeKeys("PK", before.Keys.Pk, after.Keys.Pk, changes);
        DescribeKeys("KEK", before.Keys.Kek, after.Keys.Kek, changes);
        DescribeKeys("db", before.Keys.Db, after.Keys.Db, changes);
        if (!string.Equals(before.Keys.DbxDigest, after.Keys.DbxDigest, StringComparison.Ordinal))
            changes.Add(string.Create(CultureInfo.InvariantCulture, $"dbx changed ({before.Keys.DbxCount} -> {after.Keys.DbxCount} entries)"));
        if (before.FirmwareDebugMode != after.FirmwareDebugMode)
            changes.Add(after.FirmwareDebugMode ? "UEFI debug mode enabled" : "UEFI debug mode disabled");
        DescribeList("authority", before.Authorities, after.Authorities, changes);
    }

    private static string[] CommandLines(AttestedBootState boot) =>
        boot.KernelArguments.Where(a => a.Origin == "commandLine").Select(a => a.Arguments).ToArray();

    private static void DescribeKeys(string name, IReadOnlyList<KeyEntry> before, IReadOnlyList<KeyEntry> after, List<string> changes)
    {
        foreach (KeyEntry added in after.Where(a => !before.Any(b => b.Sha256 == a.Sha256)))
            changes.Add($"{name} entry added '{added.Name}' ({added.Sha256})");
        foreach (KeyEntry removed in before.Where(b => !after.Any(a => a.Sha256 == b.Sha256)))
            changes.Add($"{name} entry removed '{removed.Name}' ({removed.Sha256})");
    }

    private static void DescribeFiles(IReadOnlyList<MeasuredFileDigest> before, IReadOnlyList<MeasuredFileDigest> after, List<string> changes)
    {
        foreach (MeasuredFileDigest now in after)
        {
            MeasuredFileDigest? old = before.FirstOrDefault(b => b.Path == now.Path);
            if (old is null)
                changes.Add($"file {now.Path} added (digest {now.Digest})");
            else if (!string.Equals(old.Digest, now.Digest, StringComparison.OrdinalIgnoreCase))
                changes.Add($"{now.Path} digest changed from {old.Digest} to {now.Digest}");
        }

        foreach (MeasuredFileDigest old in before.Where(b => !after.Any(a => a.Path == b.Path)))
            changes.Add($"file {old.Path} no longer read");
    }

    private static void DescribeList(string what, IReadOnlyList<string> before, IReadOnlyList<string> after, List<string> changes)
    {
        var remaining = before.ToList();
        var added = new List<string>();
        foreach (string item in after)
        {
            if (!remaining.Remove(item))
                added.Add(item);
        }

        // Multi-line GRUB commands (menuentry blocks) are shown on one line.
        changes.AddRange(added.Select(a => $"{what} added '{OneLine(a)}'"));
        changes.AddRange(remaining.Select(r => $"{what} removed '{OneLine(r)}'"));
    }

    private static string OneLine(string text) => string.Join(" ", text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));

    private static string Short(string hex) => hex.Length > 16 ? hex[..16] + "…" : hex;
}
