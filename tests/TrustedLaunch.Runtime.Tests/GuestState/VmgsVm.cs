using System.Diagnostics;
using System.Text.Json;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Runtime.Tests.GuestState;

/// <summary>
/// One test VM made and run by the real programs in this test's output folder: <c>tl ca init</c>, <c>tl vmgs create</c>,
/// <c>tl boot --vmgs</c> (which finds the <c>tl-vtpm</c> apphost beside <c>tl.dll</c>) and <c>tl-vtpm</c> itself.
/// </summary>
public sealed record VmgsVm(string Directory, string VmgsPath, string KekPath, Guid VmId)
{
    private static readonly Lazy<string> SharedCa = new(() =>
    {
        string pki = Path.Combine(RepositoryPaths.NewTempDirectory("tl-vmgs-ca"), "pki");
        ToolResult result = Tl("ca", "init", pki);
        Assert.True(result.ExitCode == 0, $"tl ca init: {result}");
        return pki;
    });

    public static string Ca => SharedCa.Value;

    public static string TlDll => Path.Combine(AppContext.BaseDirectory, "tl.dll");

    public static string TlVtpm => Path.Combine(AppContext.BaseDirectory, "tl-vtpm");

    public string ConsoleLog => Path.Combine(Directory, "console.log");

    /// <summary><c>tl vmgs create --template TEMPLATE</c> with a fresh KEK and VM id.</summary>
    public static VmgsVm Create(string template = "microsoft", params string[] extra)
    {
        string dir = RepositoryPaths.NewTempDirectory("tl-vmgs-vm");
        var vm = new VmgsVm(dir, Path.Combine(dir, "vm.vmgs"), Path.Combine(dir, "host.kek"), Guid.NewGuid());
        ToolResult created = Tl(["vmgs", "create", "--out", vm.VmgsPath, "--template", template, "--ca", Ca, "--key-file", vm.KekPath,
            "--create-key", "--vm-id", vm.VmId.ToString(), .. extra]);
        Assert.True(created.ExitCode == 0, $"tl vmgs create: {created}");
        return vm;
    }

    public static ToolResult Tl(params string[] args) =>
        ExternalTool.Run("dotnet", [TlDll, .. args], timeout: TimeSpan.FromMinutes(6));

    /// <summary><c>tl boot --vmgs … --json</c> to completion: exit code, verdict JSON, stderr.</summary>
    public BootRun Boot(string disk, params string[] extra)
    {
        ToolResult result = Tl(["boot", "--image", disk, "--vmgs", VmgsPath, "--kek-file", KekPath, "--memory", "512",
            "--timeout", "240", "--console", ConsoleLog, "--json", .. extra]);
        JsonElement? verdict = null;
        if (result.StandardOutput.TrimStart().StartsWith('{'))
            verdict = JsonDocument.Parse(result.StandardOutput).RootElement.Clone();
        return new BootRun(result, verdict, File.Exists(ConsoleLog) ? File.ReadAllText(ConsoleLog) : "");
    }

    /// <summary>Starts <c>tl boot</c> without waiting (for kill tests).</summary>
    public Process StartBoot(string disk)
    {
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { TlDll, "boot", "--image", disk, "--vmgs", VmgsPath, "--kek-file", KekPath, "--memory", "512",
                     "--timeout", "240", "--console", ConsoleLog })
        {
            psi.ArgumentList.Add(a);
        }

        return Process.Start(psi)!;
    }

    /// <summary>
    /// The vTPM's RSA EK certificate as the vTPM itself serves it: tl-vtpm on this VMGS (which must be free), read with
    /// tpm2-tools' <c>tpm2_nvread</c> over the swtpm TCTI from the TCG index 0x01C00002.
    /// </summary>
    public byte[] ReadEkCertificate()
    {
        string run = RepositoryPaths.NewTempDirectory("tl-vmgs-ek");
        string socket = Path.Combine(run, "tpm.sock");
        var psi = new ProcessStartInfo(TlVtpm) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in new[] { "socket", "--tpm2", "--vmgs", VmgsPath, "--kek-file", KekPath, "--server", $"type=unixio,path={socket}",
                     "--ctrl", $"type=unixio,path={socket}.ctrl", "--flags", "not-need-init,startup-clear" })
        {
            psi.ArgumentList.Add(a);
        }

        using Process vtpm = Process.Start(psi)!;
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (!File.Exists(socket) && !vtpm.HasExited && DateTime.UtcNow < deadline)
                Thread.Sleep(20);
            Assert.True(File.Exists(socket), $"tl-vtpm did not start on {VmgsPath}: {(vtpm.HasExited ? vtpm.StandardError.ReadToEnd() : "timeout")}");
            string output = Path.Combine(run, "ek.der");
            ToolResult read = ExternalTool.Run("tpm2_nvread", ["-C", "o", "-o", output, "0x01c00002"],
                environment: new Dictionary<string, string> { ["TPM2TOOLS_TCTI"] = $"swtpm:path={socket}" });
            Assert.True(read.ExitCode == 0, $"tpm2_nvread EK certificate: {read}");
            return File.ReadAllBytes(output);
        }
        finally
        {
            if (!vtpm.HasExited)
                vtpm.Kill();
            vtpm.WaitForExit();
        }
    }
}

/// <summary>A finished <c>tl boot</c>: the process result, its JSON verdict (null when none was printed) and the console.</summary>
public sealed record BootRun(ToolResult Process, JsonElement? Verdict, string Console)
{
    public string Outcome => Verdict?.GetProperty("outcome").GetString() ?? "(no verdict)";

    public string Fact(string key) =>
        Verdict is { } v && v.TryGetProperty("guestFacts", out JsonElement facts) && facts.TryGetProperty(key, out JsonElement value)
            ? value.GetString() ?? ""
            : "";

    public override string ToString() => $"{Process}\nconsole tail:\n{(Console.Length > 3000 ? Console[^3000..] : Console)}";
}
