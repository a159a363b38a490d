# Shared by the Pester suites: where the repository and Debian's kernel fixtures are.

function Get-RepositoryRoot { (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path }

function Get-KernelFixture {
    # The kernels unpacked by tests/fixtures/get-debian-kernels.sh. Missing fixtures fail the
    # test loudly: these tests are never skipped.
    param([ValidateSet('plain', 'xz')] [string] $Flavour)
    $cache = if ($env:LKM_FIXTURES) { $env:LKM_FIXTURES } else { '/var/cache/lkmpowershell' }
    $list = Join-Path $cache 'kernels.txt'
    if (-not (Test-Path $list)) { throw "Kernel fixtures missing ($list). Run 'bash tests/fixtures/get-debian-kernels.sh'." }
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

Export-ModuleMember -Function Get-RepositoryRoot, Get-KernelFixture, Copy-FixtureTree
