using LkmPowerShell.Engine.Dependencies;
using LkmPowerShell.Engine.Planner;
using LkmPowerShell.Engine.Tests.Planner;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Dependencies;

/// <summary>Who needs a module, on the synthetic tree: modules.dep's users with the direct ones told apart, and softdep users.</summary>
public sealed class ReverseDependenciesTests
{
    private static ReverseDependencies Reverse(string config = "") => new(PlannerTestKit.Resolver(config));

    [Fact]
    public void TheUsersOfFatAreMsdosAndVfatBothDirect()
    {
        var rows = Reverse().Users("fat", recurse: false);
        Assert.Equal(("fat", DependencyRole.Target), (rows[0].Module, rows[0].Role));
        var users = rows.Skip(1).ToList();
        Assert.Equal(["msdos", "vfat"], users.Select(u => u.Module).Order());
        Assert.All(users, u => Assert.Equal((DependencyRole.User, DependencyKind.Depends, true, "fat"), (u.Role, u.Kind, u.Direct, u.Of)));
        Assert.All(users, u => Assert.Equal(["fat"], u.Needs));
        Assert.All(users, u => Assert.EndsWith("modules.dep", u.Source!, StringComparison.Ordinal));
        Assert.All(users, u => Assert.NotNull(u.Path));
    }

    [Fact]
    public void WithoutRecurseOnlyTheDirectUsersWithRecurseEveryUserAndTheWayItGoes()
    {
        // soundcore <- snd <- snd_timer <- snd_pcm <- snd_dummy (and snd_hda_intel): modules.dep names soundcore on every such line.
        var direct = Reverse().Users("soundcore", recurse: false).Skip(1).ToList();
        Assert.Equal(["snd"], direct.Select(r => r.Module));
        var all = Reverse().Users("soundcore", recurse: true).Skip(1).ToDictionary(r => r.Module);
        Assert.Superset(new HashSet<string> { "snd", "snd_timer", "snd_pcm", "snd_dummy" }, all.Keys.ToHashSet());
        Assert.True(all["snd"].Direct);
        Assert.False(all["snd_pcm"].Direct);
        Assert.Equal(["snd_timer"], all["snd_pcm"].Needs); // the nearest module it needs soundcore through
        Assert.Contains("snd", all["snd_pcm"].Via);
        Assert.StartsWith("needs soundcore through snd_timer", all["snd_pcm"].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TheHardUsersAreExactlyTheLinesOfModulesDepThatNameTheModule()
    {
        var tree = PlannerTestKit.Tree;
        foreach (var module in new[] { "fat", "soundcore", "snd", "jbd2", "crc16", "sunrpc" })
        {
            var expected = tree.Modules().Where(m => (tree.DependencyNames(m.Name) ?? []).Contains(module)).Select(m => m.Name).Order().ToList();
            var actual = Reverse().Users(module, recurse: true).Where(r => r.Kind == DependencyKind.Depends).Select(r => r.Module).Order().ToList();
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void ASoftdepUserIsFoundByNameAndThroughAnAliasAndMarkedSoftdep()
    {
        var rows = Reverse("softdep msdos pre: nls_cp437\nsoftdep loop post: crypto-crc32c\n");
        var nls = rows.Users("nls_cp437", recurse: false).Skip(1).ToList();
        var msdos = Assert.Single(nls, r => r.Module == "msdos");
        Assert.Equal((DependencyKind.Softdep, "test.conf:1", true), (msdos.Kind, msdos.Source, msdos.Optional));
        // crypto-crc32c is an alias of the built-in crc32c_generic
        var crc = rows.Users("crc32c_generic", recurse: false);
        Assert.Equal(DependencyAction.Builtin, crc[0].Action);
        var loop = Assert.Single(crc, r => r.Module == "loop");
        Assert.Contains("crypto-crc32c (resolves to crc32c_generic)", loop.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void RecurseFollowsTheUsersOfASoftdepUserToo()
    {
        // msdos softdeps on nls_cp437; nothing links against msdos, so add a module that needs fat's user... use snd: dummy softdeps on soundcore.
        var rows = Reverse("softdep dummy pre: snd_dummy\n").Users("soundcore", recurse: true);
        var dummy = Assert.Single(rows, r => r.Module == "dummy");
        Assert.Equal(("snd_dummy", DependencyKind.Softdep), (dummy.Of, dummy.Kind));
    }

    [Fact]
    public void AnUnknownNameIsModuleNotFound() =>
        Assert.Throws<ModuleNotFoundException>(() => Reverse().Users("no_such_module", recurse: false));
}
