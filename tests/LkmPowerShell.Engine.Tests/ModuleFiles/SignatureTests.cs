using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Formats.Asn1;
using LkmPowerShell.Engine.ModuleFiles;
using Xunit;

namespace LkmPowerShell.Engine.Tests.ModuleFiles;

/// <summary>Module signatures: the values kmod's modinfo prints, on every real module, and one clear error on hostile input.</summary>
[Trait("Layer", "Oracle")]
public class SignatureTests
{
    private static readonly byte[] ElfMagic = [0x7F, (byte)'E', (byte)'L', (byte)'F'];

    /// <summary>Every module of both trees (6.1 RSA, 6.12 ECDSA; the 6.12 ones decompressed first) against modinfo.</summary>
    [Theory]
    [MemberData(nameof(KernelFixtures.Both), MemberType = typeof(KernelFixtures))]
    public void EveryModule_SignatureFieldsEqualModinfo(string flavour)
    {
        var files = KernelFixtures.Load(flavour).ModuleFiles().ToArray();
        Assert.True(files.Length > 4000, $"only {files.Length} modules in the {flavour} fixture");
        var sw = Stopwatch.StartNew();
        var oracle = SignatureModinfoOracle.Read(files);
        var oracleTime = sw.Elapsed;
        var mismatches = new ConcurrentQueue<string>();
        var signed = 0;
        sw.Restart();
        Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, t =>
        {
            byte[] buffer = [];
            for (var i = t; i < files.Length; i += 2)
            {
                var file = files[i];
                var raw = File.ReadAllBytes(file);
                var kind = ModuleDecompressor.Detect(raw);
                var n = ModuleDecompressor.Decompress(raw, kind, file, ref buffer);
                var bytes = buffer.AsSpan(0, n);
                var sig = ModuleSignature.TryRead(bytes, file);
                if (!oracle.TryGetValue(file, out var expected))
                {
                    mismatches.Enqueue($"{file}: modinfo printed nothing");
                    continue;
                }
                if (sig is null)
                {
                    if (expected.SigId is not null)
                        mismatches.Enqueue($"{file}: modinfo shows a signature, we see none");
                    continue;
                }
                Interlocked.Increment(ref signed);
                Compare(file, "sig_id", expected.SigId, sig.SignatureId);
                Compare(file, "signer", expected.Signer, sig.Signer);
                Compare(file, "sig_key", expected.SigKey, sig.FormatKeyId());
                Compare(file, "sig_hashalgo", expected.HashAlgorithm, sig.HashAlgorithm);
                Compare(file, "signature", expected.Signature, sig.FormatSignature());
                if (!bytes.StartsWith(ElfMagic) || sig.PayloadLength != ModuleSignature.GetPayloadLength(bytes, file) ||
                    sig.PayloadLength >= n - ModuleSignature.Magic.Length - 12 - sig.Signature.Length)
                    mismatches.Enqueue($"{file}: payload length {sig.PayloadLength} of {n} is wrong");
            }
        });
        Assert.True(mismatches.IsEmpty, string.Join("\n", mismatches.Take(20)));
        Assert.Equal(files.Length, signed); // Debian signs every module
        Console.WriteLine($"{flavour}: {signed} signatures equal modinfo's; modinfo took {oracleTime.TotalMilliseconds:N0} ms, we {sw.ElapsedMilliseconds:N0} ms");

        void Compare(string file, string field, string? expected, string? actual)
        {
            if (expected != actual)
                mismatches.Enqueue($"{file}: {field} is '{actual}', modinfo says '{expected}'");
        }
    }

    [Fact]
    public void FormatHex_IsKmodsLayout()
    {
        Assert.Equal("", ModuleSignature.FormatHex([]));
        Assert.Equal("0A", ModuleSignature.FormatHex([0x0A]));
        Assert.Equal("00:FF", ModuleSignature.FormatHex([0x00, 0xFF]));
        var twenty = Enumerable.Range(1, 20).Select(i => (byte)i).ToArray();
        Assert.Equal(string.Join(':', twenty.Select(b => b.ToString("X2"))), ModuleSignature.FormatHex(twenty));
        var twentyOne = Enumerable.Range(1, 21).Select(i => (byte)i).ToArray();
        Assert.Equal(string.Join(':', twenty.Select(b => b.ToString("X2"))) + ":\n\t\t15", ModuleSignature.FormatHex(twentyOne));
        var forty = Enumerable.Range(1, 40).Select(i => (byte)i).ToArray();
        Assert.DoesNotContain("\n", ModuleSignature.FormatHex(forty)[^12..]);
        Assert.Equal(1, ModuleSignature.FormatHex(forty).Count(c => c == '\n'));
    }

    [Fact]
    public void Unsigned_IsNull()
    {
        var payload = Payload();
        Assert.Null(ModuleSignature.TryRead(payload, "x.ko"));
        Assert.Equal(payload.Length, ModuleSignature.GetPayloadLength(payload, "x.ko"));
        Assert.Null(ModuleSignature.TryRead([], "x.ko"));
        Assert.Null(ModuleSignature.TryRead("~Module signature appended~"u8, "x.ko")); // no newline
    }

    /// <summary>
    /// kmod's quirks, checked against modinfo itself on synthetic signatures: no commonName (the
    /// last attribute is shown), a commonName not first, negative and zero-padded serials.
    /// </summary>
    [Fact]
    public void SyntheticSignatures_MatchModinfoIncludingQuirks()
    {
        var cases = new (string Name, (string Oid, string Value)[][] Issuer, byte[] Serial, string ExpectedSigner, string ExpectedKey)[]
        {
            ("no-cn", [[("2.5.4.6", "DE")], [("2.5.4.10", "Example Org")]], [0x01, 0x02], "Example Org", "01:02"),
            ("cn-second", [[("2.5.4.10", "Org")], [("2.5.4.3", "Signing Key")], [("2.5.4.11", "Unit")]], [0x00, 0x80, 0x01], "Signing Key", "80:01"),
            ("negative", [[("2.5.4.3", "Neg")]], [0xFF, 0x01], "Neg", "FF"),
            ("long-serial", [[("2.5.4.3", "Long")]], Enumerable.Range(1, 25).Select(i => (byte)i).ToArray(), "Long",
                ModuleSignature.FormatHex(Enumerable.Range(1, 25).Select(i => (byte)i).ToArray())),
        };
        var dir = Directory.CreateTempSubdirectory("lkm-signature-");
        try
        {
            var signature = Enumerable.Range(0, 45).Select(i => (byte)(i * 7)).ToArray();
            var files = new List<string>();
            foreach (var c in cases)
            {
                var module = Sign(Payload(), BuildPkcs7(c.Issuer, c.Serial, "2.16.840.1.101.3.4.2.3", signature));
                var sig = ModuleSignature.TryRead(module, c.Name)!;
                Assert.Equal(c.ExpectedSigner, sig.Signer);
                Assert.Equal(c.ExpectedKey, sig.FormatKeyId());
                Assert.Equal("sha512", sig.HashAlgorithm);
                Assert.Equal(signature, sig.Signature);
                var path = Path.Combine(dir.FullName, c.Name + ".ko");
                File.WriteAllBytes(path, module);
                files.Add(path);
            }
            var oracle = SignatureModinfoOracle.Read(files);
            foreach (var (c, path) in cases.Zip(files))
            {
                Assert.Equal(c.ExpectedSigner, oracle[path].Signer);
                Assert.Equal(c.ExpectedKey, oracle[path].SigKey);
                Assert.Equal("sha512", oracle[path].HashAlgorithm);
                Assert.Equal(ModuleSignature.FormatHex(signature), oracle[path].Signature);
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void SubjectKeyIdentifierAndUnknownDigest_AreReadToo()
    {
        var module = Sign(Payload(), BuildPkcs7([], [0xAB, 0xCD], "1.2.3.4.5", [1, 2, 3], subjectKeyId: true));
        var sig = ModuleSignature.TryRead(module, "skid.ko")!;
        Assert.Null(sig.Signer);
        Assert.Equal("AB:CD", sig.FormatKeyId());
        Assert.Equal("1.2.3.4.5", sig.HashAlgorithm);
        Assert.Equal("PKCS#7", sig.SignatureId);
    }

    /// <summary>Lying sizes, unknown algorithm numbers, damaged and random PKCS#7: only ModuleFormatException, quickly.</summary>
    [Fact]
    public void HostileSignatures_GiveOnlyTheClearError()
    {
        var real = File.ReadAllBytes(Path.Combine(KernelFixtures.Plain.ModulesDirectory, "kernel/fs/fat/msdos.ko"));
        var info = real.Length - ModuleSignature.Magic.Length - 12;
        var sigLen = (int)BinaryPrimitives.ReadUInt32BigEndian(real.AsSpan(info + 8));
        var blob = real.AsSpan(info - sigLen, sigLen).ToArray();
        var payload = real[..(info - sigLen)];

        var variants = new List<(string What, byte[] Data, bool MustFail)>();
        foreach (var lie in new long[] { 0, 1, 2, sigLen - 1, sigLen + 1, sigLen + 100, info, info + 1, int.MaxValue, uint.MaxValue })
            variants.Add(($"sig_len {lie}", WithInfo(real, 8, v => BinaryPrimitives.WriteUInt32BigEndian(v, (uint)lie)), lie != sigLen));
        foreach (var (offset, value) in new[] { (0, 2), (0, 255), (1, 9), (1, 200), (2, 3), (2, 255) })
            variants.Add(($"byte {offset} = {value}", WithInfo(real, offset, v => v[0] = (byte)value), true));
        variants.Add(("signer_len 255 + key_id_len 255 on a short file", WithInfo(Sign(new byte[10], blob), 3, v => { v[0] = 255; v[1] = 255; }), true));
        variants.Add(("only the trailer", ModuleSignature.Magic.ToArray(), true));
        variants.Add(("struct and trailer", new byte[12].Concat(ModuleSignature.Magic.ToArray()).ToArray(), true));
        for (var cut = 0; cut < blob.Length; cut += 7)
            variants.Add(($"PKCS#7 cut to {cut}", Sign(payload, blob[..cut]), true));
        var random = new Random(4321);
        for (var i = 0; i < 300; i++)
        {
            var damaged = (byte[])blob.Clone();
            var at = random.Next(Math.Min(damaged.Length, 200)); // the structure is at the front; the signature bytes follow
            damaged[at] ^= (byte)(1 << random.Next(8));
            variants.Add(($"PKCS#7 bit flip at {at}", Sign(payload, damaged), false));
        }
        for (var i = 0; i < 100; i++)
        {
            var garbage = new byte[random.Next(1, 600)];
            random.NextBytes(garbage);
            if (i % 2 == 0)
                garbage[0] = 0x30; // a SEQUENCE, to get past the first check
            variants.Add(($"random PKCS#7 #{i}", Sign(payload, garbage), false));
        }

        var problems = new List<string>();
        var sw = Stopwatch.StartNew();
        foreach (var (what, data, mustFail) in variants)
        {
            try
            {
                var sig = ModuleSignature.TryRead(data, "hostile.ko");
                if (mustFail)
                    problems.Add($"{what}: no error");
                else if (sig is null)
                    problems.Add($"{what}: null for a file with a trailer");
            }
            catch (ModuleFormatException e)
            {
                if (e.FilePath != "hostile.ko")
                    problems.Add($"{what}: wrong file in the error");
            }
            catch (Exception e)
            {
                problems.Add($"{what}: {e.GetType().Name}: {e.Message}");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems.Take(30)));
        Assert.True(variants.Count > 400, $"{variants.Count} variants");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"{variants.Count} variants took {sw.Elapsed}");
    }

    /// <summary>A real module's bytes without its signature.</summary>
    private static byte[] Payload()
    {
        var real = File.ReadAllBytes(Path.Combine(KernelFixtures.Plain.ModulesDirectory, "kernel/fs/fat/msdos.ko"));
        return real[..(int)ModuleSignature.GetPayloadLength(real, "msdos.ko")];
    }

    /// <summary>payload + PKCS#7 + struct module_signature (id_type 2) + trailer, as sign-file writes it.</summary>
    private static byte[] Sign(byte[] payload, byte[] pkcs7)
    {
        var info = new byte[12];
        info[2] = 2;
        BinaryPrimitives.WriteUInt32BigEndian(info.AsSpan(8), (uint)pkcs7.Length);
        return [.. payload, .. pkcs7, .. info, .. ModuleSignature.Magic];
    }

    private static byte[] WithInfo(byte[] module, int offset, SpanAction change)
    {
        var copy = (byte[])module.Clone();
        change(copy.AsSpan(copy.Length - ModuleSignature.Magic.Length - 12 + offset));
        return copy;
    }

    private delegate void SpanAction(Span<byte> span);

    private static byte[] BuildPkcs7((string Oid, string Value)[][] issuer, byte[] serial, string digestOid, byte[] signature, bool subjectKeyId = false)
    {
        var w = new AsnWriter(AsnEncodingRules.DER);
        using (w.PushSequence())
        {
            w.WriteObjectIdentifier("1.2.840.113549.1.7.2");
            using (w.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
            using (w.PushSequence())
            {
                w.WriteInteger(1);
                using (w.PushSetOf())
                using (w.PushSequence())
                    w.WriteObjectIdentifier(digestOid);
                using (w.PushSequence())
                    w.WriteObjectIdentifier("1.2.840.113549.1.7.1");
                using (w.PushSetOf())
                using (w.PushSequence())
                {
                    w.WriteInteger(subjectKeyId ? 3 : 1);
                    if (subjectKeyId)
                        w.WriteOctetString(serial, new Asn1Tag(TagClass.ContextSpecific, 0));
                    else
                        using (w.PushSequence())
                        {
                            using (w.PushSequence())
                                foreach (var rdn in issuer)
                                    using (w.PushSetOf())
                                        foreach (var (oid, value) in rdn)
                                            using (w.PushSequence())
                                            {
                                                w.WriteObjectIdentifier(oid);
                                                w.WriteCharacterString(UniversalTagNumber.UTF8String, value);
                                            }
                            w.WriteInteger(serial);
                        }
                    using (w.PushSequence())
                        w.WriteObjectIdentifier(digestOid);
                    using (w.PushSequence())
                        w.WriteObjectIdentifier("1.2.840.113549.1.1.1");
                    w.WriteOctetString(signature);
                }
            }
        }
        return w.Encode();
    }
}
