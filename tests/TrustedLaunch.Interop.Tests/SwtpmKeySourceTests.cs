using System.Text;
using TrustedLaunch.Interop.Swtpm;

namespace TrustedLaunch.Interop.Tests;

public sealed class SwtpmKeySourceTests
{
    [Fact]
    public void DeriveSealingKey_Passphrase_SameForSetupAndSocket()
    {
        // swtpm_setup gets --pwdfile-fd N --cipher aes-256-cbc, swtpm gets --key pwdfd=M,mode=aes-256-cbc: one libvirt secret, one key.
        byte[] fromSetup = new SwtpmKeySource(SwtpmKeyKind.PassphraseFd, null, 21, "aes-256-cbc").DeriveSealingKey("s3cret"u8);
        byte[] fromSocket = SwtpmKeySource.ParseKeyOption("--key", "pwdfd=23,mode=aes-256-cbc").DeriveSealingKey("s3cret"u8);
        Assert.Equal(32, fromSetup.Length);
        Assert.Equal(fromSetup, fromSocket);
        Assert.NotEqual(fromSetup, fromSocket.Length == 32 ? SwtpmKeySource.ParseKeyOption("--key", "pwdfd=1").DeriveSealingKey("s3cret!"u8) : []);
    }

    [Fact]
    public void DeriveSealingKey_HexAndBinaryKeyOfCipherLength_Accepted()
    {
        byte[] raw = Enumerable.Range(1, 16).Select(i => (byte)i).ToArray();
        byte[] hex = SwtpmKeySource.ParseKeyOption("--key", "file=/k").DeriveSealingKey(Encoding.ASCII.GetBytes(Convert.ToHexString(raw) + "\n"));
        byte[] binary = SwtpmKeySource.ParseKeyOption("--key", "fd=4,format=binary").DeriveSealingKey(raw);
        Assert.Equal(hex, binary);
        Assert.NotEqual(raw, hex[..16]); // never the key itself: always derived
    }

    [Theory]
    [InlineData("file=/k,mode=aes-256-cbc", "00112233445566778899aabbccddeeff", "needs 32")]
    [InlineData("file=/k", "not-hex", "not hexadecimal")]
    [InlineData("pwdfd=3", "", "passphrase is empty")]
    public void DeriveSealingKey_Wrong_SaysWhat(string option, string secret, string message) =>
        Assert.Contains(message, Assert.Throws<SwtpmArgumentException>(() => SwtpmKeySource.ParseKeyOption("--key", option).DeriveSealingKey(Encoding.ASCII.GetBytes(secret))).Message,
            StringComparison.Ordinal);

    [Fact]
    public void ReadSealingKey_MissingFile_NamesIt() =>
        Assert.Contains("/nonexistent/pw", Assert.Throws<SwtpmArgumentException>(() => SwtpmKeySource.ParseKeyOption("--key", "pwdfile=/nonexistent/pw").ReadSealingKey()).Message,
            StringComparison.Ordinal);

    [Theory]
    [InlineData("mode=aes-256-cbc", "needs one of file=, fd=, pwdfile=, pwdfd=")]
    [InlineData("file=/k,format=base64", "format='base64'")]
    [InlineData("file=/k,colour=blue", "'colour=' is not supported")]
    public void ParseKeyOption_Bad_SaysWhat(string value, string message) =>
        Assert.Contains(message, Assert.Throws<SwtpmArgumentException>(() => SwtpmKeySource.ParseKeyOption("--key", value)).Message, StringComparison.Ordinal);
}
