# Objects agree with each other and survive the tools scripts pipe them into: module names in the
# kernel's form everywhere, list views labelled by property names, plain-hex signatures, every
# value of a repeated field, and multi-valued properties that Export-Csv writes as values.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1') -Force
    $script:synthetic = New-SyntheticModuleTree (Join-Path $TestDrive 'synthetic')
    $script:hda = Get-KernelModule -LiteralPath (Join-Path $synthetic.ModulesDirectory 'kernel/sound/pci/hda/snd-hda-intel.ko')
    $script:msdos = Get-KernelModule -LiteralPath (Join-Path $synthetic.ModulesDirectory 'kernel/fs/fat/msdos.ko')
    # Debian's trees, for the Describes tagged Oracle only: a missing fixture fails those, not the rest.
    function Use-KernelFixture {
        $script:plain = Get-KernelFixture plain
        $script:plainHda = Get-KernelModule -LiteralPath (Get-ChildItem -Recurse -File $plain.ModulesDirectory -Filter 'snd-hda-intel.ko').FullName
        $script:plainMsdos = Get-KernelModule -LiteralPath (Join-Path $plain.ModulesDirectory 'kernel/fs/fat/msdos.ko')
    }
}

Describe 'Module names in the kernel''s form' -Tag 'Oracle' {
    BeforeAll { Use-KernelFixture }

    It 'Depends holds names as Name has them (snd_hda_core, not snd-hda-core)' {
        $plainHda.Name | Should -Be 'snd_hda_intel'
        $plainHda.Depends | Should -Contain 'snd_hda_core'
        $plainHda.Depends | Where-Object { $_ -like '*-*' } | Should -BeNullOrEmpty
        @($plainHda) | Where-Object Depends -Contains 'snd_pcm' | Should -Not -BeNullOrEmpty
    }

    It 'keeps modinfo''s own text in Fields and ToModinfoText()' {
        $plainHda.Fields['depends'] | Should -Match 'snd-hda-core'
        $plainHda.ToModinfoText() | Should -Match 'depends:\s+.*snd-hda-core'
    }

    It 'normalises the module names in softdeps and keeps pre:/post:' {
        $ext4 = Get-KernelModule -LiteralPath (Join-Path $plain.ModulesDirectory 'kernel/fs/ext4/ext4.ko')
        $ext4.Fields['softdep'] | Should -Be 'pre: crypto-crc32c'
        $ext4.SoftDependencies | Should -Be 'pre: crypto_crc32c'
    }
}

Describe 'Values' -Tag 'Oracle' {
    BeforeAll { Use-KernelFixture }

    It 'Signature is plain hex, the same bytes modinfo prints' {
        $plainMsdos.Signature | Should -Match '^[0-9A-F]+$'
        $modinfo = (modinfo -F signature $plainMsdos.Path) -join '' -replace '[^0-9A-Fa-f]', ''
        $plainMsdos.Signature | Should -BeExactly $modinfo.ToUpperInvariant()
    }

    It 'keeps both descriptions of a module that has two (soundwire-intel)' {
        $sw = Get-KernelModule -LiteralPath (Get-ChildItem -Recurse -File $plain.ModulesDirectory -Filter 'soundwire-intel.ko').FullName
        $expected = @(modinfo -F description $sw.Path)
        $expected.Count | Should -Be 2
        $sw.Description -split "`n" | Should -Be $expected
    }
}

Describe 'Views and export' {
    It 'labels the list view with property names' {
        $text = $msdos | Format-List | Out-String -Width 200
        foreach ($label in 'Path', 'KeyId', 'HashAlgorithm', 'SourceVersion', 'VersionMagic', 'Parameters') { $text | Should -Match "(?m)^$label\s+:" }
        foreach ($label in 'filename', 'sig_key', 'sig_hashalgo', 'srcversion', 'vermagic', 'parm') { $text | Should -Not -Match "(?m)^$label\s+:" }
    }

    It 'writes multi-valued properties as values in CSV, not as a type name' {
        $hda | Export-Csv -Path (Join-Path $TestDrive 'm.csv')
        $text = Get-Content -Raw (Join-Path $TestDrive 'm.csv')
        $row = Import-Csv (Join-Path $TestDrive 'm.csv')
        foreach ($p in 'Author', 'Aliases', 'Depends', 'Parameters') { $row.$p | Should -Not -Match 'System\.|\[\]' -Because "$p holds values" }
        $row.Aliases | Should -Match 'pci:'
        $row.Depends -split '; ' | Should -Be @($hda.Depends)
    }

    It 'still indexes, counts and compares like an array, and comes back as a list after remoting' {
        $hda.Depends.Count | Should -BeGreaterThan 1
        $hda.Depends[0] | Should -BeOfType [string]
        $d = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($hda))
        @($d.Depends) | Should -Be @($hda.Depends)
    }
}

Describe 'What binds to what' {
    BeforeAll {
        $script:fatDir = Join-Path $synthetic.ModulesDirectory 'kernel/fs/fat'
        # A fabricated running system where fat and msdos are loaded.
        $script:fake = Join-Path $TestDrive 'bind'
        New-Item -ItemType Directory (Join-Path $fake 'proc'), (Join-Path $fake 'sys/module/fat'), (Join-Path $fake 'sys/module/msdos') | Out-Null
        Set-Content (Join-Path $fake 'proc/modules') "msdos 20480 0 - Live 0x0000000000000000`nfat 86016 1 msdos, Live 0x0000000000000000"
    }

    It 'strings from the pipeline are module names' {
        $r = 'fat', 'msdos' | Get-KernelModule -Root $fake -ErrorAction Stop
        $r.Name | Should -Be @('fat', 'msdos')
        $r[0].PSObject.TypeNames[0] | Should -Be 'LkmPowerShell.LoadedKernelModule'
    }

    It 'a loaded module piped back in finds itself, also after Export/Import-Clixml' {
        (Get-KernelModule -Root $fake -Name fat | Get-KernelModule -Root $fake -ErrorAction Stop).Name | Should -Be 'fat'
        Get-KernelModule -Root $fake | Export-Clixml (Join-Path $TestDrive 'loaded.xml')
        (Import-Clixml (Join-Path $TestDrive 'loaded.xml') | Get-KernelModule -Root $fake -ErrorAction Stop).Name | Should -Be @('msdos', 'fat')
    }

    It 'a FileInfo binds to -LiteralPath' {
        (Get-Item (Join-Path $fatDir 'msdos.ko') | Get-KernelModule -ErrorAction Stop).Name | Should -Be 'msdos'
    }

    It 'a name that is plainly a file is read as a file' {
        Push-Location $fatDir
        try {
            (Get-KernelModule ./msdos.ko -ErrorAction Stop).Name | Should -Be 'msdos'
            (Get-KernelModule msdos.ko -ErrorAction Stop).Name | Should -Be 'msdos'
            (Get-KernelModule -ListAvailable -Root $synthetic.Root ./fat.ko -ErrorAction Stop).Name | Should -Be 'fat'
        }
        finally { Pop-Location }
    }

    It 'Find-KernelSymbol takes the symbol name positionally beside -Path' {
        (Find-KernelSymbol -Path (Join-Path $fatDir 'fat.ko') fat_time_unix2fat -ErrorAction Stop).Name | Should -Be 'fat_time_unix2fat'
    }
}
