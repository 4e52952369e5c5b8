using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.Images.Disk;
using TrustedLaunch.Server.ControlPlane;
using TrustedLaunch.Testing;
using TrustedLaunch.Testing.Qemu;

namespace TrustedLaunch.Server.Tests.ControlPlane;

/// <summary>
/// Registering disk images: the generation detected from the disk (GPT + ESP = V2, MBR = V1), the Secure Boot verdict
/// with the Microsoft keys on Debian's real boot binaries, and the Gen1 rule applied to a registered Gen1 image.
/// </summary>
public sealed class ImageRegistrationTests(ArmTestService arm) : IClassFixture<ArmTestService>, IDisposable
{
    private readonly string _directory = RepositoryPaths.NewTempDirectory("tl-image-registration");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string VersionPath(string sku, string version) =>
        $"/subscriptions/{arm.SubscriptionId}/providers/Microsoft.Compute/locations/westus/publishers/Contoso/artifacttypes/vmimage/offers/linux/skus/{sku}/versions/{version}?api-version=2024-07-01";

    private Task<ArmAnswer> RegisterAsync(string sku, string version, string file) =>
        arm.SendAsync(HttpMethod.Put, VersionPath(sku, version), new JsonObject { ["properties"] = new JsonObject { ["filePath"] = file } });

    [Fact]
    public void Judge_DebiansShim_AllowedWithTheMicrosoftKeys_GrubIsNot()
    {
        SecureBootFinding shim = DiskImageProbe.Judge(File.ReadAllBytes(DebianBootChain.Shim));
        SecureBootFinding grub = DiskImageProbe.Judge(File.ReadAllBytes(DebianBootChain.Grub));

        Assert.True(shim.Passes, shim.Detail);
        Assert.Contains("Microsoft Corporation UEFI CA 2011", shim.Detail, StringComparison.Ordinal);
        Assert.False(grub.Passes, grub.Detail);
    }

    [Fact]
    public async Task Register_GptAndMbrDisks_GenerationDetectedAndRulesFollowIt()
    {
        string gen2 = Path.Combine(_directory, "gen2.raw");
        using (var disk = new FileStream(gen2, FileMode.Create))
        {
            disk.SetLength(8 * 1024 * 1024);
            GuidPartitionTable.Write(disk, 16384, Guid.NewGuid(), [new GptPartition(1, GptPartition.EfiSystemPartition, Guid.NewGuid(), 2048, 16000, 0, "ESP")]);
        }

        string gen1 = Path.Combine(_directory, "gen1.raw");
        byte[] mbr = new byte[1024 * 1024];
        mbr[446 + 4] = 0x83;
        mbr[510] = 0x55;
        mbr[511] = 0xAA;
        await File.WriteAllBytesAsync(gen1, mbr);

        ArmAnswer v2 = await RegisterAsync("uefi", "2.0.0", gen2);
        ArmAnswer v1 = await RegisterAsync("bios", "1.0.0", gen1);
        ArmAnswer listed = await arm.GetAsync(VersionPath("bios", "").Replace("/versions/?", "/versions?", StringComparison.Ordinal));

        Assert.True(v2.Status == HttpStatusCode.OK, v2.ToString());
        JsonElement properties = v2.Body.GetProperty("properties");
        Assert.Equal("V2", properties.GetProperty("hyperVGeneration").GetString());
        Assert.Equal("TrustedLaunchSupported", properties.GetProperty("features")[0].GetProperty("value").GetString());
        // This ESP holds no file system, so there is no boot loader to judge: said so, not guessed.
        Assert.False(properties.GetProperty("secureBootCheck").TryGetProperty("passes", out _));
        Assert.StartsWith("Not judged:", properties.GetProperty("secureBootCheck").GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("V1", v1.Body.GetProperty("properties").GetProperty("hyperVGeneration").GetString());
        Assert.Equal("1.0.0", Assert.Single(listed.Body.EnumerateArray().ToArray()).GetProperty("name").GetString());

        string group = await arm.CreateGroupAsync();
        JsonObject body = ArmTestService.VmBody();
        body["properties"]!["storageProfile"]!["imageReference"] = new JsonObject { ["publisher"] = "Contoso", ["offer"] = "linux", ["sku"] = "bios", ["version"] = "1.0.0" };
        ArmAnswer standard = await arm.PutVmAsync(group, "bios1", body.DeepClone().AsObject());
        body["properties"]!["securityProfile"] = ArmTestService.TrustedLaunch();
        ArmAnswer trusted = await arm.PutVmAsync(group, "bios2", body);

        Assert.Equal(HttpStatusCode.Created, standard.Status);
        Assert.False(standard.Body.GetProperty("properties").TryGetProperty("securityProfile", out _));
        Assert.Equal((HttpStatusCode.BadRequest, "TrustedLaunchImageNotSupported"), (trusted.Status, trusted.ErrorCode));
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("relative")]
    [InlineData("garbage")]
    [InlineData("badversion")]
    public async Task Register_Unusable_400(string kind)
    {
        string garbage = Path.Combine(_directory, "garbage.bin");
        await File.WriteAllBytesAsync(garbage, new byte[4096]);
        (string version, string file, string code) = kind switch
        {
            "missing" => ("1.0.0", Path.Combine(_directory, "nope.raw"), "InvalidParameter"),
            "relative" => ("1.0.0", "disk.raw", "InvalidParameter"),
            "garbage" => ("1.0.0", garbage, "InvalidImage"),
            _ => ("1.0", garbage, "InvalidParameter"),
        };

        ArmAnswer answer = await RegisterAsync("bad", version, file);

        Assert.Equal((HttpStatusCode.BadRequest, code), (answer.Status, answer.ErrorCode));
    }
}
