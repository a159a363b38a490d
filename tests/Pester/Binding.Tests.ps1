# Walks docs/binding.md row by row: each cmdlet is given each kind of input through the pipeline,
# offline (-Root with a fabricated running system over the synthetic tree, -WhatIf where the cmdlet
# changes anything), and PowerShell's own binding trace says which parameter took what. The table
# is parsed from the document, so the document and the test cannot drift apart. Nothing is loaded,
# unloaded or written on the host.

BeforeDiscovery {
    $script:bindingDoc = Join-Path $PSScriptRoot '../../docs/binding.md'
    # One section per cmdlet ("## Get-KernelModule"), its test call on a "Called as:" line, then a
    # table | Input | Binds to | What happens |.
    $script:rows = @()
    $cmdlet = $null; $call = $null
    foreach ($line in Get-Content $bindingDoc) {
        if ($line -match '^## ([A-Z]\w+-\w+)\s*$') { $cmdlet = $Matches[1]; $call = $null; continue }
        if ($line -match '^Called as: `(.+)`') { $call = $Matches[1]; continue }
        if ($cmdlet -and $line -match '^\|\s*([^|]+?)\s*\|\s*`([^`]*)`\s*\|\s*(.*?)\s*\|\s*$' -and $Matches[1] -ne 'Input') {
            $rows += @{ Cmdlet = $cmdlet; Call = $call; Kind = $Matches[1]; Expected = $Matches[2]; Outcome = $Matches[3] }
        }
    }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1') -Force
    $script:synthetic = New-SyntheticModuleTree (Join-Path $TestDrive 'synthetic')

    # A running system that exists only as files: fat and msdos loaded, a kallsyms with one symbol
    # of the kernel image (printk) and one of fat, the synthetic tree installed.
    $script:fake = Join-Path $TestDrive 'system'
    New-Item -ItemType Directory -Force (Join-Path $fake 'proc/sys/kernel'), (Join-Path $fake 'sys/module/fat/parameters'),
        (Join-Path $fake 'sys/module/msdos'), (Join-Path $fake 'etc/modprobe.d') | Out-Null
    Set-Content (Join-Path $fake 'proc/modules') "msdos 20480 0 - Live 0x0000000000000000`nfat 86016 1 msdos, Live 0x0000000000000000"
    Set-Content (Join-Path $fake 'proc/kallsyms') "0000000000000000 T printk`n0000000000000000 T fat_time_unix2fat`t[fat]"
    Set-Content (Join-Path $fake 'proc/sys/kernel/osrelease') $synthetic.Version
    Copy-FixtureTree $synthetic.ModulesDirectory (Join-Path $fake "lib/modules/$($synthetic.Version)")

    $script:msdosKo = Join-Path $synthetic.ModulesDirectory 'kernel/fs/fat/msdos.ko'
    $script:fatKo = Join-Path $synthetic.ModulesDirectory 'kernel/fs/fat/fat.ko'
    $symbol = Find-KernelSymbol -Root $synthetic.Root -ListAvailable fat_time_unix2fat -ErrorAction Stop
    $symbol | Export-Clixml (Join-Path $TestDrive 'symbol.xml')
    # From another computer: through the serializer, then stamped as remoting stamps what it receives.
    Get-Item $msdosKo | Export-Clixml (Join-Path $TestDrive 'file.xml')
    Get-KernelModule -ListAvailable -Root $synthetic.Root msdos -ErrorAction Stop | Export-Clixml (Join-Path $TestDrive 'installed.xml')
    function Import-FromOtherComputer([string] $File) {
        Import-Clixml (Join-Path $TestDrive $File) | Add-Member -NotePropertyName PSComputerName -NotePropertyValue 'lkmbench-xz' -PassThru
    }

    # The rows of the document's "Inputs" table, by the name its first column gives them.
    $script:inputs = @{
        'string'                = { 'msdos' }
        'FileInfo'              = { Get-Item $msdosKo }
        'loaded module'         = { Get-KernelModule -Root $fake msdos -ErrorAction Stop }
        'module file'           = { Get-KernelModule -LiteralPath $msdosKo -ErrorAction Stop }
        'installed module'      = { Get-KernelModule -ListAvailable -Root $synthetic.Root msdos -ErrorAction Stop }
        'symbol'                = { $symbol }
        'symbol (deserialised)' = { Import-Clixml (Join-Path $TestDrive 'symbol.xml') }
        'kernel-image symbol'   = { Find-KernelSymbol -Root $fake printk -ErrorAction Stop }
        'Name only'             = { [pscustomobject]@{ Name = 'msdos' } }
        'FileInfo (another computer)'         = { Import-FromOtherComputer 'file.xml' }
        'installed module (another computer)' = { Import-FromOtherComputer 'installed.xml' }
    }

    function Get-PipelineBinding {
        # Pipes one object into a command line and reads PowerShell's ParameterBinding trace: the
        # parameters bound from the pipeline, each with the value it got (after any transformation),
        # and the ErrorIds written.
        param($InputObject, [string] $CommandLine)
        $trace = Join-Path $TestDrive "trace-$([guid]::NewGuid()).txt"
        # Errors are what is observed here, not failures: Continue, whatever the caller's preference.
        $ErrorActionPreference = 'Continue'
        $command = [scriptblock]::Create("`$input | $CommandLine -ErrorAction Continue -WarningAction SilentlyContinue")
        $output = Trace-Command -Name ParameterBinding -FilePath $trace -Expression { $InputObject | & $command 2>&1 }
        $errs = @($output | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        $lines = @(Get-Content $trace)
        $first = 0
        for ($i = 0; $i -lt $lines.Count; $i++) { if ($lines[$i] -match 'BIND PIPELINE object to parameters') { $first = $i; break } }
        $bound = [System.Collections.Generic.List[string]]::new()
        $value = @{}; $current = $null
        for ($i = $first; $i -lt $lines.Count; $i++) {
            $l = $lines[$i]
            if ($l -match 'BIND arg \[(.*)\] to parameter \[(\w+)\]$') { $current = $Matches[2]; $value[$current] = $Matches[1] }
            elseif ($current -and $l -match 'result returned from DATA GENERATION: (.*)$' -and $Matches[1] -notmatch '^System\.') { $value[$current] = $Matches[1] }
            elseif ($l -match 'BIND arg \[.*\] to param \[(\w+)\] SUCCESSFUL') {
                $text = "-$($Matches[1]) $($value[$Matches[1]] -replace '^Microsoft\.PowerShell\.Core\\FileSystem::', '')"
                if (-not $bound.Contains($text)) { $bound.Add($text) }
            }
        }
        [pscustomobject]@{ Bound = $bound -join ', '; Errors = @($errs | ForEach-Object { $_.FullyQualifiedErrorId -replace ',.*' }); Records = @($errs) }
    }
}

Describe 'docs/binding.md' {
    It 'has a section for every cmdlet of the module, each with a row for every input' -ForEach @{ DocRows = $rows } {
        $documented = $DocRows | ForEach-Object { $_.Cmdlet } | Sort-Object -Unique
        $documented | Should -Be ((Get-Command -Module LkmPowerShell -CommandType Cmdlet).Name | Sort-Object)
        foreach ($c in $documented) {
            ($DocRows | Where-Object Cmdlet -EQ $c).Kind | Sort-Object | Should -Be ($inputs.Keys | Sort-Object) -Because "$c's table names every input once"
        }
    }

    It '<Cmdlet> given <Kind>: <Expected>' -ForEach $rows {
        $Call | Should -Not -BeNullOrEmpty -Because "the $Cmdlet section says how the test calls it"
        $expected = $Expected.Replace('‹msdos.ko›', $msdosKo).Replace('‹fat.ko›', $fatKo).Replace('‹version›', $synthetic.Version)
        $inputObject = & $inputs[$Kind]
        $r = Get-PipelineBinding $inputObject $Call
        if ($expected -match '^error (\w+)$') {
            $r.Bound | Should -BeNullOrEmpty
            $r.Errors | Should -Contain $Matches[1]
        }
        else {
            $r.Bound | Should -Be $expected
        }
        # "What happens" may name the ErrorId the cmdlet then writes, and words its message must hold.
        foreach ($m in [regex]::Matches($Outcome, 'ErrorId `(\w+)`')) { $r.Errors | Should -Contain $m.Groups[1].Value }
        foreach ($m in [regex]::Matches($Outcome, 'says "([^"]+)"')) { ($r.Records.Exception.Message -join "`n") | Should -BeLike "*$($m.Groups[1].Value)*" }
        if ($Outcome -match 'no error') { $r.Errors | Should -BeNullOrEmpty }
    }
}
