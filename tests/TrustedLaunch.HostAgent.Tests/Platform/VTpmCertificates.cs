using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Testing;

namespace TrustedLaunch.HostAgent.Tests.Platform;

/// <summary>
/// The certificates a VM's vTPM itself serves from its NV indices: tl-vtpm on the (free) VMGS with the host's key, read
/// with tpm2-tools' <c>tpm2_nvread</c> over the swtpm TCTI — an independent reader, not our TPM client.
/// </summary>
internal static class VTpmCertificates
{
    public const string EkRsaIndex = "0x01c00002";
    public const string AkIndex = "0x01c101d0";

    public static IReadOnlyDictionary<string, X509Certificate2> Read(string vmgs, string kek, params string[] indices)
    {
        string run = RepositoryPaths.NewTempDirectory("tl-vtpm-nv");
        string socket = Path.Combine(run, "tpm.sock");
        var psi = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "tl-vtpm")) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in new[] { "socket", "--tpm2", "--vmgs", vmgs, "--kek-file", kek, "--server", $"type=unixio,path={socket}",
                     "--ctrl", $"type=unixio,path={socket}.ctrl", "--flags", "not-need-init,startup-clear" })
            psi.ArgumentList.Add(a);
        using Process vtpm = Process.Start(psi)!;
        try
        {
            PlatformHome.WaitUntil(() => File.Exists(socket) || vtpm.HasExited, TimeSpan.FromSeconds(20), "tl-vtpm did not start");
            Assert.True(File.Exists(socket), $"tl-vtpm refused {vmgs}: {(vtpm.HasExited ? vtpm.StandardError.ReadToEnd() : "")}");
            var certificates = new Dictionary<string, X509Certificate2>(StringComparer.Ordinal);
            foreach (string index in indices)
            {
                string output = Path.Combine(run, index + ".der");
                ToolResult read = ExternalTool.Run("tpm2_nvread", ["-C", "o", "-o", output, index],
                    environment: new Dictionary<string, string> { ["TPM2TOOLS_TCTI"] = $"swtpm:path={socket}" });
                Assert.True(read.ExitCode == 0, $"tpm2_nvread {index}: {read}");
                certificates[index] = X509CertificateLoader.LoadCertificate(File.ReadAllBytes(output));
            }

            return certificates;
        }
        finally
        {
            if (!vtpm.HasExited)
                vtpm.Kill();
            vtpm.WaitForExit();
        }
    }
}
