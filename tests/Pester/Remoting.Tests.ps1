# What remoting does to the module's objects and errors, checked without a second machine: the
# wire is PowerShell's own serializer (PSSerializer, Export-Clixml, and a background job, which is
# remoting to a child process), and PSComputerName/PSShowComputerName are added as remoting adds them.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:psd1 = Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1'
    Import-Module $psd1 -Force
    $script:synthetic = New-SyntheticModuleTree (Join-Path $TestDrive 'synthetic')
    $script:isRead = [LkmPowerShell.KernelModuleFile].GetProperty('IsRead', [System.Reflection.BindingFlags]'NonPublic, Instance')

    function ConvertThrough-Wire($InputObject, [string] $ComputerName) {
        # Serialised and back, as remoting sends it; then stamped as remoting stamps what it receives.
        $back = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($InputObject, 2))
        if ($ComputerName) {
            foreach ($o in @($back)) {
                $o | Add-Member -NotePropertyName PSComputerName -NotePropertyValue $ComputerName -Force
                $o | Add-Member -NotePropertyName PSShowComputerName -NotePropertyValue $true -Force
            }
        }
        $back
    }

    # A running system made of files: fat and msdos loaded.
    $script:fake = Join-Path $TestDrive 'system'
    New-Item -ItemType Directory -Force (Join-Path $fake 'proc/sys/kernel'), (Join-Path $fake 'sys/module/fat'), (Join-Path $fake 'sys/module/msdos') | Out-Null
    Set-Content (Join-Path $fake 'proc/modules') "msdos 20480 0 - Live 0x0000000000000000`nfat 86016 1 msdos, Live 0x0000000000000000"
    Set-Content (Join-Path $fake 'proc/sys/kernel/osrelease') $synthetic.Version
}

Describe 'A listing crosses the wire without reading the module files' {
    It 'serialises what the listing knows, and reads no file (PSSerializer and Export-Clixml)' {
        $listing = @(Get-KernelModule -ListAvailable -Root $synthetic.Root)
        $listing.Count | Should -BeGreaterThan 10
        $back = @(ConvertThrough-Wire $listing)
        $listing | Export-Clixml (Join-Path $TestDrive 'listing.xml')
        @($listing | Where-Object { $isRead.GetValue($_) }).Count | Should -Be 0 -Because 'neither serialiser asked for a property that reads the file'
        $fat = $back | Where-Object Name -EQ 'fat'
        $fat.PSObject.TypeNames | Should -Contain 'Deserialized.LkmPowerShell.KernelModuleFile'
        $fat.Path | Should -BeLike '*/kernel/fs/fat/fat.ko'
        ($fat.Root, $fat.IsBuiltin, $fat.FileSize) | Should -Be @($synthetic.Root, $false, (Get-Item $fat.Path).Length)
        ($back | Where-Object Name -EQ 'msdos').RequiredModules | Should -Be 'fat'
        $fat.PSObject.Properties.Name | Should -Not -Contain 'Description' -Because 'the file was not read'
        (Import-Clixml (Join-Path $TestDrive 'listing.xml')).Count | Should -Be $listing.Count
    }

    It 'serialises everything of an object whose file was read, and of a module asked for by name' {
        $listing = @(Get-KernelModule -ListAvailable -Root $synthetic.Root)
        $withParameters = $listing | Where-Object { $_.Parameters.Count -gt 0 } | Select-Object -First 1
        $withParameters | Should -Not -BeNullOrEmpty
        $read = ConvertThrough-Wire $withParameters
        $read.Parameters.Count | Should -Be $withParameters.Parameters.Count
        $named = Get-KernelModule -ListAvailable -Root $synthetic.Root -Name $withParameters.Name
        $isRead.GetValue($named) | Should -BeFalse
        $back = ConvertThrough-Wire $named
        $back.Description | Should -Be $withParameters.Description
        $back.Parameters.Count | Should -Be $withParameters.Parameters.Count
        $back.Parameters[0].Name | Should -Be $withParameters.Parameters[0].Name
        (ConvertThrough-Wire (Get-KernelModule -LiteralPath $withParameters.Path)).Description | Should -Be $withParameters.Description
    }
}

Describe 'Errors across the wire' {
    BeforeAll {
        $script:original = $null
        Get-KernelModule -ListAvailable -Root $synthetic.Root -Name nosuchmodule -ErrorAction SilentlyContinue -ErrorVariable +e | Out-Null
        $script:original = $e[0]
    }

    It 'the original has what the wire must keep' {
        $original.FullyQualifiedErrorId | Should -BeLike 'ModuleNotInstalled,*'
        $original.TargetObject | Should -Be 'nosuchmodule'
    }

    It 'keeps FullyQualifiedErrorId, category, target and RecommendedAction through the serializer' {
        # The serializer flattens an ErrorRecord into these properties; the receiving side of
        # remoting builds the record again from them (the job below shows the rebuilt record).
        Import-KernelModule -Root $fake -Name nosuchmodule -WhatIf -ErrorAction SilentlyContinue -ErrorVariable ev
        $withRemedy = $ev[0]
        $withRemedy.ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
        foreach ($record in $original, $withRemedy) {
            $back = ConvertThrough-Wire $record
            $back.PSObject.TypeNames | Should -Contain 'Deserialized.System.Management.Automation.ErrorRecord'
            $back.FullyQualifiedErrorId | Should -Be $record.FullyQualifiedErrorId
            "$($back.ErrorCategory_Category)" | Should -Be ([int] $record.CategoryInfo.Category)
            $back.TargetObject | Should -Be $record.TargetObject
            $back.ErrorDetails_RecommendedAction | Should -Be $record.ErrorDetails.RecommendedAction
        }
    }

    It 'keeps them through a job (remoting to a child process), with a remedy the module gives' {
        $records = Start-Job -ArgumentList $psd1, $fake -ScriptBlock {
            param($psd1, $fake)
            Import-Module $psd1
            Import-KernelModule -Root $fake -Name nosuchmodule -WhatIf
        } | Receive-Job -Wait -AutoRemoveJob -ErrorAction SilentlyContinue -ErrorVariable jobErrors
        $jobErrors.Count | Should -Be 1
        Import-KernelModule -Root $fake -Name nosuchmodule -WhatIf -ErrorAction SilentlyContinue -ErrorVariable ev
        $local = $ev[0]
        $local.ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty -Because 'this error carries a remedy'
        $jobErrors[0].FullyQualifiedErrorId | Should -Be $local.FullyQualifiedErrorId
        $jobErrors[0].CategoryInfo.Category | Should -Be $local.CategoryInfo.Category
        "$($jobErrors[0].TargetObject)" | Should -Be "$($local.TargetObject)"
        $jobErrors[0].ErrorDetails.RecommendedAction | Should -Be $local.ErrorDetails.RecommendedAction
    }
}

Describe 'Views of objects from another machine' {
    It 'a deserialised <Kind> formats with the module table view and a PSComputerName column' -ForEach @(
        @{ Kind = 'loaded module'; Make = { Get-KernelModule -Root $fake msdos }; Header = 'Module\s+Size\s+Used by\s+State' }
        @{ Kind = 'module file'; Make = { Get-KernelModule -ListAvailable -Root $synthetic.Root msdos }; Header = 'Name\s+Depends\s+Description' }
        @{ Kind = 'listed module file'; Make = { Get-KernelModule -ListAvailable -Root $synthetic.Root 'msdo*' }; Header = 'Name\s+Depends\s+Description' }
    ) {
        $live = & $Make
        $remote = ConvertThrough-Wire $live 'lkmbench-xz'
        ($live | Format-Table | Out-String -Width 200) | Should -Match $Header
        $table = $remote | Format-Table | Out-String -Width 200
        $table | Should -Match "PSComputerName\s+$Header|$Header\s+PSComputerName"
        $table | Should -Match 'lkmbench-xz'
        $table | Should -Match 'msdos'
    }
}

Describe 'Objects from another computer piped into a command here' {
    BeforeAll {
        $script:msdosKo = Join-Path $synthetic.ModulesDirectory 'kernel/fs/fat/msdos.ko'
        Get-Item $msdosKo, (Join-Path $synthetic.ModulesDirectory 'kernel/fs/fat/fat.ko') | Export-Clixml (Join-Path $TestDrive 'files.xml')
        function Get-FileFrom([string] $ComputerName) {
            Import-Clixml (Join-Path $TestDrive 'files.xml') | Add-Member -NotePropertyName PSComputerName -NotePropertyValue $ComputerName -PassThru
        }
    }

    It 'Import-KernelModule refuses each file that came from another computer, saying where to run it' {
        Get-FileFrom 'lkmbench-xz' | Import-KernelModule -Root $fake -WhatIf -ErrorAction SilentlyContinue -ErrorVariable errs
        $errs.Count | Should -Be 2
        $errs[0].FullyQualifiedErrorId | Should -Be 'PathFromOtherComputer,LkmPowerShell.Commands.ImportKernelModuleCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $errs[0].TargetObject | Should -Be $msdosKo
        $errs[0].Exception.Message | Should -BeLike "*came from lkmbench-xz*that machine's*"
        $errs[0].ErrorDetails.RecommendedAction | Should -BeLike '*Invoke-Command -Session*Import-KernelModule -LiteralPath*'
        $errs[0].ErrorDetails.RecommendedAction | Should -BeLike '*Import-KernelModule -Name msdos*'
    }

    It 'takes a file whose PSComputerName is this machine (<Name>)' -ForEach @(
        @{ Name = 'localhost' }, @{ Name = '127.0.0.1' }, @{ Name = [Environment]::MachineName }, @{ Name = [System.Net.Dns]::GetHostName() }
    ) {
        $out = @(Get-FileFrom $Name | Select-Object -First 1 | Import-KernelModule -Root $fake -WhatIf -ErrorAction SilentlyContinue -ErrorVariable errs 6>&1)
        $errs | Where-Object FullyQualifiedErrorId -Like 'PathFromOtherComputer*' | Should -BeNullOrEmpty
    }

    It 'a path typed here is never refused, even one a remote object also named' {
        Get-FileFrom 'lkmbench-xz' | Import-KernelModule -Root $fake -WhatIf -ErrorAction SilentlyContinue | Out-Null
        Import-KernelModule -Root $fake -LiteralPath $msdosKo -WhatIf -ErrorAction SilentlyContinue -ErrorVariable errs
        $errs | Where-Object FullyQualifiedErrorId -Like 'PathFromOtherComputer*' | Should -BeNullOrEmpty
    }

    It 'a module object from another computer acts on this machine''s module of that name, and says so in Verbose' {
        $remote = ConvertThrough-Wire (Get-KernelModule -Root $fake msdos) 'lkmbench-xz'
        $verbose = @($remote | Remove-KernelModule -Root $fake -WhatIf -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
        ($verbose.Message -join "`n") | Should -BeLike "*'msdos' came from lkmbench-xz*this machine's module of that name*"
        $local = Get-KernelModule -Root $fake msdos
        $quiet = @($local | Remove-KernelModule -Root $fake -WhatIf -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
        ($quiet.Message -join "`n") | Should -Not -BeLike '*came from*'
    }
}
