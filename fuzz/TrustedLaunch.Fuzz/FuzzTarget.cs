namespace TrustedLaunch.Fuzz;

/// <summary>
/// One parser family under fuzzing: <see cref="Parse"/> feeds it untrusted bytes, <see cref="IsTyped"/> says which
/// exceptions are that family's documented refusals. Any other exception, or a hang, is a bug.
/// </summary>
public sealed record FuzzTarget(string Name, string Covers, Action<ReadOnlyMemory<byte>> Parse, Func<Exception, bool> IsTyped)
{
    /// <summary>
    /// Runs the parser on <paramref name="input"/>: true when it accepted, false when it refused with a typed
    /// exception. Untyped exceptions propagate, which is what AFL++ records as a crash.
    /// </summary>
    public bool Execute(ReadOnlyMemory<byte> input)
    {
        try
        {
            Parse(input);
            return true;
        }
        catch (Exception e) when (IsTyped(e))
        {
            return false;
        }
    }
}
