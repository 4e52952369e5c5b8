namespace TrustedLaunch.Cli;

/// <summary>VM ids on the command line: a GUID in its 8-4-4-4-12 form, nothing else (it goes into certificate subjects).</summary>
internal static class VmIdText
{
    /// <summary>Parses <paramref name="text"/>; a bad id is <see cref="ExitCode.BadInput"/> naming the option.</summary>
    public static Guid Parse(string text, string option = "--vm-id") => Guid.TryParseExact(text.Trim(), "D", out Guid id)
        ? id
        : throw new CliException(ExitCode.BadInput, $"{option} '{text}' is not a UUID (8-4-4-4-12 hex digits).");

    /// <summary>Parses <paramref name="text"/>, or makes a new id when it is null.</summary>
    public static Guid ParseOrNew(string? text, string option = "--vm-id") => text is null ? Guid.NewGuid() : Parse(text, option);
}
