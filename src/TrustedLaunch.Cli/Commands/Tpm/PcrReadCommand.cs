using System.CommandLine;
using System.Globalization;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Transport;

namespace TrustedLaunch.Cli.Commands.Tpm;

/// <summary><c>tl tpm pcrread</c>: reads PCRs from a TPM reached through a tpm2-tools style TCTI string.</summary>
internal static class PcrReadCommand
{
    public static Command Create()
    {
        var selection = new Argument<string>("selection") { Description = "PCRs as tpm2-tools writes them: sha256:0,1,7+sha1:0 (default: sha256:all).", DefaultValueFactory = _ => "sha256:all" };
        var tcti = new Option<string>("--tcti", "-T") { Description = "TPM to talk to: swtpm:host=H,port=P | swtpm:path=SOCK | mssim:… | device:/dev/tpmrm0 (default: $TPM2TOOLS_TCTI, else device)." };
        var json = CliOptions.Json("Print the values as JSON.");
        var command = new Command("pcrread", "Read PCR values from a TPM (like tpm2_pcrread). Exit 0 ok, 2 bad selection, 3 TPM unreachable.") { selection, tcti, json };
        command.SetAction(parse => Run(parse.GetValue(selection)!, parse.GetValue(tcti), parse.GetValue(json), parse.Out()));
        return command;
    }

    private static int Run(string selectionText, string? tcti, bool json, TextWriter output)
    {
        var selection = ParseSelection(selectionText);
        string spec = tcti ?? Environment.GetEnvironmentVariable("TPM2TOOLS_TCTI") ?? "device";
        IReadOnlyDictionary<(TpmAlgId Hash, int Index), byte[]> values;
        try
        {
            using var client = new TpmClient(TctiSpecification.Open(spec));
            values = client.ReadPcrs(selection);
        }
        catch (ArgumentException e)
        {
            throw new CliException(ExitCode.BadInput, e.Message);
        }
        catch (Exception e) when (e is TpmTransportException or TpmResponseException or TpmFormatException)
        {
            throw new CliException(ExitCode.EnvironmentProblem, $"reading PCRs through '{spec}' failed: {e.Message}");
        }

        var ordered = selection.Pcrs().Select(p => (Bank: TpmHashAlgorithm.BankName(p.Hash)!, p.Index, Value: Convert.ToHexString(values[p]))).ToList();
        if (json)
        {
            CliJson.Write(ordered.Select(p => new CheckQuoteCommand.PcrValue(p.Bank, p.Index, p.Value)).ToList(), TpmJsonContext.Shapes.ListPcrValue, output);
            return 0;
        }

        foreach (var bank in ordered.GroupBy(p => p.Bank))
        {
            output.WriteLine($"  {bank.Key}:");
            foreach (var p in bank)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {p.Index,-2}: 0x{p.Value}"));
        }

        return 0;
    }

    internal static TpmlPcrSelection ParseSelection(string text)
    {
        var selections = new List<TpmsPcrSelection>();
        foreach (string part in text.Split('+', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] bankAndList = part.Split(':', 2);
            if (!TpmHashAlgorithm.TryParseBankName(bankAndList[0], out var alg))
                throw new CliException(ExitCode.BadInput, $"'{bankAndList[0]}' is not a PCR bank.");
            string list = bankAndList.Length == 2 ? bankAndList[1] : "all";
            int[] indices = list.Equals("all", StringComparison.OrdinalIgnoreCase)
                ? Enumerable.Range(0, 24).ToArray()
                : list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(i =>
                    int.TryParse(i, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is >= 0 and < 32 ? n
                        : throw new CliException(ExitCode.BadInput, $"'{i}' is not a PCR index.")).Order().Distinct().ToArray();
            selections.Add(new TpmsPcrSelection(alg, indices));
        }

        return selections.Count > 0 ? new TpmlPcrSelection(selections) : throw new CliException(ExitCode.BadInput, "empty PCR selection.");
    }
}
