# Find-KernelSymbol and Get-KernelModule -ListAvailable on Debian's real trees (the Describes
# tagged Oracle), on the synthetic tree, and on this build machine's kernel (which has kallsyms
# but no module support).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1') -Force
    $script:synthetic = New-SyntheticModuleTree (Join-Path $TestDrive 'synthetic')
    $script:msdos = Join-Path $synthetic.ModulesDirectory 'kernel/fs/fat/msdos.ko'
    # Debian's trees, for the Describes tagged Oracle only: a missing fixture fails those, not the rest.
    function Use-KernelFixture {
        $script:plain = Get-KernelFixture plain
        $script:xz = Get-KernelFixture xz
        $script:plainMsdos = Join-Path $plain.ModulesDirectory 'kernel/fs/fat/msdos.ko'
    }
}

Describe 'Find-KernelSymbol -ListAvailable' -Tag 'Oracle' {
    BeforeAll { Use-KernelFixture }

    It 'finds which module provides fat_time_unix2fat in the <Flavour> tree' -ForEach @(@{ Flavour = 'plain' }, @{ Flavour = 'xz' }) {
        $f = Get-KernelFixture $Flavour
        $s = Find-KernelSymbol fat_time_unix2fat -ListAvailable -Root $f.Root -KernelVersion $f.Version
        $s.Module | Should -Be 'fat'
        $s.Source | Should -Be 'ModuleTree'
        $s.Path | Should -BeLike '*/kernel/fs/fat/fat.ko*'
        $s.PSObject.TypeNames[0] | Should -Be 'LkmPowerShell.KernelSymbol'
    }

    It 'lists the same symbols as modules.symbols for a wildcard' {
        $expected = Get-Content (Join-Path $plain.ModulesDirectory 'modules.symbols') |
            Where-Object { $_ -like 'alias symbol:fat_* *' } | ForEach-Object { ($_ -split ' ')[1].Substring(7) } | Sort-Object
        $actual = Find-KernelSymbol 'fat_*' -ListAvailable -Root $plain.Root -KernelVersion $plain.Version | ForEach-Object Name | Sort-Object
        $actual | Should -Be $expected
        @($actual).Count | Should -BeGreaterThan 10
    }
}

Describe 'Find-KernelSymbol -ListAvailable: what it refuses' {
    It 'a symbol nobody exports is a SymbolNotFound error' {
        Find-KernelSymbol no_such_symbol_at_all -ListAvailable -Root $synthetic.Root -KernelVersion $synthetic.Version -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -Be 'SymbolNotFound,LkmPowerShell.Commands.FindKernelSymbolCommand'
    }

    It 'a kernel version that is not installed is a KernelNotInstalled error naming what is' {
        Find-KernelSymbol fat_time_unix2fat -ListAvailable -Root $synthetic.Root -KernelVersion 9.9.9-nope -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -Be 'KernelNotInstalled,LkmPowerShell.Commands.FindKernelSymbolCommand'
        $errs[0].Exception.Message | Should -BeLike "*9.9.9-nope*$($synthetic.Version)*"
    }

    It 'refuses a kernel version with ../ in it' {
        Find-KernelSymbol x -ListAvailable -Root $synthetic.Root -KernelVersion '../../etc' -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'InvalidKernelVersion,*'
    }
}

Describe 'Find-KernelSymbol -Path -Undefined' -Tag 'Oracle' {
    BeforeAll { Use-KernelFixture }

    It 'names the fat symbols msdos needs and fat.ko as their provider' {
        $needs = Get-KernelModule -Path $plainMsdos | Find-KernelSymbol -Undefined -Root $plain.Root -WarningAction SilentlyContinue
        $fat = @($needs | Where-Object Module -EQ 'fat')
        $fat.Name | Should -Contain 'fat_time_unix2fat'
        $fat.Count | Should -BeGreaterThan 10
        $fat[0].ProviderKind | Should -Be 'ModuleFile'
        $fat[0].ProviderPath | Should -BeLike '*/fat.ko'
        $fat[0].RequiredBy | Should -Be 'msdos'
        # Everything modinfo says msdos depends on is a provider here, and nothing else is.
        ($needs | Where-Object ProviderKind -EQ 'ModuleFile' | ForEach-Object Module | Sort-Object -Unique) | Should -Be @(modinfo -F depends $plainMsdos)
        # The kernel's own symbols cannot be checked offline, and are said to be unverified.
        ($needs | Where-Object Name -EQ 'register_filesystem').ProviderKind | Should -Be 'Unverified'
    }

    It 'shows who provides each symbol in its default view, Unverified where nothing could be checked' {
        $needs = Find-KernelSymbol -Undefined -LiteralPath $plainMsdos -Root $plain.Root -WarningVariable warned -WarningAction SilentlyContinue
        $needs[0].PSObject.TypeNames[0] | Should -Be 'LkmPowerShell.KernelSymbol#Undefined'
        $table = $needs | Out-String -Width 120
        $table | Should -Match 'ProviderKind'
        $table | Should -Match 'register_filesystem\s+Unverified'
        # Nothing is claimed for nobody when the kernel image could not be checked.
        @($needs | Where-Object ProviderKind -EQ 'None') | Should -BeNullOrEmpty
        @($warned).Count | Should -Be 1
        "$warned" | Should -BeLike "msdos: * needed symbols are marked Unverified*$($plain.Version) is not the running kernel and no Module.symvers*linux-headers-$($plain.Version)*"
    }

    It 'checks the kernel image against the Module.symvers under -Root: Kernel, or None for what nothing exports' {
        # An image with the 6.1 modules and a Module.symvers (reached through lib/modules/VER/build,
        # an absolute link that must resolve inside the root) that lacks one symbol msdos needs.
        $image = Join-Path $TestDrive 'with-symvers'
        Copy-FixtureTree $plain.ModulesDirectory (Join-Path $image "lib/modules/$($plain.Version)")
        $headers = Join-Path $image "usr/src/linux-headers-$($plain.Version)"
        New-Item -ItemType Directory -Force $headers | Out-Null
        New-Item -ItemType SymbolicLink -Path (Join-Path $image "lib/modules/$($plain.Version)/build") -Target "/usr/src/linux-headers-$($plain.Version)" | Out-Null
        $kernelOnes = (Find-KernelSymbol -Undefined -LiteralPath $plainMsdos -Root $plain.Root -WarningAction SilentlyContinue | Where-Object ProviderKind -EQ 'Unverified').Name
        $kernelOnes | Should -Contain 'd_instantiate'
        ($kernelOnes | Where-Object { $_ -ne 'd_instantiate' } | ForEach-Object { "0x00000000`t$_`tvmlinux`tEXPORT_SYMBOL`t" }) -join "`n" | Set-Content (Join-Path $headers 'Module.symvers')

        $needs = Find-KernelSymbol -Undefined -LiteralPath $plainMsdos -Root $image -WarningVariable warned -WarningAction SilentlyContinue
        ($needs | Where-Object Name -EQ 'register_filesystem').ProviderKind | Should -Be 'Kernel'
        ($needs | Where-Object Name -EQ 'fat_time_unix2fat').ProviderKind | Should -Be 'ModuleFile'
        ($needs | Where-Object ProviderKind -EQ 'None').Name | Should -Be 'd_instantiate'
        @($needs | Where-Object ProviderKind -EQ 'Unverified') | Should -BeNullOrEmpty
        $warned | Should -BeNullOrEmpty
    }

    It 'does not read a Module.symvers outside -Root through a link' {
        # The same link in an image without headers: the host's /usr/src must not answer.
        $image = Join-Path $TestDrive 'link-out'
        Copy-FixtureTree $plain.ModulesDirectory (Join-Path $image "lib/modules/$($plain.Version)")
        New-Item -ItemType SymbolicLink -Path (Join-Path $image "lib/modules/$($plain.Version)/build") -Target "/usr/src/linux-headers-$($plain.Version)" | Out-Null
        $needs = Find-KernelSymbol -Undefined -LiteralPath $plainMsdos -Root $image -WarningAction SilentlyContinue
        ($needs | Where-Object Name -EQ 'register_filesystem').ProviderKind | Should -Be 'Unverified'
    }

    It 'matches the dependencies depmod computed, for a sample of modules' {
        $dep = @{}
        foreach ($line in Get-Content (Join-Path $plain.ModulesDirectory 'modules.dep')) {
            $parts = $line -split ':\s*', 2
            $dep[$parts[0]] = $parts[1]
        }
        $sample = $dep.Keys | Sort-Object | Select-Object -First 400 | Where-Object { $dep[$_] } | Select-Object -First 25
        foreach ($rel in $sample) {
            $direct = Find-KernelSymbol -Undefined -LiteralPath (Join-Path $plain.ModulesDirectory $rel) -Root $plain.Root -WarningAction SilentlyContinue |
                Where-Object ProviderKind -EQ 'ModuleFile' | ForEach-Object ProviderPath | Sort-Object -Unique
            # Every direct provider is in depmod's transitive closure for that module.
            $closure = $dep[$rel] -split ' ' | ForEach-Object { Join-Path $plain.ModulesDirectory $_ }
            foreach ($p in $direct) { $closure | Should -Contain $p -Because "$rel needs symbols from $p" }
        }
    }

    It 'without -Undefined lists what the file exports' {
        $fat = Join-Path $plain.ModulesDirectory 'kernel/fs/fat/fat.ko'
        (Find-KernelSymbol -Path $fat -Name 'fat_time_*').Name | Should -Contain 'fat_time_unix2fat'
    }
}

Describe 'Get-KernelModule -ListAvailable' -Tag 'Oracle' {
    BeforeAll { Use-KernelFixture }

    It 'lists every module of the <Flavour> tree, as modules.dep does' -ForEach @(@{ Flavour = 'plain' }, @{ Flavour = 'xz' }) {
        $f = Get-KernelFixture $Flavour
        $expected = (Get-Content (Join-Path $f.ModulesDirectory 'modules.dep')).Count
        $all = Get-KernelModule -ListAvailable -Root $f.Root -KernelVersion $f.Version
        @($all).Count | Should -Be $expected
        ($all | Where-Object Name -EQ 'msdos').Depends | Should -Be @('fat')
    }

    It 'treats - and _ alike in names, with wildcards' {
        $m = Get-KernelModule -ListAvailable -Root $plain.Root -KernelVersion $plain.Version -Name 'snd-hda-intel'
        $m.Name | Should -Be 'snd_hda_intel'
        @(Get-KernelModule -ListAvailable -Root $plain.Root -KernelVersion $plain.Version -Name 'snd-hda-codec-*').Count | Should -BeGreaterThan 5
    }

    It 'defaults to the only kernel installed under -Root' {
        (Get-KernelModule -ListAvailable -Root $plain.Root -Name msdos).Path | Should -BeLike "*$($plain.Version)*msdos.ko"
    }

    It 'a name that is not installed is a ModuleNotInstalled error' {
        Get-KernelModule -ListAvailable -Root $plain.Root -Name no_such_module -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -Be 'ModuleNotInstalled,LkmPowerShell.Commands.GetKernelModuleCommand'
    }
}

Describe 'On this build machine, whose kernel has no module support' -Tag 'HostKernel' {
    BeforeAll { $script:hostHasModules = Test-Path /proc/modules }

    It 'Get-KernelModule says plainly that the kernel has no loadable-module support; where it has, lists without error' {
        if ($hostHasModules) {
            # The other branch, so that the test asserts something on any host: the list is /proc/modules'.
            $listed = @(Get-KernelModule -ErrorAction Stop)
            $listed.Count | Should -Be @(Get-Content /proc/modules).Count
            return
        }
        Get-KernelModule -ErrorVariable errs -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'KernelModulesUnsupported,LkmPowerShell.Commands.GetKernelModuleCommand'
        $errs[0].Exception.Message | Should -BeLike '*no loadable-module support*/proc/modules does not exist*'
    }

    It 'Find-KernelSymbol reads the running kernel''s kallsyms' {
        $s = Find-KernelSymbol schedule
        $s.Name | Should -Be 'schedule'
        $s.Type | Should -BeIn @('T', 't')
        $s.Module | Should -BeNullOrEmpty
        $s.Source | Should -Be 'RunningKernel'
        # The file-only facts are empty, and every property is still there, in the same order.
        @($s.Path, $s.Crc, $s.RequiredBy, $s.ProviderKind, $s.ProviderPath).Where({ $null -ne $_ }) | Should -BeNullOrEmpty
        $s.IsWeak | Should -BeFalse
        $s.Address | Should -Match '^0x[0-9a-f]{16}$|^$'
        @($s.PSObject.Properties.Name) | Should -Be @('Name', 'Type', 'Address', 'Module', 'ModuleName', 'Source', 'Path', 'Crc', 'RequiredBy', 'ProviderKind', 'ProviderPath', 'IsWeak')
    }

    It 'Find-KernelSymbol with a literal name and a wildcard: both found, and a missing name is an error' {
        $found = @(Find-KernelSymbol schedule, 'tcp_v4_*', no_such_symbol_xyz -ErrorVariable errs -ErrorAction SilentlyContinue)
        $found.Name | Should -Contain 'schedule'
        @($found | Where-Object Name -like 'tcp_v4_*').Count | Should -BeGreaterThan 0
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'SymbolNotFound,*'
    }
}

Describe 'The module manifest' {
    It 'passes Test-ModuleManifest and exports exactly the cmdlets' {
        $m = Test-ModuleManifest (Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1')
        $m.ExportedCmdlets.Keys | Sort-Object | Should -Be @('ConvertTo-KernelModuleGraph', 'Disable-KernelModule', 'Enable-KernelModule', 'Find-KernelSymbol', 'Get-KernelModule', 'Get-KernelModuleBootEntry', 'Get-KernelModuleConfiguration', 'Get-KernelModuleDependency', 'Import-KernelModule', 'Remove-KernelModule', 'Set-KernelModuleParameter', 'Test-KernelModule', 'Update-ModuleDependency')
        $m.CompatiblePSEditions | Should -Be @('Core')
        $m.PrivateData.PSData.Tags | Should -Contain 'kmod'
        (Get-Command -Module LkmPowerShell).Name | Sort-Object | Should -Be @('ConvertTo-KernelModuleGraph', 'Disable-KernelModule', 'Enable-KernelModule', 'Find-KernelSymbol', 'Get-KernelModule', 'Get-KernelModuleBootEntry', 'Get-KernelModuleConfiguration', 'Get-KernelModuleDependency', 'Import-KernelModule', 'Remove-KernelModule', 'Set-KernelModuleParameter', 'Test-KernelModule', 'Update-ModuleDependency')
    }
}

Describe 'Objects after remoting (serialised and deserialised as PowerShell remoting does)' {
    BeforeAll {
        function ConvertThrough-Remoting($o) { [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($o)) }
    }

    It 'a deserialised module file keeps its type name, its parameters and modinfo fields' {
        $d = ConvertThrough-Remoting (Get-KernelModule -LiteralPath (Join-Path $synthetic.ModulesDirectory 'kernel/drivers/net/dummy.ko'))
        $d.PSObject.TypeNames[0] | Should -Be 'Deserialized.LkmPowerShell.KernelModuleFile'
        $d.Parameters[0].Name | Should -Be 'numdummies'
        $d.Fields['alias'] | Should -Be 'rtnl-link-dummy'
    }

    It 'a deserialised module file still pipes into Find-KernelSymbol by property name' {
        $d = ConvertThrough-Remoting (Get-KernelModule -LiteralPath $msdos)
        $needs = $d | Find-KernelSymbol -Undefined -Root $synthetic.Root
        ($needs | Where-Object Module -EQ 'fat').Count | Should -Be 5 # the fat_ symbols msdos needs
    }
}

Describe 'Tab completion of module names' {
    It 'completes installed module names under -Root, with - and _ alike' {
        $line = "Get-KernelModule -ListAvailable -Root '$($synthetic.Root)' -Name snd-hda-int"
        $r = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $r.CompletionMatches.CompletionText | Should -Contain 'snd_hda_intel'
    }

    It 'never throws, even for a root that does not exist' {
        $line = "Get-KernelModule -ListAvailable -Root '/no/such/root' -Name ms"
        { TabExpansion2 -inputScript $line -cursorColumn $line.Length } | Should -Not -Throw
    }
}
