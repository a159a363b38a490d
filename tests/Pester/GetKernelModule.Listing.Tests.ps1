# Get-KernelModule -ListAvailable makes its objects before reading their files (each reads its file
# when a property needs it), and -Path reads on several threads: neither may change what an object
# shows, nor the order of the output.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1') -Force
    $script:plain = Get-KernelFixture plain
    $script:xz = Get-KernelFixture xz
    $script:isRead = [LkmPowerShell.KernelModuleFile].GetProperty('IsRead', [Reflection.BindingFlags]'NonPublic,Instance')
    # The listing's own properties (modprobe.d's verdict, the root, depmod's closure, the alias
    # matched) are null with -Path: compared elsewhere.
    function script:Show([object[]] $Modules) {
        # Everything the objects show (every property, lists item by item, parameters with type and
        # description, every field) as JSON, the listing's own properties left out.
        ($Modules | ConvertTo-Json -Depth 4 -Compress -AsArray) -replace '"(Disabled|DisabledBy|Blacklisted|BlacklistedBy|Root|MatchedAlias)":(null|true|false|"(?:[^"\\]|\\.)*"),?|"RequiredModules":(null|\[[^\]]*\]),?', ''
    }
}

Describe 'Get-KernelModule -ListAvailable reads each file when first asked' -Tag 'Oracle' {
    It 'shows on every module of the <Flavour> tree what the same file read with -LiteralPath shows' -ForEach @(
        @{ Flavour = 'plain' }, @{ Flavour = 'xz' }
    ) {
        $f = Get-KernelFixture $Flavour
        $listed = @(Get-KernelModule -ListAvailable -Root $f.Root -KernelVersion $f.Version)
        $listed.Count | Should -Be (Get-Content (Join-Path $f.ModulesDirectory 'modules.dep')).Count
        @($listed | Where-Object { $isRead.GetValue($_) }).Count | Should -Be 0 -Because 'listing reads no module file'
        $eager = @(Get-KernelModule -LiteralPath $listed.Path)
        $eager.Count | Should -Be $listed.Count
        if ((Show $listed) -cne (Show $eager)) {
            # Which ones: object by object (slower), to name them.
            $differ = @(for ($i = 0; $i -lt $listed.Count; $i++) { if ((Show $listed[$i]) -cne (Show $eager[$i])) { $listed[$i].Path } })
            $differ | Select-Object -First 5 | Should -BeNullOrEmpty
            $differ.Count | Should -BeGreaterThan 0 -Because 'the whole differs, so some object must'
        }
        $text = @(for ($i = 0; $i -lt $listed.Count; $i++) { if ($listed[$i].ToModinfoText() -cne $eager[$i].ToModinfoText()) { $listed[$i].Path } })
        $text | Select-Object -First 5 | Should -BeNullOrEmpty
        @($listed | Where-Object { -not $isRead.GetValue($_) }).Count | Should -Be 0
    }

    It 'reports a file damaged after the listing when a property needs it, naming the file' {
        $root = Join-Path $TestDrive 'damaged'
        $version = '9.9.9-lazy'
        $dir = Join-Path $root "lib/modules/$version/kernel"
        New-Item -ItemType Directory -Force $dir | Out-Null
        Copy-Item (Join-Path $plain.ModulesDirectory 'kernel/fs/fat/fat.ko') (Join-Path $dir 'fat.ko')
        Copy-Item (Join-Path $plain.ModulesDirectory 'kernel/fs/fat/msdos.ko') (Join-Path $dir 'msdos.ko')
        Set-Content (Join-Path $root "lib/modules/$version/modules.dep") "kernel/fat.ko:`nkernel/msdos.ko: kernel/fat.ko"
        $m = Get-KernelModule -ListAvailable -Root $root -KernelVersion $version
        $m.Name | Should -Be @('fat', 'msdos')
        [IO.File]::WriteAllBytes((Join-Path $dir 'fat.ko'), [byte[]](1..64))
        # PowerShell shows an exception in a property getter as $null: the object says why instead.
        $m[0].ReadProblem | Should -BeLike '*fat.ko*'
        $m[0].Description | Should -BeNullOrEmpty
        $m[0].Aliases.Count | Should -Be 0
        ($m[0] | Format-Table | Out-String -Width 400) | Should -Match 'cannot be read'
        ($m[0] | Format-List | Out-String) | Should -Match 'ReadProblem'
        { $m[0].ToModinfoText() } | Should -Throw -ExpectedMessage '*fat.ko*'
        $m[1].Depends | Should -Be @('fat')
        $m[1].ReadProblem | Should -BeNullOrEmpty
        ($m[1] | Format-List | Out-String) | Should -Not -Match 'ReadProblem'
        (Get-KernelModule -LiteralPath $m[1].Path).ReadProblem | Should -BeNullOrEmpty
    }
}

Describe 'Get-KernelModule -LiteralPath over many files' -Tag 'Oracle' {
    It 'writes objects and errors in the order the paths were given' {
        $fat = Join-Path $plain.ModulesDirectory 'kernel/fs/fat/fat.ko'
        $vfat = Join-Path $xz.ModulesDirectory 'kernel/fs/fat/vfat.ko.xz'
        $msdos = Join-Path $plain.ModulesDirectory 'kernel/fs/fat/msdos.ko'
        $out = @(Get-KernelModule -LiteralPath $fat, '/no/such/file.ko', $vfat, "/tmp/a`0b.ko", $msdos -ErrorAction Continue 2>&1)
        $out.Count | Should -Be 5
        $out[0].Name | Should -Be 'fat'
        $out[1].FullyQualifiedErrorId | Should -Be 'ModuleFileNotFound,LkmPowerShell.Commands.GetKernelModuleCommand'
        $out[2].Name | Should -Be 'vfat'
        $out[3].FullyQualifiedErrorId | Should -Be 'ModuleFileNotFound,LkmPowerShell.Commands.GetKernelModuleCommand'
        $out[4].Name | Should -Be 'msdos'
    }

    It 'keeps the order of a whole tree' {
        $files = @(Get-ChildItem -Recurse -File (Join-Path $plain.ModulesDirectory 'kernel/fs') -Filter *.ko | ForEach-Object FullName)
        (Get-KernelModule -LiteralPath $files).Path | Should -Be $files
    }
}
