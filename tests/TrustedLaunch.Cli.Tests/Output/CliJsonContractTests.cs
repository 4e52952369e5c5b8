using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using TrustedLaunch.Cli.Commands.Attest;
using TrustedLaunch.Cli.Commands.Ca;
using TrustedLaunch.Cli.Commands.EventLog;
using TrustedLaunch.Cli.Commands.Module;
using TrustedLaunch.Cli.Commands.SecureBoot;
using TrustedLaunch.Cli.Commands.Tpm;
using TrustedLaunch.Cli.Commands.Uefi;
using TrustedLaunch.Cli.Commands.Vtpm;
using TrustedLaunch.Tcg.EventLog;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Crypto;
using TrustedLaunch.Uefi.VariableStore;
using TrustedLaunch.Linux.ModuleSignature;
using TrustedLaunch.VTpm.Identity;

namespace TrustedLaunch.Cli.Tests.Output;

/// <summary>
/// The source-generated contracts the native <c>tl</c> prints <c>--json</c> with against the reflection options the
/// JIT host prints it with (the output before the contracts existed): the same bytes for the same value.
/// NativeTlTests compares the two binaries on one command line per family; these cover every corpus log.
/// </summary>
public sealed class CliJsonContractTests
{
    public static TheoryData<string> Logs => new(Directory.EnumerateFiles(RepositoryPaths.CorpusRoot, "binary_bios_measurements", SearchOption.AllDirectories)
        .Order(StringComparer.Ordinal).Select(p => Path.GetRelativePath(RepositoryPaths.CorpusRoot, p)));

    public static TheoryData<string> Contexts => new(Families.Keys);

    private static readonly Dictionary<string, JsonSerializerContext> Families = new()
    {
        ["attest"] = AttestJsonContext.Shapes,
        ["ca"] = CaJsonContext.Shapes,
        ["eventlog"] = EventLogJsonContext.Shapes,
        ["module"] = ModuleJsonContext.Shapes,
        ["secureboot"] = SecureBootJsonContext.Shapes,
        ["tpm"] = TpmJsonContext.Shapes,
        ["uefi"] = UefiJsonContext.Shapes,
        ["vtpm"] = VtpmJsonContext.Shapes,
    };

    [Theory]
    [MemberData(nameof(Logs))]
    public void EventLogShapes_PrintWhatReflectionPrints(string relativePath)
    {
        var file = new FileInfo(Path.Combine(RepositoryPaths.CorpusRoot, relativePath));
        TcgEventLog log;
        try
        {
            log = EventLogInput.Load(file);
        }
        catch (CliException)
        {
            return; // a deliberately malformed log prints an error, no JSON
        }

        string pcrs = Path.Combine(file.DirectoryName!, "pcrs.txt");
        var replay = EventLogReplay.Replay(log, OpenSslTpmDigest.Instance);
        var comparison = File.Exists(pcrs) ? replay.CompareWith(EventLogInput.LoadPcrs(new FileInfo(pcrs))!) : PcrComparison.SelfConsistent(replay);
        var summary = BootStateSummarizer.Summarize(comparison, OpenSslTpmDigest.Instance);

        AssertSame(EventLogJson.Log(file.Name, log), EventLogJsonContext.Shapes.LogJson);
        AssertSame(EventLogJson.Replay(file.Name, replay, comparison), EventLogJsonContext.Shapes.ReplayJson);
        AssertSame(EventLogJson.Summary(file.Name, summary, comparison), EventLogJsonContext.Shapes.SummaryJson);
    }

    [Theory]
    [InlineData(SecureBootTemplate.Microsoft)]
    [InlineData(SecureBootTemplate.Microsoft2023)]
    public void VariableStoreReport_PrintsWhatReflectionPrints(SecureBootTemplate template)
    {
        using var pk = PlatformKeyGenerator.Generate("TL test PK");
        // Written and read back, as tl uefi vars show reads a file (the report needs the parsed image).
        OvmfVariableStore store = OvmfVariableStore.Load(SecureBootStoreFactory.Create(new SecureBootStoreOptions { Template = template, PlatformKey = pk.RawData }).ToArray());
        AssertSame(VariableStoreReport.From("ms.fd", store, includeDead: true), UefiJsonContext.Shapes.VariableStoreReport);
    }

    // The small families' records with awkward values: characters the relaxed encoder leaves alone (+, <, &, ', é, the
    // newlines of PEM), nulls left out, dates, GUIDs, a JSON element passed through, enums.
    [Fact]
    public void SmallFamilies_PrintWhatReflectionPrints()
    {
        const string Awkward = "CN=Tést <CA> & 'PK' +/=\n-----BEGIN CERTIFICATE-----\nMIIB+/==\n-----END CERTIFICATE-----\n";
        var notAfter = new DateTime(2036, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        var files = new CaFiles(Awkward, "/ca/root.crt", "/ca/root.key", notAfter);
        AssertSame(new CaInit("/ca", files, files with { subject = "CN=EK CA" }, files with { key = "/ca/ak.key" }), CaJsonContext.Shapes.CaInit);

        AssertSame(new VarsUpdateDecision(VariableUpdateStatus.SecurityViolation, Awkward, null, "db", null), UefiJsonContext.Shapes.VarsUpdateDecision);
        AssertSame(new VarsUpdateDecision(VariableUpdateStatus.Applied, "ok", Awkward, "KEK", "/v.fd"), UefiJsonContext.Shapes.VarsUpdateDecision);
        AssertSame(new VarsSignedUpdate("/u.auth", "db", Guid.NewGuid(), 0x67, true, "2026-12-06 06:00:00", Awkward, 1200, 800, 2040), UefiJsonContext.Shapes.VarsSignedUpdate);

        AssertSame(new List<CheckQuoteCommand.PcrValue> { new("sha256", 0, "AB"), new("sha1", 23, "") }, TpmJsonContext.Shapes.ListPcrValue);
        AssertSame(new CheckQuoteCommand.CheckQuoteReport(false, QuoteFailure.PcrDigestMismatch, Awkward, "0xFF544347", "Quote", null, "2329", 1, 2, 3, true, 5,
            "sha256:0,1", "AA", "BB", "rsassa/sha256", [new("sha256", 7, "CC")]), TpmJsonContext.Shapes.CheckQuoteReport);

        using var claims = JsonDocument.Parse("""{"x-ms-azurevm-securebootenabled":true,"nested":{"a":[1,2.5,"é<"]}}""");
        AssertSame(new TokenAccepted(true, "ES256", null, Guid.NewGuid(), new DateTimeOffset(2026, 12, 6, 7, 0, 0, TimeSpan.Zero), claims.RootElement), AttestJsonContext.Shapes.TokenAccepted);
        AssertSame(new TokenRefusal(false, "Expired", Awkward), AttestJsonContext.Shapes.TokenRefusal);

        AssertSame(new ModuleCertsJson("/boot/vmlinuz", "zstd", [new(0, Awkward, "CN=issuer", "01AB", "ff00")]), ModuleJsonContext.Shapes.ModuleCertsJson);
        AssertSame(new ModuleVerifyJson("/m.ko", null, new ModuleVerification { Status = ModuleSignatureStatus.Valid, Message = Awkward, Signer = "Debian" }), ModuleJsonContext.Shapes.ModuleVerifyJson);

        var key = new VTpmKeyIdentity { Role = "ek-rsa", PersistentHandle = "0x81010001", CertificateIndex = "0x01C00002", PublicKeyPem = Awkward, CertificateNotAfter = notAfter };
        AssertSame(new VTpmIdentity { LibtpmsVersion = "0.10.0", Keys = [key, key with { Role = "ak" }], PcrBanks = ["sha1", "sha256"], NvIndices = [], PersistentHandles = ["0x81010001"] },
            VtpmJsonContext.Shapes.VTpmIdentity);
    }

    // NativeAOT cannot make a string-enum converter at run time, so each family names its enums; one it forgot would
    // print as a number where the JIT host prints the camelCase name.
    [Theory]
    [MemberData(nameof(Contexts))]
    public void EveryEnumAFamilyPrints_IsACamelCaseString(string family)
    {
        JsonSerializerContext context = Families[family];
        var seen = new HashSet<Type>();
        foreach (Type root in RootTypes(context))
            Walk(context, root, seen);

        string[] unnamed = [.. seen.Where(t => t.IsEnum).Where(type =>
        {
            object value = Enum.GetValues(type).GetValue(0)!;
            return JsonSerializer.Serialize(value, type, context.Options) != JsonSerializer.Serialize(value, type, CliJson.Options);
        }).Select(t => $"CliJson.Enum<{t.Name}>()")];
        Assert.True(unnamed.Length == 0, $"{family} prints these enums as numbers; add {string.Join(", ", unnamed)} to its context");

        Assert.NotEmpty(seen);
    }

    private static IEnumerable<Type> RootTypes(JsonSerializerContext context) =>
        context.GetType().GetProperties()
            .Where(p => p.PropertyType.IsGenericType && p.PropertyType.GetGenericTypeDefinition() == typeof(JsonTypeInfo<>))
            .Select(p => p.PropertyType.GetGenericArguments()[0]);

    private static void Walk(JsonSerializerContext context, Type type, HashSet<Type> seen)
    {
        Type bare = Nullable.GetUnderlyingType(type) ?? type;
        if (!seen.Add(bare) || bare == typeof(object))
            return;
        JsonTypeInfo info = context.GetTypeInfo(bare) ?? throw new InvalidOperationException($"{bare} has no contract");
        foreach (JsonPropertyInfo property in info.Properties)
            Walk(context, property.PropertyType, seen);
        if (info.ElementType is { } element)
            Walk(context, element, seen);
        if (info.KeyType is { } key)
            Walk(context, key, seen);
    }

    private static void AssertSame<T>(T value, JsonTypeInfo<T> shape) =>
        Assert.Equal(JsonSerializer.Serialize(value, CliJson.Options), JsonSerializer.Serialize(value, shape));
}
