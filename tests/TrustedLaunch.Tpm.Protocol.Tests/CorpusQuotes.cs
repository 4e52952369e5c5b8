using System.Globalization;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Protocol.Tests;

/// <summary>Real quotes from the corpus (GCE vTPM, Windows Shielded VM): AK, TPMS_ATTEST, TPMT_SIGNATURE, PCRs, nonce.</summary>
internal sealed record CorpusQuote(string Name, TpmtPublic Ak, byte[] Attest, byte[] Signature, byte[] Nonce,
    Dictionary<(TpmAlgId Hash, int Index), byte[]> Pcrs)
{
    public static IEnumerable<CorpusQuote> All()
    {
        foreach (var (folder, quote) in new[]
        {
            ("go-tpm-tools-gce-cos-85-nonce9009", "quote_sha1"), ("go-tpm-tools-gce-cos-85-nonce9009", "quote_sha256"),
            ("go-tpm-tools-gce-cos-85-nonce9009", "quote_sha384"), ("go-tpm-tools-gce-cos-85-no-nonce", "quote_sha1"),
            ("go-tpm-tools-gce-cos-85-no-nonce", "quote_sha256"), ("go-tpm-tools-gce-cos-85-no-nonce", "quote_sha384"),
            ("go-attestation-windows_gcp_shielded_vm", "quote"),
        })
        {
            yield return Load(folder, quote);
        }
    }

    public static CorpusQuote Load(string folder, string quote)
    {
        string dir = Path.Combine(RepositoryPaths.CorpusRoot, "public", folder);
        var pcrs = new Dictionary<(TpmAlgId, int), byte[]>();
        foreach (string line in File.ReadAllLines(Path.Combine(dir, "pcrs.txt")))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 3 && TpmHashAlgorithm.TryParseBankName(f[0], out var bank))
                pcrs[(bank, int.Parse(f[1], CultureInfo.InvariantCulture))] = Convert.FromHexString(f[2]);
        }

        string nonce = Path.Combine(dir, "nonce.bin");
        return new CorpusQuote($"{folder}/{quote}", TpmtPublic.Parse(File.ReadAllBytes(Path.Combine(dir, "ak.pub"))),
            File.ReadAllBytes(Path.Combine(dir, quote + ".bin")), File.ReadAllBytes(Path.Combine(dir, quote + ".sig")),
            File.Exists(nonce) ? File.ReadAllBytes(nonce) : [], pcrs);
    }

    public override string ToString() => Name;
}
