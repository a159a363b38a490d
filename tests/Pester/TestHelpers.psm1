# Shared by the Pester suites: where the repository and Debian's kernel fixtures are, and the
# synthetic module tree for the tests that need a tree but not Debian's.

# kmod's tools (modprobe, depmod, modinfo), the oracle of many tests, live in /usr/sbin and /sbin,
# which an ordinary user's PATH lacks: the tests run as any user, so they are added here.
foreach ($sbin in '/usr/sbin', '/sbin') {
    if (($env:PATH -split ':') -notcontains $sbin) { $env:PATH = "$env:PATH`:$sbin" }
}

function Get-RepositoryRoot { (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path }

$script:fixturesMissingReported = $false

function Get-KernelFixture {
    # The kernels unpacked by tests/fixtures/get-debian-kernels.sh: only the tests tagged 'Oracle'
    # read them. Missing fixtures fail the test loudly, locally as in CI: these tests are never
    # skipped. The first failure names the command that fetches them, the others refer to it.
    param([ValidateSet('plain', 'xz')] [string] $Flavour)
    $cache = if ($env:LKM_FIXTURES) { $env:LKM_FIXTURES } else { '/var/cache/lkmpowershell' }
    $list = Join-Path $cache 'kernels.txt'
    if (-not (Test-Path $list)) {
        if ($script:fixturesMissingReported) { throw "Kernel fixtures missing ($list): see the first such failure for the command that fetches them." }
        $script:fixturesMissingReported = $true
        throw ("Kernel fixtures missing ($list): the tests tagged 'Oracle' compare with kmod on Debian's real trees and cannot run without them. " +
            "Fetch them with 'sudo dotnet pwsh -NoProfile -File ./build.ps1 Fixtures' (or set LKM_FIXTURES to where they are); " +
            "without them, run the suite with -ExcludeTag RealKernel,Oracle.")
    }
    $line = Get-Content $list | Where-Object { $_ -like "$Flavour *" } | Select-Object -First 1
    if (-not $line) { throw "$list names no '$Flavour' kernel." }
    $version = $line.Split(' ', 2)[1]
    $root = Join-Path $cache "$version/root"
    [pscustomobject]@{ Flavour = $Flavour; Version = $version; Root = $root; ModulesDirectory = Join-Path $root "lib/modules/$version" }
}

function Copy-FixtureTree {
    # A fixture tree inside a scratch root, as hard links (instant, no space; the tests replace
    # files by rename, never write them in place), or as a copy across file systems. A symbolic
    # link would not do: reading under -Root keeps every path inside the root.
    param([string] $Source, [string] $Destination)
    New-Item -ItemType Directory -Force (Split-Path $Destination) | Out-Null
    & cp -al $Source $Destination 2>$null
    if ($LASTEXITCODE -ne 0) { & cp -a $Source $Destination; if ($LASTEXITCODE -ne 0) { throw "cannot copy $Source to $Destination" } }
}

function New-SyntheticModuleTree {
    # The engine tests' synthetic module tree (tests/LkmPowerShell.Engine.Tests/TestKit/
    # SyntheticModules.cs: msdos needs fat, a five-deep sound chain, softdeps, aliases, built-ins,
    # a parameter of each type), written under $Path and indexed by Update-ModuleDependency, the
    # project's own depmod. Returns the same shape as Get-KernelFixture.
    # Why the test assembly and not a writer in script: the tests keep one ELF writer and one
    # tree, checked once against kmod's depmod and modprobe by the engine's oracle layer; the
    # assembly is built with the solution (build.ps1 Build), and the guest's Replay.Tests.ps1
    # loads it the same way. Its TestKit types use neither the engine nor xunit, so loading it
    # beside the imported module brings no second copy of anything.
    param([Parameter(Mandatory)] [string] $Path, [switch] $WithConfig)
    if (-not ('LkmPowerShell.Engine.Tests.TestKit.SyntheticModules' -as [type])) {
        $repo = Get-RepositoryRoot
        $dll = 'Release', 'Debug' | ForEach-Object { Join-Path $repo "tests/LkmPowerShell.Engine.Tests/bin/$_/net10.0/LkmPowerShell.Engine.Tests.dll" } |
            Where-Object { Test-Path $_ } | Select-Object -First 1
        if (-not $dll) { throw "The synthetic module tree needs the test assembly: build it with 'dotnet pwsh -NoProfile -File ./build.ps1 Build' (or dotnet build tests/LkmPowerShell.Engine.Tests -c Release)." }
        Add-Type -Path $dll
    }
    $version = [LkmPowerShell.Engine.Tests.TestKit.SyntheticModules]::Version
    $modules = [LkmPowerShell.Engine.Tests.TestKit.SyntheticModules]::Write($Path, [bool] $WithConfig)
    Update-ModuleDependency -Root $Path -KernelVersion $version -ErrorAction Stop
    [pscustomobject]@{ Flavour = 'synthetic'; Version = $version; Root = (Resolve-Path $Path).Path; ModulesDirectory = $modules }
}

Export-ModuleMember -Function Get-RepositoryRoot, Get-KernelFixture, Copy-FixtureTree, New-SyntheticModuleTree
