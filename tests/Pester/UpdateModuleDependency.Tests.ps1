# Update-ModuleDependency: depmod, checked byte for byte against Debian's depmod output on the
# real trees (the fixture script ran kmod's depmod into each tree); its errors on the synthetic
# tree. Each It writes into an output folder of its own: none reads another's output.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1') -Force
    $script:kmodFiles = 'modules.dep', 'modules.dep.bin', 'modules.alias', 'modules.alias.bin', 'modules.softdep',
        'modules.symbols', 'modules.symbols.bin', 'modules.builtin.bin', 'modules.builtin.alias.bin', 'modules.devname'
}

Describe 'Update-ModuleDependency on Debian''s trees' -Tag 'Oracle' {
    It 'writes the same bytes as kmod''s depmod for the <Flavour> tree' -ForEach @(@{ Flavour = 'plain' }, @{ Flavour = 'xz' }) {
        $f = Get-KernelFixture $Flavour
        $out = Join-Path $TestDrive "first-$Flavour"
        $r = Update-ModuleDependency -Root $f.Root -KernelVersion $f.Version -OutputPath $out -PassThru
        $r.Modules | Should -Be (Get-Content (Join-Path $f.ModulesDirectory 'modules.dep')).Count
        $r.PSObject.TypeNames[0] | Should -Be 'LkmPowerShell.ModuleDependencyUpdate'
        $r.Changed | Should -BeTrue -Because 'the output folder was empty'
        foreach ($name in $kmodFiles) {
            $ours = Get-FileHash (Join-Path $out "lib/modules/$($f.Version)/$name")
            $theirs = Get-FileHash (Join-Path $f.ModulesDirectory $name)
            $ours.Hash | Should -Be $theirs.Hash -Because "$name must be byte-identical to kmod's"
        }
    }

    It 'says Changed false when run again on the same tree, and the files stay kmod''s' {
        $f = Get-KernelFixture plain
        $out = Join-Path $TestDrive 'again'
        (Update-ModuleDependency -Root $f.Root -KernelVersion $f.Version -OutputPath $out -PassThru).Changed | Should -BeTrue
        $r = Update-ModuleDependency -Root $f.Root -KernelVersion $f.Version -OutputPath $out -PassThru
        $r.Changed | Should -BeOfType [bool]
        $r.Changed | Should -BeFalse
        foreach ($name in $kmodFiles) {
            (Get-FileHash (Join-Path $out "lib/modules/$($f.Version)/$name")).Hash |
                Should -Be (Get-FileHash (Join-Path $f.ModulesDirectory $name)).Hash -Because "$name must still be kmod's"
        }
    }

    It '-Quick does nothing when no module is newer than modules.dep' {
        $f = Get-KernelFixture plain
        $out = Join-Path $TestDrive 'quick'
        Update-ModuleDependency -Root $f.Root -KernelVersion $f.Version -OutputPath $out
        $before = (Get-Item (Join-Path $out "lib/modules/$($f.Version)/modules.dep")).LastWriteTimeUtc
        $r = Update-ModuleDependency -Root $f.Root -KernelVersion $f.Version -OutputPath $out -Quick -PassThru
        $r.Skipped | Should -BeTrue
        (Get-Item (Join-Path $out "lib/modules/$($f.Version)/modules.dep")).LastWriteTimeUtc | Should -Be $before
    }

    It 'runs once per distinct kernel version of its pipeline input (Import-Clixml of many modules)' {
        $f = Get-KernelFixture plain
        $xml = Join-Path $TestDrive 'mods.xml'
        Get-KernelModule -ListAvailable fat, msdos, vfat, dummy -Root $f.Root -KernelVersion $f.Version | Export-Clixml $xml
        $mods = Import-Clixml $xml
        @($mods).Count | Should -Be 4
        $out = Join-Path $TestDrive 'pipeline'
        $r = $mods | Update-ModuleDependency -Root $f.Root -OutputPath $out -PassThru
        @($r).Count | Should -Be 1
        $r.KernelVersion | Should -Be $f.Version
        (Get-FileHash (Join-Path $out "lib/modules/$($f.Version)/modules.dep")).Hash | Should -Be (Get-FileHash (Join-Path $f.ModulesDirectory 'modules.dep')).Hash
    }
}

Describe 'Update-ModuleDependency: what it refuses and what -WhatIf leaves alone' {
    BeforeAll { $script:synthetic = New-SyntheticModuleTree (Join-Path $TestDrive 'synthetic') }

    It '-WhatIf computes but writes nothing' {
        $out = Join-Path $TestDrive 'whatif'
        Update-ModuleDependency -Root $synthetic.Root -OutputPath $out -WhatIf
        Test-Path $out | Should -BeFalse
    }

    It 'a kernel that is not installed is a KernelNotInstalled error, and nothing is written' {
        $out = Join-Path $TestDrive 'missing'
        Update-ModuleDependency -Root $synthetic.Root -KernelVersion 9.9.9 -OutputPath $out -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -Be 'KernelNotInstalled,LkmPowerShell.Commands.UpdateModuleDependencyCommand'
        Test-Path $out | Should -BeFalse
    }

    It 'refuses a kernel version with ../ in it' {
        { Update-ModuleDependency -Root $synthetic.Root -KernelVersion '../x' -OutputPath (Join-Path $TestDrive 'bad') -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidKernelVersion,LkmPowerShell.Commands.UpdateModuleDependencyCommand'
    }
}
