using System.Diagnostics;
using System.Text;
using LkmPowerShell.Engine.Audit;
using LkmPowerShell.Engine.Initramfs;
using LkmPowerShell.Engine.Integrity;
using LkmPowerShell.Engine.ModuleFiles;
using LkmPowerShell.Engine.Tests.ModuleFiles;
using Xunit;
using Xunit.Abstractions;

namespace LkmPowerShell.Engine.Tests.Initramfs;

/// <summary>
/// A real initramfs, built by Debian's own mkinitramfs from the 6.1 fixture tree, read by the
/// engine and compared with lsinitramfs (cpio's listing of every archive in the file). mkinitramfs
/// only knows /lib/modules/&lt;version&gt; and /boot of the running system, so it runs in a private
/// mount namespace (unshare, a user namespace, nothing on the host changes) where the fixture's
/// folders are bind-mounted read-only at those places and /etc/modprobe.d is an empty tmpfs the
/// test fills. A small hook of the test's own prepends an uncompressed early archive, as Debian's
/// microcode packages do, so the file has the usual two parts.
/// </summary>
[Trait("Layer", "Oracle")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class MkinitramfsOracleTests(ITestOutputHelper output, MkinitramfsOracleTests.PlainImage plainImage)
    : IDisposable, IClassFixture<MkinitramfsOracleTests.PlainImage>
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("lkm-mkinitramfs-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    /// <summary>
    /// The image both tests start from (the 6.1 fixture, an empty modprobe.d), built once for the
    /// class: each mkinitramfs run is most of a test's time.
    /// </summary>
    public sealed class PlainImage : IDisposable
    {
        private readonly string _scratch = Directory.CreateTempSubdirectory("lkm-mkinitramfs-").FullName;
        private readonly Lazy<(string Image, string Report)> _image;

        public PlainImage() => _image = new(() => Build(_scratch, KernelFixtures.Plain, "plain", ""));

        public string Built(ITestOutputHelper output)
        {
            output.WriteLine(_image.Value.Report);
            return _image.Value.Image;
        }

        public void Dispose() => Directory.Delete(_scratch, recursive: true);
    }

    private const string EarlyHook = """
        #!/bin/sh
        case "$1" in prereqs) exit 0;; esac
        . /usr/share/initramfs-tools/hook-functions
        early="$(mktemp -d "${TMPDIR:-/tmp}/lkm-early-XXXXXX")"
        mkdir -p "$early/kernel/x86/microcode"
        printf 'not really microcode\n' > "$early/kernel/x86/microcode/GenuineIntel.bin"
        (cd "$early" && find . | LC_ALL=C sort | cpio --quiet -R 0:0 -o -H newc) > "$early.cpio"
        prepend_earlyinitramfs "$early.cpio"
        rm -rf "$early" "$early.cpio"
        """;

    /// <summary>
    /// Builds an initramfs in <paramref name="scratch"/> with vfat and dummy listed (the host's hooks
    /// add what they add), the given modprobe.d text inside; returns it and a line saying how long it took.
    /// </summary>
    private static (string Image, string Report) Build(string scratch, KernelFixture k, string name, string modprobeConf)
    {
        var conf = Path.Combine(scratch, "conf-" + name);
        foreach (var d in new[] { "conf.d", "hooks", "scripts" })
            Directory.CreateDirectory(Path.Combine(conf, d));
        File.WriteAllText(Path.Combine(conf, "initramfs.conf"), "MODULES=list\nBUSYBOX=n\nKEYMAP=n\nCOMPRESS=zstd\nRESUME=none\nFSTYPE=ext4\n");
        File.WriteAllText(Path.Combine(conf, "modules"), "vfat\ndummy\n");
        var hook = Path.Combine(conf, "hooks", "lkm-early");
        File.WriteAllText(hook, EarlyHook.Replace("\r", "") + "\n");
        File.SetUnixFileMode(hook, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var modprobe = Path.Combine(scratch, "modprobe-" + name);
        Directory.CreateDirectory(modprobe);
        if (modprobeConf.Length > 0)
            File.WriteAllText(Path.Combine(modprobe, "cis.conf"), modprobeConf);
        var tmp = Path.Combine(scratch, "tmp-" + name);
        Directory.CreateDirectory(tmp);
        var image = Path.Combine(scratch, "initrd.img-" + name);
        var modules = $"/lib/modules/{k.Version}";
        // Positional parameters keep the paths out of the script text (no quoting to get wrong).
        const string script = """
            set -e
            mount -t tmpfs none /lib/modules
            mkdir "/lib/modules/$1"
            mount --bind -o ro "$2" "/lib/modules/$1"
            mount --bind -o ro "$3" /boot
            mount --bind "$4" /etc/modprobe.d
            TMPDIR="$5" exec mkinitramfs -d "$6" -o "$7" "$1"
            """;
        var watch = Stopwatch.StartNew();
        CodecTools.Run("unshare", ["--map-root-user", "--mount", "sh", "-c", script, "lkm-mkinitramfs",
            k.Version, k.ModulesDirectory, Path.Combine(k.Root, "boot"), modprobe, tmp, conf, image]);
        return (image, $"mkinitramfs {k.Version} ({name}): {new FileInfo(image).Length:N0} bytes in {watch.ElapsedMilliseconds} ms; module folder {modules} from {k.ModulesDirectory}");
    }

    /// <summary>lsinitramfs -l: each archive's members as cpio -tv lists them (mode, links, owner, group, size, date, name).</summary>
    private static Dictionary<string, (char Type, long Size)> Listing(string image)
    {
        var listing = new Dictionary<string, (char, long)>(StringComparer.Ordinal);
        foreach (var line in Encoding.UTF8.GetString(CodecTools.Run("lsinitramfs", ["-l", image])).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split(' ', 9, StringSplitOptions.RemoveEmptyEntries);
            var name = f[8];
            if (f[0][0] == 'l') name = name[..name.IndexOf(" -> ", StringComparison.Ordinal)];
            listing[name] = (f[0][0], long.Parse(f[4], System.Globalization.CultureInfo.InvariantCulture));
        }
        return listing;
    }

    /// <summary>A system of the test's own: the fixture's kernel image, its index files and the modules the initramfs carries, copied (the fixture stays untouched).</summary>
    private string SystemWith(KernelFixture k, string image, InitramfsImage read, string modprobeConf)
    {
        var root = Path.Combine(_scratch, "root-" + Path.GetFileName(image));
        var boot = Directory.CreateDirectory(Path.Combine(root, "boot")).FullName;
        File.Copy(Path.Combine(k.Root, "boot", $"vmlinuz-{k.Version}"), Path.Combine(boot, $"vmlinuz-{k.Version}"));
        File.Copy(image, Path.Combine(boot, $"initrd.img-{k.Version}"));
        var tree = Directory.CreateDirectory(Path.Combine(root, "lib/modules", k.Version)).FullName;
        foreach (var index in Directory.EnumerateFiles(k.ModulesDirectory, "modules.*"))
            File.Copy(index, Path.Combine(tree, Path.GetFileName(index)));
        foreach (var m in read.Modules)
        {
            var target = Path.Combine(tree, m.TreePath);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(Path.Combine(k.ModulesDirectory, m.TreePath), target);
        }
        var etc = Directory.CreateDirectory(Path.Combine(root, "etc/modprobe.d")).FullName;
        if (modprobeConf.Length > 0)
            File.WriteAllText(Path.Combine(etc, "cis.conf"), modprobeConf);
        return root;
    }

    private const string DisableVfat = "install vfat /bin/false\nblacklist vfat\n";

    [Fact]
    public void The_reader_finds_what_lsinitramfs_lists_in_a_real_initramfs()
    {
        var k = KernelFixtures.Plain;
        var image = plainImage.Built(output);
        var read = InitramfsImage.Read(image);
        var listing = Listing(image);
        output.WriteLine($"segments: {string.Join("; ", read.Segments)}; lsinitramfs: {listing.Count} names; reader: {read.Entries.Count} entries, {read.Modules.Count} modules: {string.Join(' ', read.Modules.Select(m => m.Name))}");

        Assert.Equal([ModuleCompression.None, ModuleCompression.Zstd], read.Segments.Select(s => s.Compression));
        Assert.Empty(read.Unsafe);
        // Every name cpio lists is an entry of the reader's, with the same type and (for files and links) size; and no more.
        var ours = read.Entries.Where(e => e.Path != ".").ToDictionary(e => e.Path!, StringComparer.Ordinal);
        Assert.Equal(listing.Keys.Where(n => n != ".").Order(StringComparer.Ordinal), ours.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, (type, size)) in listing.Where(p => p.Key != "."))
        {
            var e = ours[name];
            Assert.True(type switch { '-' => e.IsRegularFile, 'd' => e.IsDirectory, 'l' => e.IsSymbolicLink, _ => true }, $"{name}: lsinitramfs type {type}, mode {Convert.ToString(e.Mode, 8)}");
            if (type is '-' or 'l')
                Assert.True(size == e.Data.Length || (type == '-' && e.Links > 1), $"{name}: lsinitramfs {size} bytes, reader {e.Data.Length}");
        }
        // The modules are the .ko files of the listing, each the fixture's own file byte for byte.
        Assert.Equal(listing.Keys.Where(n => n.EndsWith(".ko", StringComparison.Ordinal)).Order(StringComparer.Ordinal),
            read.Modules.Select(m => m.ArchivePath).Order(StringComparer.Ordinal));
        Assert.Contains(read.Modules, m => m.Name == "vfat");
        Assert.Contains(read.Modules, m => m.Name == "fat");
        Assert.All(read.Modules, m => Assert.Equal(k.Version, m.KernelVersion));
        Assert.All(read.Modules, m => Assert.True(File.ReadAllBytes(Path.Combine(k.ModulesDirectory, m.TreePath)).AsSpan().SequenceEqual(m.Data.Span), m.ArchivePath));
        Assert.Contains(read.ModulesLoadFiles, f => f.ArchivePath == "conf/modules" && f.Text.Contains("vfat", StringComparison.Ordinal));
    }

    [Fact]
    public void A_module_disabled_after_the_initramfs_was_built_is_found_and_one_disabled_before_is_not()
    {
        var k = KernelFixtures.Plain;
        var watch = Stopwatch.StartNew();

        // Built before the site disabled vfat: the initramfs has no such setting, the system now has.
        var before = plainImage.Built(output);
        var read = InitramfsImage.Read(before);
        var root = new SystemRoot(SystemWith(k, before, read, DisableVfat));
        var audit = InitramfsAudit.Run(root, k.Version)!;
        foreach (var f in audit.Findings) output.WriteLine($"before: {f}");
        var finding = Assert.Single(audit.Findings, f => f.Severity != AuditSeverity.Informational);
        Assert.Equal((AuditSeverity.Medium, AuditCheck.Initramfs, "vfat"), (finding.Severity, finding.Check, finding.Subject));
        Assert.Contains("cis.conf", finding.Message, StringComparison.Ordinal);
        Assert.Contains("update-initramfs -u -k " + k.Version, finding.Remedy, StringComparison.Ordinal);
        Assert.All(audit.Modules, s => Assert.Equal(SignatureVerdict.Valid, s.Signature.Verdict));
        Assert.All(audit.Modules, s => Assert.True(s.SameAsInstalled, s.Module.Name));
        Assert.Equal([k.Version], InitramfsAudit.KernelsStillCarrying(root, "vfat"));

        // Rebuilt after: mkinitramfs copies /etc/modprobe.d in, and the audit is quiet about vfat.
        var (after, report) = Build(_scratch, k, "after", DisableVfat);
        output.WriteLine(report);
        var rebuilt = InitramfsImage.Read(after);
        Assert.Contains(rebuilt.ModprobeFiles, f => f.ArchivePath == "etc/modprobe.d/cis.conf");
        var root2 = new SystemRoot(SystemWith(k, after, rebuilt, DisableVfat));
        var audit2 = InitramfsAudit.Run(root2, k.Version)!;
        foreach (var f in audit2.Findings) output.WriteLine($"after: {f}");
        Assert.DoesNotContain(audit2.Findings, f => f.Severity != AuditSeverity.Informational);
        Assert.True(Assert.Single(audit2.Modules, s => s.Module.Name == "vfat").DisabledInInitramfs);
        Assert.Empty(InitramfsAudit.KernelsStillCarrying(root2, "vfat"));
        output.WriteLine($"whole test: {watch.ElapsedMilliseconds} ms");
    }
}
