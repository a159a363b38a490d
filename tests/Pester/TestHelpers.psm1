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

Export-ModuleMember -Function Get-RepositoryRoot, Get-KernelFixture
