using TrustedLaunch.Attestation;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Posture.Inputs;

namespace TrustedLaunch.Server.Tests.Posture;

/// <summary>The rollover recommendations from attested KEK/db/dbx: what the three templates enrol, custom keys, no evidence, dbx levels.</summary>
public sealed class SecureBootRolloverEvaluatorTests
{
    private static readonly KeyEntry Kek2011 = new("Microsoft Corporation KEK CA 2011", MicrosoftSecureBootKeys.KekCa2011);
    private static readonly KeyEntry Kek2023 = new("Microsoft Corporation KEK 2K CA 2023", MicrosoftSecureBootKeys.KekCa2023);
    private static readonly KeyEntry Pca2011 = new("Microsoft Windows Production PCA 2011", MicrosoftSecureBootKeys.WindowsProductionPca2011);
    private static readonly KeyEntry Uefi2011 = new("Microsoft Corporation UEFI CA 2011", MicrosoftSecureBootKeys.UefiCa2011);
    private static readonly KeyEntry Uefi2023 = new("Microsoft UEFI CA 2023", MicrosoftSecureBootKeys.UefiCa2023);
    private static readonly KeyEntry Windows2023 = new("Windows UEFI CA 2023", MicrosoftSecureBootKeys.WindowsUefiCa2023);
    private static readonly DbxRelease Release = new("DBXUpdate.bin", 443);

    [Fact]
    public void Evaluate_2011OnlyKeys_CertificatesUnhealthyNamingBothGaps()
    {
        var outcome = SecureBootRolloverEvaluator.Evaluate(Vm(), Keys([Kek2011], [Pca2011, Uefi2011], dbx: 1), Release)[0];

        Assert.Equal(AssessmentStatusCode.Unhealthy, outcome.Code);
        Assert.Equal(SecureBootRolloverEvaluator.Causes.Missing2023Certificates, outcome.Cause);
        Assert.Contains("KEK lacks Microsoft Corporation KEK 2K CA 2023", outcome.Description, StringComparison.Ordinal);
        Assert.Contains("db lacks Microsoft UEFI CA 2023", outcome.Description, StringComparison.Ordinal);
        Assert.Equal(Severity.Medium, outcome.Recommendation.Severity);
    }

    [Fact]
    public void Evaluate_CombinedOr2023Keys_CertificatesHealthy()
    {
        Assert.Equal(AssessmentStatusCode.Healthy,
            SecureBootRolloverEvaluator.Evaluate(Vm(), Keys([Kek2011, Kek2023], [Pca2011, Uefi2011, Windows2023, Uefi2023], 432), Release)[0].Code);
        Assert.Equal(AssessmentStatusCode.Healthy, SecureBootRolloverEvaluator.Evaluate(Vm(), Keys([Kek2023], [Windows2023, Uefi2023], 1), null)[0].Code);
    }

    [Fact]
    public void Evaluate_DbHasThe2023CaButKekDoesNot_Unhealthy()
    {
        var outcome = SecureBootRolloverEvaluator.Evaluate(Vm(), Keys([Kek2011], [Uefi2011, Uefi2023], 1), null)[0];

        Assert.Equal(AssessmentStatusCode.Unhealthy, outcome.Code);
        Assert.DoesNotContain("db lacks", outcome.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_DbxAgainstTheLoadedUpdate_OutdatedUntilItHoldsAsManyEntries()
    {
        IReadOnlyList<KeyEntry> kek = [Kek2011, Kek2023];
        Assert.Equal(AssessmentStatusCode.Unhealthy, SecureBootRolloverEvaluator.Evaluate(Vm(), Keys(kek, [Uefi2023], 1), Release)[1].Code);
        Assert.Equal(SecureBootRolloverEvaluator.Causes.DbxOutdated, SecureBootRolloverEvaluator.Evaluate(Vm(), Keys(kek, [Uefi2023], 442), Release)[1].Cause);
        Assert.Equal(AssessmentStatusCode.Healthy, SecureBootRolloverEvaluator.Evaluate(Vm(), Keys(kek, [Uefi2023], 444), Release)[1].Code);
        var none = SecureBootRolloverEvaluator.Evaluate(Vm(), Keys(kek, [Uefi2023], 432), null)[1];
        Assert.Equal((AssessmentStatusCode.NotApplicable, SecureBootRolloverEvaluator.Causes.NoDbxUpdateLoaded), (none.Code, none.Cause));
    }

    [Fact]
    public void Evaluate_CustomKeysNoEvidenceOrStopped_NotApplicable()
    {
        var custom = Keys([new KeyEntry("TL Platform KEK", new string('a', 64))], [new KeyEntry("Vendor CA", new string('b', 64))], 1);
        Assert.All(SecureBootRolloverEvaluator.Evaluate(Vm(), custom, Release), o => Assert.Equal(SecureBootRolloverEvaluator.Causes.NotMicrosoftKeys, o.Cause));
        Assert.All(SecureBootRolloverEvaluator.Evaluate(Vm(), null, Release), o => Assert.Equal(SecureBootRolloverEvaluator.Causes.KeysNotAttested, o.Cause));
        Assert.All(SecureBootRolloverEvaluator.Evaluate(Vm() with { Running = false }, Keys([Kek2011], [Uefi2011], 1), Release),
            o => Assert.Equal(AssessmentStatusCode.NotApplicable, o.Code));
        Assert.All(SecureBootRolloverEvaluator.Evaluate(Vm() with { SecureBootEnabled = false }, Keys([Kek2011], [Uefi2011], 1), Release),
            o => Assert.Equal(AssessmentStatusCode.NotApplicable, o.Code));
    }

    private static SecureBootKeys Keys(IReadOnlyList<KeyEntry> kek, IReadOnlyList<KeyEntry> db, int dbx) =>
        new() { Pk = [new KeyEntry("TL PK", new string('c', 64))], Kek = kek, Db = db, DbxCount = dbx, DbxDigest = new string('d', 64) };

    private static PostureVm Vm() => new()
    {
        ResourceId = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1", SubscriptionId = "s", ResourceGroup = "rg",
        Name = "vm1", VmId = Guid.Parse("0f8c0a44-6a1d-4b89-9b61-5b1c7a1c2e01"), Location = "local", TrustedLaunch = true, SecureBootEnabled = true,
        VTpmEnabled = true, Generation = VmGeneration.V2, VmSize = "Standard_D2s_v5", Running = true,
    };
}
