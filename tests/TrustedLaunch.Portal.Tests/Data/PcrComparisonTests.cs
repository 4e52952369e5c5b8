using System.Text.Json;
using TrustedLaunch.Attestation;
using TrustedLaunch.Portal.Data;

namespace TrustedLaunch.Portal.Tests.Data;

public sealed class PcrComparisonTests
{
    private static readonly string Zero = new('0', 64), Seven = new('7', 64), Changed = new('a', 64), Sha1Seven = new('1', 40);

    private static AttestationBaseline Baseline() => new()
    {
        LearnedAt = DateTimeOffset.UnixEpoch,
        Bank = "sha256",
        EarlyBoot = new Dictionary<int, string> { [0] = Zero, [7] = Seven },
        LateBoot = new Dictionary<int, string>(),
        BootState = new AttestedBootState
        {
            Keys = new SecureBootKeys { Pk = [], Kek = [], Db = [] },
            Authorities = [],
            BootChain = [],
            GrubCommands = [],
            GrubFiles = [],
            ShimVariables = [],
            AttestedPcrs = [0, 7],
            Pcrs = new Dictionary<string, IReadOnlyDictionary<int, string>>
            {
                ["sha1"] = new Dictionary<int, string> { [0] = Zero[..40], [7] = Sha1Seven },
                ["sha256"] = new Dictionary<int, string> { [0] = Zero, [7] = Seven },
            },
            Anomalies = [],
        },
    };

    [Fact]
    public void Rows_NoFailure_EveryPcrMatchesTheBaseline_ComparedBankFirst()
    {
        IReadOnlyList<PcrRow> rows = PcrComparison.Rows(Baseline(), null);

        Assert.Equal(["sha256", "sha256", "sha1", "sha1"], rows.Select(r => r.Bank));
        Assert.All(rows, r => Assert.False(r.Differs));
        Assert.All(rows, r => Assert.Equal(r.Baseline, r.Current));
    }

    [Fact]
    public void Rows_DeviationOfPcr7_HighlightsItInTheComparedBankWithTheActualValue_AndMarksOtherBanksWithoutInventingAValue()
    {
        JsonElement summary = JsonDocument.Parse($$"""
            {"earlyBoot":"Fail","pcrDeviations":[{"stage":"Early","pcr":7,"bank":"sha256","expected":"{{Seven}}","actual":"{{Changed}}","description":"PCR 7: Secure Boot disabled"}]}
            """).RootElement;

        IReadOnlyList<PcrRow> rows = PcrComparison.Rows(Baseline(), summary);

        PcrRow seven = rows.Single(r => r.Bank == "sha256" && r.Index == 7);
        Assert.True(seven.Differs);
        Assert.Equal((Seven, Changed), (seven.Baseline, seven.Current));
        Assert.Equal("PCR 7: Secure Boot disabled", seven.Explanation);
        PcrRow sha1Seven = rows.Single(r => r.Bank == "sha1" && r.Index == 7);
        Assert.True(sha1Seven.Differs);
        Assert.Null(sha1Seven.Current);
        Assert.False(rows.Single(r => r.Bank == "sha256" && r.Index == 0).Differs);
    }
}
