# Built-in modules through Get-KernelModule -ListAvailable: kmod's modinfo shows a built-in name's
# records from modules.builtin.modinfo ("filename: (builtin)"); so does the cmdlet, marked IsBuiltin.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1') -Force
    $script:plain = Get-KernelFixture plain
    $script:xz = Get-KernelFixture xz
    function Get-Modinfo($f, [string] $Name) { ((modinfo -b $f.Root -k $f.Version $Name) -join "`n") + "`n" }
}

Describe 'Get-KernelModule -ListAvailable and built-in modules' -Tag 'Oracle' {
    It 'a built-in name gives its modinfo, byte for byte as kmod''s, marked built in (<Flavour>)' -ForEach @(
        @{ Flavour = 'plain'; Names = 'zswap', 'unix', 'iosf_mbi' }, @{ Flavour = 'xz'; Names = 'iosf_mbi', 'zbud' }) {
        $f = Get-KernelFixture $Flavour
        foreach ($name in $Names) {
            $m = Get-KernelModule -ListAvailable $name -Root $f.Root -KernelVersion $f.Version -ErrorVariable errs
            $errs | Should -BeNullOrEmpty
            $m.IsBuiltin | Should -BeTrue
            $m.Path | Should -BeNullOrEmpty
            $m.KernelVersion | Should -Be $f.Version
            $m.ToModinfoText() | Should -BeExactly (Get-Modinfo $f $name)
            $m.GetField('filename') | Should -Be '(builtin)'
        }
    }

    It 'carries the facts as properties: parameters, license, description' {
        $m = Get-KernelModule -ListAvailable zswap -Root $plain.Root -KernelVersion $plain.Version
        $m.Description | Should -Be 'Compressed cache for swap pages'
        $m.License | Should -Be 'GPL'
        $m.Parameters.Name | Should -Be @((modinfo -b $plain.Root -k $plain.Version -F parm zswap) | ForEach-Object { ($_ -split ':')[0] })
        ($m | Format-List | Out-String) | Should -BeLike '*Path*: (builtin)*'
    }

    It 'installed, built-in and unknown names together: two objects, one ModuleNotInstalled error' {
        $m = Get-KernelModule -ListAvailable msdos, zswap, no_such_module -Root $plain.Root -KernelVersion $plain.Version -ErrorVariable errs -ErrorAction SilentlyContinue
        $m.Name | Should -Be @('msdos', 'zswap')
        $m.IsBuiltin | Should -Be @($false, $true)
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'ModuleNotInstalled,*'
    }

    It 'wildcards list module files only, unless -IncludeBuiltin' {
        $files = @(Get-KernelModule -ListAvailable 'zs*' -Root $plain.Root -KernelVersion $plain.Version)
        $files.IsBuiltin | Should -Not -Contain $true
        $all = @(Get-KernelModule -ListAvailable 'zs*' -IncludeBuiltin -Root $plain.Root -KernelVersion $plain.Version)
        $builtin = @($all | Where-Object IsBuiltin)
        $builtin.Name | Should -Be @(Get-Content (Join-Path $plain.ModulesDirectory 'modules.builtin') | ForEach-Object { ($_ -split '/')[-1] -replace '\.ko$' -replace '-', '_' } | Where-Object { $_ -like 'zs*' } | Sort-Object)
        $all.Count | Should -Be ($files.Count + $builtin.Count)
    }
}
