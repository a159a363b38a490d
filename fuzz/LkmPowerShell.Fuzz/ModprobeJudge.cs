using System.Diagnostics;
using System.Text;
using LkmPowerShell.Engine;
using LkmPowerShell.Engine.Configuration;
using LkmPowerShell.Engine.Planner;

namespace LkmPowerShell.Fuzz;

/// <summary>
/// A differential fuzzer for the modprobe.d parser with kmod as the judge: mutants of real and
/// hand-written modprobe.d files are read by the engine and by kmod's <c>modprobe -c</c>, and the
/// two outputs are compared byte for byte. Coverage guidance (AFL++) finds crashes; this finds
/// answers that differ from kmod's. Each disagreement is classed by the first line that differs,
/// and a few inputs of each class are saved to look at.
/// </summary>
public static class ModprobeJudge
{
    /// <summary>Lines every mutant can draw from: each command, continuations, brackets, odd bytes.</summary>
    private static readonly string[] HandSeeds =
    [
        "# comment\nalias pci:v00008086d* e1000e\noptions snd_hda_intel index=1 model=\"a b\"\n",
        "install dummy /bin/true \\\n  && echo x\nremove dummy /bin/false\nblacklist pcspkr\n",
        "softdep fat pre: nls_cp437 post: msdos\nsoftdep x post: y pre: z\nsoftdep only-post post: q\n",
        "alias my-fat fat\nalias p-q[-_]r zz-top extra-word\noptions loop max_loop=4 \\\n  max_part=2\n",
        "options m\ta=1\t b=2 \ninstall k-k /bin/false  # not a comment\ninclude /etc/other.conf\nconfig x\nbogus line\n",
    ];

    /// <summary>Bytes and words the mutator inserts: the parser's separators, kmod's keywords, bytes that are not UTF-8.</summary>
    private static readonly byte[][] Interesting =
    [
        .. new byte[] { 0, (byte)'\\', (byte)'\n', (byte)'\t', (byte)' ', (byte)'-', (byte)'_', (byte)'[', (byte)']', (byte)'#',
            0xE9, 0xA0, 0x85, 0xFF, 0xC3, (byte)'\v', (byte)'\f', (byte)'\r', (byte)'*', (byte)':', (byte)'=', (byte)'"', (byte)'.' }
            .Select(b => new[] { b }),
        .. new[] { "alias ", "options ", "install ", "remove ", "blacklist ", "softdep ", "pre: ", "post: ", "pre:", "post:",
            "include ", "config ", "weakdep ", "\\\n", " \\", "[a-b]", "\n#", "$CMDLINE_OPTS" }.Select(Encoding.ASCII.GetBytes),
    ];

    public static int Run(string seedFolder, int mutants, string outFolder, int seed)
    {
        var seeds = HandSeeds.Select(Encoding.ASCII.GetBytes).ToList();
        if (Directory.Exists(seedFolder))
            seeds.AddRange(Directory.GetFiles(seedFolder).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).Where(b => b.Length <= 64 * 1024));
        Directory.CreateDirectory(outFolder);
        var root = Directory.CreateTempSubdirectory("lkm-judge-").FullName;
        var dir = Path.Combine(root, "etc", "modprobe.d");
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, "fuzz.conf");
        // kmod reads the host's /proc/cmdline whatever -d says: the engine is given the same.
        var cmdline = File.Exists("/proc/cmdline") ? ByteText.FromBytes(File.ReadAllBytes("/proc/cmdline")) : "";
        var random = new Random(seed);
        var classes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var crashes = 0;
        var agreed = 0;
        var clock = Stopwatch.StartNew();
        try
        {
            for (var i = 0; i < mutants; i++)
            {
                var input = Mutate(seeds, random);
                File.WriteAllBytes(file, input);
                byte[] ours;
                try
                {
                    var config = ModprobeConfig.LoadFrom([dir], null, cmdline, new SystemRoot(root));
                    ours = EffectiveConfiguration.ToModprobeBytes(EffectiveConfiguration.Entries(config));
                }
                catch (Exception e)
                {
                    crashes++;
                    File.WriteAllBytes(Path.Combine(outFolder, $"crash-{i}.conf"), input);
                    Console.WriteLine($"crash {i}: {e.GetType().Name}: {e.Message}");
                    continue;
                }
                var kmod = Kmod(dir, root);
                if (ours.AsSpan().SequenceEqual(kmod))
                {
                    agreed++;
                    continue;
                }
                var name = Classify(ours, kmod);
                classes[name] = classes.GetValueOrDefault(name) + 1;
                if (classes[name] <= 3)
                {
                    var stem = Path.Combine(outFolder, $"{Slug(name)}-{classes[name]}");
                    File.WriteAllBytes(stem + ".conf", input);
                    File.WriteAllBytes(stem + ".ours", ours);
                    File.WriteAllBytes(stem + ".kmod", kmod);
                }
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
        Console.WriteLine($"modprobe-c judge: {mutants} mutants (seed {seed}, {seeds.Count} seeds) in {clock.Elapsed.TotalSeconds:0.0} s: " +
            $"{agreed} byte-identical to kmod's modprobe -c, {mutants - agreed - crashes} different, {crashes} crashes");
        foreach (var (name, count) in classes.OrderByDescending(c => c.Value))
            Console.WriteLine($"  {count,6}  {name}");
        Console.WriteLine($"  inputs of each class (three at most): {outFolder}");
        return crashes == 0 ? 0 : 1;
    }

    /// <summary>One to four edits of a seed: a byte changed, an interesting byte or word inserted, a range deleted, a line of another seed spliced in.</summary>
    internal static byte[] Mutate(List<byte[]> seeds, Random random)
    {
        var data = new List<byte>(seeds[random.Next(seeds.Count)]);
        var edits = 1 + random.Next(4);
        for (var e = 0; e < edits; e++)
        {
            var at = data.Count == 0 ? 0 : random.Next(data.Count + 1);
            switch (random.Next(5))
            {
                case 0 when data.Count > 0:
                    data[Math.Min(at, data.Count - 1)] = (byte)random.Next(256);
                    break;
                case 1 or 2:
                    data.InsertRange(at, Interesting[random.Next(Interesting.Length)]);
                    break;
                case 3 when data.Count > 0:
                    var start = Math.Min(at, data.Count - 1);
                    data.RemoveRange(start, Math.Min(1 + random.Next(8), data.Count - start));
                    break;
                default:
                    var other = seeds[random.Next(seeds.Count)];
                    var lines = Encoding.Latin1.GetString(other).Split('\n');
                    data.InsertRange(at, Encoding.Latin1.GetBytes(lines[random.Next(lines.Length)] + "\n"));
                    break;
            }
        }
        return [.. data];
    }

    private static byte[] Kmod(string dir, string root)
    {
        var psi = new ProcessStartInfo("modprobe") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-c", "-C", dir, "-d", root })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        using var stdout = new MemoryStream();
        p.StandardOutput.BaseStream.CopyTo(stdout);
        p.WaitForExit();
        _ = stderr.Result;
        return stdout.ToArray();
    }

    /// <summary>The class of a disagreement: the command word of the first line that differs, on each side.</summary>
    private static string Classify(byte[] ours, byte[] kmod)
    {
        var a = Encoding.Latin1.GetString(ours).Split('\n');
        var b = Encoding.Latin1.GetString(kmod).Split('\n');
        for (var i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            var x = i < a.Length ? a[i] : "(end)";
            var y = i < b.Length ? b[i] : "(end)";
            if (x == y) continue;
            // kmod 30's faults (fuzz/regressions/README.md), named so that a new class stands out.
            if (y == x + "\u00FF")
                return "kmod fault: a backslash at the very end of the file adds byte 0xFF (EOF stored as a character)";
            if (x.StartsWith("softdep ", StringComparison.Ordinal) && y.StartsWith("softdep ", StringComparison.Ordinal))
            {
                if (!y.Contains("pre: ", StringComparison.Ordinal) && !y.Contains("post: ", StringComparison.Ordinal))
                    return "kmod fault: a softdep with more than one blank before pre:/post: loses its modules";
                if (x.Contains("pre: ", StringComparison.Ordinal) && x.Contains("post: ", StringComparison.Ordinal) && y.Length > x.Length)
                    return "kmod fault: modprobe -c prints a softdep whose post: comes first with the pre: names inside post:";
            }
            return $"ours '{Word(x)}' / kmod '{Word(y)}'";
        }
        return "same lines, different bytes";
    }

    private static string Word(string line)
    {
        var space = line.IndexOf(' ');
        return space < 0 ? line[..Math.Min(line.Length, 20)] : line[..space];
    }

    private static string Slug(string name) => new([.. name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_')]);
}
