using System.Text.Json;
using TrustedLaunch.Interop.Firmware;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Interop.Tests;

public sealed class FirmwareDescriptorTests
{
    private static JsonDocument Render(bool enrolled) =>
        JsonDocument.Parse(FirmwareDescriptor.TrustedLaunch("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", "/var/lib/tl/vars.fd", enrolled).ToJson());

    [Fact]
    public void TrustedLaunch_Enrolled_HasQemuSchemaFields()
    {
        using JsonDocument doc = Render(enrolled: true);
        JsonElement root = doc.RootElement;
        Assert.Equal(["uefi"], root.GetProperty("interface-types").EnumerateArray().Select(e => e.GetString()!));
        JsonElement mapping = root.GetProperty("mapping");
        Assert.Equal("flash", mapping.GetProperty("device").GetString());
        Assert.Equal("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", mapping.GetProperty("executable").GetProperty("filename").GetString());
        Assert.Equal("raw", mapping.GetProperty("executable").GetProperty("format").GetString());
        Assert.Equal("/var/lib/tl/vars.fd", mapping.GetProperty("nvram-template").GetProperty("filename").GetString());
        JsonElement target = Assert.Single(root.GetProperty("targets").EnumerateArray());
        Assert.Equal("x86_64", target.GetProperty("architecture").GetString());
        Assert.Equal(["pc-q35-*"], target.GetProperty("machines").EnumerateArray().Select(e => e.GetString()!));
        string[] features = root.GetProperty("features").EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.Equal(["acpi-s3", "enrolled-keys", "requires-smm", "secure-boot", "verbose-dynamic"], features);
    }

    [Fact]
    public void TrustedLaunch_EmptyKeyStore_HasNoEnrolledKeys()
    {
        using JsonDocument doc = Render(enrolled: false);
        string?[] features = doc.RootElement.GetProperty("features").EnumerateArray().Select(e => e.GetString()).ToArray();
        Assert.DoesNotContain("enrolled-keys", features);
        Assert.Contains("secure-boot", features);
        Assert.Contains("requires-smm", features);
    }

    [Fact]
    public void ToJson_UnknownFeature_Refused()
    {
        FirmwareDescriptor d = FirmwareDescriptor.TrustedLaunch("/c", "/v", true) with { Features = ["secure-boot", "secureboot"] };
        Assert.Contains("'secureboot' is not a QEMU firmware feature", Assert.Throws<ArgumentException>(d.ToJson).Message, StringComparison.Ordinal);
    }

    /// <summary>The oracle: Debian's own OVMF descriptor (what libvirt here already parses) has the same members, same shapes.</summary>
    [Fact]
    [IntegrationTest]
    public void TrustedLaunch_HasTheShapeOfDebiansOwnDescriptor()
    {
        const string debian = "/usr/share/qemu/firmware/40-edk2-x86_64-secure-enrolled.json";
        Assert.True(File.Exists(debian), $"{debian} is missing (apt-get install ovmf)");
        using JsonDocument theirs = JsonDocument.Parse(File.ReadAllText(debian));
        using JsonDocument mine = Render(enrolled: true);
        static string[] Names(JsonElement e) => e.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(Names(theirs.RootElement), Names(mine.RootElement));
        Assert.Equal(Names(theirs.RootElement.GetProperty("mapping")), Names(mine.RootElement.GetProperty("mapping")));
        Assert.Equal(Names(theirs.RootElement.GetProperty("mapping").GetProperty("executable")), Names(mine.RootElement.GetProperty("mapping").GetProperty("executable")));
        Assert.Equal(Names(theirs.RootElement.GetProperty("targets")[0]), Names(mine.RootElement.GetProperty("targets")[0]));
        var theirFeatures = theirs.RootElement.GetProperty("features").EnumerateArray().Select(e => e.GetString()).ToHashSet();
        foreach (string? feature in new[] { "enrolled-keys", "requires-smm", "secure-boot" })
            Assert.Contains(feature, theirFeatures);
        foreach (string? feature in theirFeatures)
            Assert.Contains(feature, FirmwareDescriptor.KnownFeatures);
    }
}
