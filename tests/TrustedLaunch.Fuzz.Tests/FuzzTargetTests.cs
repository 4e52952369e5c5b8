namespace TrustedLaunch.Fuzz.Tests;

/// <summary>What counts as a crash: the harness lets a format's typed refusal through, nothing else.</summary>
public sealed class FuzzTargetTests
{
    private static FuzzTarget Throwing(Exception exception) =>
        new("test", "throws", _ => throw exception, e => e is FormatException);

    [Fact]
    public void Execute_TypedException_IsARefusal() =>
        Assert.False(Throwing(new FormatException("bad")).Execute(new byte[] { 1 }));

    [Fact]
    public void Execute_UntypedException_Propagates() =>
        Assert.Throws<InvalidOperationException>(() => Throwing(new InvalidOperationException()).Execute(new byte[] { 1 }));

    [Fact]
    public void Execute_NoException_IsAnAcceptance() =>
        Assert.True(new FuzzTarget("test", "accepts", _ => { }, _ => false).Execute(ReadOnlyMemory<byte>.Empty));

    [Fact]
    public void Targets_CoverEveryUntrustedInputFamilyOnce()
    {
        string[] names = FuzzTargets.All.Select(t => t.Name).ToArray();

        Assert.Equal(names.Distinct().Count(), names.Length);
        Assert.Equal(
            ["eventlog", "tpm", "pe", "efi-variables", "ovmf-vars", "vmgs", "modsig", "guest-frame", "evidence", "arm-vm-body"],
            names);
    }

    [Theory]
    [InlineData("eventlog")]
    [InlineData("tpm")]
    [InlineData("pe")]
    [InlineData("efi-variables")]
    [InlineData("ovmf-vars")]
    [InlineData("vmgs")]
    [InlineData("modsig")]
    [InlineData("guest-frame")]
    [InlineData("evidence")]
    [InlineData("arm-vm-body")]
    public void Execute_EmptyAndOneByteInputs_DoNotCrash(string target)
    {
        FuzzTarget fuzzTarget = FuzzTargets.Find(target)!;

        fuzzTarget.Execute(ReadOnlyMemory<byte>.Empty);
        for (int b = 0; b < 256; b++)
            fuzzTarget.Execute(new[] { (byte)b });
    }
}
