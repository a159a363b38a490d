using LkmPowerShell.Engine.Loading;
using Xunit;

namespace LkmPowerShell.Engine.Tests.Hostile;

/// <summary>modprobe.d install/remove commands run through /bin/sh with a time limit (no module is loaded here).</summary>
public sealed class ModprobeCommandRunnerTests
{
    [Fact]
    public void CommandThatNeverEndsIsStoppedWithItsChildren()
    {
        var marker = Path.Combine(Path.GetTempPath(), "lkm-cmd-" + Guid.NewGuid().ToString("N"));
        // A child that would write the marker after the timeout: killing the tree must stop it too.
        var result = Within.Seconds(() => ModprobeCommandRunner.Run($"(sleep 3; touch {marker}) & sleep 60", new Dictionary<string, string>(), TimeSpan.FromMilliseconds(500)));
        Assert.True(result.TimedOut);
        Assert.False(result.Succeeded);
        Thread.Sleep(3500);
        Assert.False(File.Exists(marker), "a child of the stopped command kept running");
        Assert.Contains("did not finish within 60 s", new ModuleCommandException("dummy", "sleep 60", result, isRemove: false).Message);
    }

    [Fact]
    public void ExitCodeAndEnvironmentAreKept()
    {
        var result = ModprobeCommandRunner.Run("test \"$MODPROBE_MODULE\" = dummy && exit 3", new Dictionary<string, string> { ["MODPROBE_MODULE"] = "dummy" }, TimeSpan.FromSeconds(30));
        Assert.Equal(3, result.ExitCode);
        Assert.False(result.TimedOut);
        Assert.Equal("The remove command for dummy ('x') exited with 3.", new ModuleCommandException("dummy", "x", result, isRemove: true).Message);
    }
}
