<#
    The project's own PlatyPS 1.x (schema 2024-05-01) markdown reader, its check against the
    cmdlets' metadata, and the MAML writer. Used by build/Build-Help.ps1 and the help tests.

    Why a line scanner and not Markdig: a PlatyPS cmdlet file is a fixed skeleton of ATX headings
    (H1 title, H2 sections, H3 items) with prose, fenced code and one YAML block per parameter.
    Everything the converter needs is decided by those headings and fences, so a scanner that
    tracks fences (a '# comment' inside an example must not become a heading) reads it exactly,
    in ~150 lines, with no NuGet restore, no third-party assembly loaded into the build's pwsh and
    nothing to keep in step with Markdig's AST. Prose is kept as paragraphs of plain text, which is
    all MAML can show anyway. Anything the scanner does not understand (a parameter without its
    YAML block, an unknown section, an unclosed fence) is reported as a problem, never guessed.
#>

Set-StrictMode -Version Latest

$script:SchemaVersion = '2024-05-01'
$script:KnownSections = 'SYNOPSIS', 'SYNTAX', 'ALIASES', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS', 'INPUTS', 'OUTPUTS', 'NOTES', 'RELATED LINKS'
# PlatyPS's placeholders ("{{ Fill in the Description }}", "{{ Fill Name Description }}") mean
# "not written yet": they count as missing text.
$script:PlaceholderPattern = '^\s*\{\{.*\}\}\s*$'

function New-Node([int] $Level, [string] $Title, [int] $Line) {
    [pscustomobject]@{ Level = $Level; Title = $Title; Line = $Line; Body = [Collections.Generic.List[string]]::new(); Children = [Collections.Generic.List[object]]::new() }
}

function Read-HelpMarkdown {
    <# Reads one PlatyPS cmdlet markdown file into a plain object; Problems lists what could not be read. #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [string] $Path)

    $problems = [Collections.Generic.List[string]]::new()
    $lines = [IO.File]::ReadAllText($Path) -replace "`r`n?", "`n" -split "`n"
    $i = 0
    $front = [ordered]@{}
    if ($lines.Count -gt 0 -and $lines[0] -eq '---') {
        $end = -1
        for ($j = 1; $j -lt $lines.Count; $j++) { if ($lines[$j] -eq '---') { $end = $j; break } }
        if ($end -lt 0) { $problems.Add('the YAML front matter has no closing ---') }
        else {
            foreach ($l in $lines[1..($end - 1)]) {
                if ($l -match '^([^\s#][^:]*):\s*(.*)$') { $front[$Matches[1].Trim()] = ConvertFrom-YamlScalar $Matches[2] }
            }
            $i = $end + 1
        }
    }
    else { $problems.Add('no YAML front matter (a first line ---)') }

    # Headings outside fences build a tree: H1 > H2 (sections) > H3 (items).
    $root = New-Node 0 '' 0
    $stack = [Collections.Generic.List[object]]::new(); $stack.Add($root)
    $fence = $null
    for (; $i -lt $lines.Count; $i++) {
        $l = $lines[$i]
        if ($fence) {
            if ($l -match '^\s{0,3}(`{3,}|~{3,})\s*$' -and $Matches[1][0] -eq $fence[0] -and $Matches[1].Length -ge $fence.Length) { $fence = $null }
            $stack[$stack.Count - 1].Body.Add($l); continue
        }
        if ($l -match '^\s{0,3}(`{3,}|~{3,})') { $fence = $Matches[1]; $stack[$stack.Count - 1].Body.Add($l); continue }
        if ($l -match '^(#{1,6})\s+(.*?)(\s+#+)?\s*$') {
            $node = New-Node $Matches[1].Length $Matches[2] ($i + 1)
            while ($stack[$stack.Count - 1].Level -ge $node.Level) { $stack.RemoveAt($stack.Count - 1) }
            $stack[$stack.Count - 1].Children.Add($node); $stack.Add($node); continue
        }
        $stack[$stack.Count - 1].Body.Add($l)
    }
    if ($fence) { $problems.Add("a code fence ($fence) is never closed") }

    $h1 = @($root.Children | Where-Object Level -EQ 1)
    if ($h1.Count -ne 1) { $problems.Add("expected one '# <cmdlet name>' heading, found $($h1.Count)") }
    $title = if ($h1.Count) { $h1[0].Title } else { $null }
    $sections = [ordered]@{}
    foreach ($s in @($h1 | ForEach-Object Children)) {
        $name = $s.Title.ToUpperInvariant()
        if ($s.Level -ne 2 -or $name -notin $script:KnownSections) { $problems.Add("line $($s.Line): unknown section '$($s.Title)' (PlatyPS sections: $($script:KnownSections -join ', '))"); continue }
        if ($sections.Contains($name)) { $problems.Add("line $($s.Line): section '## $($s.Title)' appears twice"); continue }
        $sections[$name] = $s
    }
    foreach ($name in 'SYNOPSIS', 'SYNTAX', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS', 'INPUTS', 'OUTPUTS') {
        if (-not $sections.Contains($name)) { $problems.Add("no '## $name' section") }
    }

    function SectionText([string] $name) { if ($sections.Contains($name)) { Get-NodeText $sections[$name] } else { @() } }

    $syntax = foreach ($s in @(if ($sections.Contains('SYNTAX')) { $sections['SYNTAX'].Children })) {
        $set = $s.Title; $isDefault = $false
        if ($set -match '^(.*?)\s*\(Default\)$') { $set = $Matches[1]; $isDefault = $true }
        $code = @(Split-Blocks $s.Body | Where-Object Kind -EQ 'code')
        [pscustomobject]@{ ParameterSet = $set; IsDefault = $isDefault; Text = if ($code.Count) { $code[0].Text } else { '' }; Line = $s.Line }
    }

    $examples = foreach ($e in @(if ($sections.Contains('EXAMPLES')) { $sections['EXAMPLES'].Children })) {
        $blocks = @(Split-Blocks (Get-NodeLines $e))
        $firstCode = @($blocks | Where-Object Kind -EQ 'code' | Select-Object -First 1)
        $remarks = foreach ($b in $blocks) { if ($firstCode.Count -and [object]::ReferenceEquals($b, $firstCode[0])) { continue }; $b.Text }
        [pscustomobject]@{ Title = $e.Title; Code = if ($firstCode.Count) { $firstCode[0].Text } else { '' }; Remarks = @($remarks | Where-Object { $_ -notmatch $script:PlaceholderPattern }); Line = $e.Line }
    }

    $parameters = [ordered]@{}
    foreach ($p in @(if ($sections.Contains('PARAMETERS')) { $sections['PARAMETERS'].Children })) {
        if ($p.Title -eq 'CommonParameters') { continue }
        if ($p.Title -notmatch '^-([A-Za-z][\w]*)$') { $problems.Add("line $($p.Line): a parameter heading must be '### -Name', found '### $($p.Title)'"); continue }
        $name = $Matches[1]
        if ($parameters.Contains($name)) { $problems.Add("line $($p.Line): parameter -$name is documented twice"); continue }
        $blocks = @(Split-Blocks (Get-NodeLines $p))
        $yamlBlocks = @($blocks | Where-Object { $_.Kind -eq 'code' -and $_.Info -eq 'yaml' })
        $yaml = $null
        if ($yamlBlocks.Count -ne 1) { $problems.Add("line $($p.Line): parameter -$name needs exactly one ``````yaml metadata block, found $($yamlBlocks.Count)") }
        else {
            try { $yaml = ConvertFrom-SimpleYaml $yamlBlocks[0].Text }
            catch { $problems.Add("line $($p.Line): parameter -${name}: its yaml block cannot be read: $($_.Exception.Message)") }
        }
        $description = @($blocks | Where-Object { -not ($_.Kind -eq 'code' -and $_.Info -eq 'yaml') } | ForEach-Object Text | Where-Object { $_ -notmatch $script:PlaceholderPattern })
        $parameters[$name] = [pscustomobject]@{ Name = $name; Description = $description; Metadata = $yaml; Line = $p.Line }
    }

    $typed = {
        param($section)
        foreach ($t in @(if ($sections.Contains($section)) { $sections[$section].Children })) {
            [pscustomobject]@{ Type = $t.Title; Description = @(Get-NodeText $t | Where-Object { $_ -notmatch $script:PlaceholderPattern }) }
        }
    }

    $links = foreach ($l in @(if ($sections.Contains('RELATED LINKS')) { Get-NodeLines $sections['RELATED LINKS'] })) {
        if ($l -match '^\s*(?:[-*]\s+)?\[([^\]]+)\]\(([^)]*)\)') { [pscustomobject]@{ Text = $Matches[1]; Uri = $Matches[2] } }
    }

    [pscustomobject]@{
        Path        = $Path
        FrontMatter = $front
        Title       = $title
        Synopsis    = @(SectionText 'SYNOPSIS' | Where-Object { $_ -notmatch $script:PlaceholderPattern })
        Syntax      = @($syntax)
        Description = @(SectionText 'DESCRIPTION' | Where-Object { $_ -notmatch $script:PlaceholderPattern })
        Examples    = @($examples)
        Parameters  = $parameters
        Inputs      = @(& $typed 'INPUTS')
        Outputs     = @(& $typed 'OUTPUTS')
        Notes       = @(SectionText 'NOTES' | Where-Object { $_ -notmatch $script:PlaceholderPattern })
        Links       = @($links)
        Problems    = $problems
    }
}

function Get-NodeLines($Node) {
    # A node's own body followed by its sub-headings (kept as text lines): used where sub-headings
    # are prose structure, e.g. '#### Output' inside an example.
    $Node.Body
    foreach ($c in $Node.Children) { ('#' * $c.Level) + ' ' + $c.Title; Get-NodeLines $c }
}

function Get-NodeText($Node) { Split-Blocks (Get-NodeLines $Node) | ForEach-Object Text }

function Split-Blocks([string[]] $Lines) {
    <# Markdown body -> blocks: Kind 'code' (Info = the fence's language, Text = verbatim lines) or
       'para' (Text = one paragraph or list item as a single line of plain text). #>
    $para = [Collections.Generic.List[string]]::new()
    $code = $null; $fence = $null; $info = ''
    $flush = {
        if ($para.Count) { [pscustomobject]@{ Kind = 'para'; Info = ''; Text = (ConvertTo-PlainText ($para -join ' ')) }; $para.Clear() }
    }
    foreach ($l in @($Lines)) {
        if ($null -ne $fence) {
            if ($l -match '^\s{0,3}(`{3,}|~{3,})\s*$' -and $Matches[1][0] -eq $fence[0] -and $Matches[1].Length -ge $fence.Length) {
                [pscustomobject]@{ Kind = 'code'; Info = $info; Text = ($code -join "`n") }
                $fence = $null; continue
            }
            $code.Add($l); continue
        }
        if ($l -match '^\s{0,3}(`{3,}|~{3,})\s*([^\s`]*)') {
            & $flush
            $fence = $Matches[1]; $info = $Matches[2].ToLowerInvariant(); $code = [Collections.Generic.List[string]]::new(); continue
        }
        if ($l -match '^\s*$') { & $flush; continue }
        if ($l -match '^\s*([-*+]|\d+[.)])\s+' -or $l -match '^#{1,6}\s') { & $flush }
        $para.Add($l.Trim())
        if ($l -match '^#{1,6}\s') { & $flush }
    }
    & $flush
}

function ConvertTo-PlainText([string] $Text) {
    # Console help is plain text: keep `code` ticks (they mark names), drop emphasis markers, and
    # show a link as its text (the address is rarely useful in a console, and long).
    $t = $Text -replace '\[([^\]]+)\]\([^)]*\)', '$1'
    $t = $t -replace '(\*\*|__)(.+?)\1', '$2'
    $t = $t -replace '(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])', '$1'
    $t -replace '^#{1,6}\s+', '' -replace '\s{2,}', ' '
}

function ConvertFrom-YamlScalar([string] $Value) {
    $v = $Value.Trim()
    if ($v -match "^'(.*)'$") { return $Matches[1] -replace "''", "'" }
    if ($v -match '^"(.*)"$') { return $Matches[1] }
    $v
}

function ConvertFrom-SimpleYaml([string] $Text) {
    <# The YAML subset PlatyPS writes for parameter metadata: 'Key: scalar', 'Key: []', and
       'Key:' followed by '- scalar' items or '- Key: value' mappings continued by indented
       'Key: value' lines. Anything else is an error, so a mistyped block is noticed. #>
    $result = [ordered]@{}
    $key = $null; $item = $null
    $n = 0
    foreach ($l in $Text -split "`n") {
        $n++
        if ($l -match '^\s*(#.*)?$') { continue }
        if ($l -match '^([A-Za-z][\w]*):\s*(.*)$') {
            $key = $Matches[1]; $v = $Matches[2].Trim(); $item = $null
            if ($v -eq '') { $result[$key] = [Collections.Generic.List[object]]::new() }
            elseif ($v -eq '[]') { $result[$key] = [Collections.Generic.List[object]]::new(); $key = $null }
            elseif ($v -match '^\[(.*)\]$') { $result[$key] = [Collections.Generic.List[object]]::new([object[]]@($Matches[1] -split ',' | ForEach-Object { ConvertFrom-YamlScalar $_ })); $key = $null }
            else { $result[$key] = ConvertFrom-YamlScalar $v; $key = $null }
            continue
        }
        if ($null -eq $key -or $result[$key] -isnot [Collections.Generic.List[object]]) { throw "line ${n}: '$l' is not 'Key: value' and follows no list key" }
        if ($l -match '^\s*-\s+([A-Za-z][\w]*):\s*(.*)$') {
            $item = [ordered]@{ $Matches[1] = ConvertFrom-YamlScalar $Matches[2] }; $result[$key].Add($item); continue
        }
        if ($l -match '^\s*-\s+(.*)$') { $item = $null; $result[$key].Add((ConvertFrom-YamlScalar $Matches[1])); continue }
        if ($l -match '^\s+([A-Za-z][\w]*):\s*(.*)$' -and $null -ne $item) { $item[$Matches[1]] = ConvertFrom-YamlScalar $Matches[2]; continue }
        throw "line ${n}: '$l' is not part of the subset PlatyPS writes"
    }
    $result
}

function Get-HelpParameterInfo {
    <# The parameters help must document: all but the common ones. WhatIf and Confirm are
       documented like any other parameter (PlatyPS does so too): they are part of the cmdlet's
       contract, and Get-Help lists only parameters the MAML contains. #>
    param([Parameter(Mandatory)] [System.Management.Automation.CommandInfo] $Command)
    $common = [System.Management.Automation.PSCmdlet]::CommonParameters
    $Command.Parameters.Values | Where-Object { $_.Name -notin $common } | Sort-Object Name
}

function Get-SetName([string] $Name) { if ($Name -eq '__AllParameterSets') { '(All)' } else { $Name } }

function Get-ExpectedSyntax([System.Management.Automation.CommandInfo] $Command, [System.Management.Automation.CommandParameterSetInfo] $Set) {
    "$($Command.Name) $($Set.ToString())" -replace '\s+', ' '
}

function Get-ExpectedMetadataYaml {
    <# The yaml block PlatyPS 1.x writes for a parameter, from the cmdlet's metadata: printed in
       check messages so an author can paste it, and used by -Scaffold. #>
    param([System.Management.Automation.ParameterMetadata] $Parameter)
    $b = [Text.StringBuilder]::new()
    $null = $b.AppendLine("Type: $($Parameter.ParameterType.FullName)")
    $null = $b.AppendLine("DefaultValue: ''")
    $null = $b.AppendLine("SupportsWildcards: $(([bool]($Parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })).ToString().ToLowerInvariant())")
    $null = $b.AppendLine('ParameterValue: []')
    if ($Parameter.Aliases.Count) { $null = $b.AppendLine('Aliases:'); foreach ($a in $Parameter.Aliases) { $null = $b.AppendLine("- $a") } }
    else { $null = $b.AppendLine('Aliases: []') }
    $null = $b.AppendLine('ParameterSets:')
    foreach ($set in $Parameter.ParameterSets.GetEnumerator() | Sort-Object Key) {
        $m = $set.Value
        $null = $b.AppendLine("- Name: $(Get-SetName $set.Key)")
        $null = $b.AppendLine("  Position: $(if ($m.Position -ge 0) { $m.Position } else { 'Named' })")
        $null = $b.AppendLine("  IsRequired: $($m.IsMandatory.ToString().ToLowerInvariant())")
        $null = $b.AppendLine("  ValueFromPipeline: $($m.ValueFromPipeline.ToString().ToLowerInvariant())")
        $null = $b.AppendLine("  ValueFromPipelineByPropertyName: $($m.ValueFromPipelineByPropertyName.ToString().ToLowerInvariant())")
        $null = $b.AppendLine("  ValueFromRemainingArguments: $($m.ValueFromRemainingArguments.ToString().ToLowerInvariant())")
    }
    $null = $b.AppendLine('DontShow: false')
    $null = $b.AppendLine('AcceptedValues: []')
    $null = $b.Append("HelpMessage: ''")
    $b.ToString()
}

function Test-HelpMarkdown {
    <# Compares one cmdlet's markdown with its metadata. Returns problem strings, each starting
       with the cmdlet (and parameter) it is about; none means the help is complete and current. #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.CommandInfo] $Command,
        [Parameter(Mandatory)] $Help,
        [string] $ModuleName = $Command.ModuleName
    )
    $c = $Command.Name
    $file = Split-Path -Leaf $Help.Path
    foreach ($p in $Help.Problems) { "${c}: ${file}: $p" }
    $f = $Help.FrontMatter
    if (-not $f.Contains('document type') -or $f['document type'] -ne 'cmdlet') { "${c}: ${file}: front matter needs 'document type: cmdlet'" }
    if (-not $f.Contains('PlatyPS schema version') -or $f['PlatyPS schema version'] -ne $script:SchemaVersion) { "${c}: ${file}: front matter needs 'PlatyPS schema version: $script:SchemaVersion'" }
    if (-not $f.Contains('title') -or $f['title'] -cne $c) { "${c}: ${file}: front matter needs 'title: $c'" }
    if (-not $f.Contains('Module Name') -or $f['Module Name'] -cne $ModuleName) { "${c}: ${file}: front matter needs 'Module Name: $ModuleName'" }
    if ($Help.Title -and $Help.Title -cne $c) { "${c}: ${file}: the heading is '# $($Help.Title)', expected '# $c'" }
    if (-not ($Help.Synopsis -join '').Trim()) { "${c}: ${file}: the SYNOPSIS is empty" }
    if (-not ($Help.Description -join '').Trim()) { "${c}: ${file}: the DESCRIPTION is empty" }
    if (-not $Help.Examples.Count) { "${c}: ${file}: no example: add '### Example 1: <title>' with a code fence under '## EXAMPLES'" }
    foreach ($e in $Help.Examples) {
        if (-not $e.Code.Trim()) { "${c}: ${file}: line $($e.Line): example '$($e.Title)' has no code fence" }
        if (-not ($e.Remarks -join '').Trim()) { "${c}: ${file}: line $($e.Line): example '$($e.Title)' does not say what it does (text after the code)" }
    }

    # Syntax: one block per parameter set, equal to what PowerShell prints for it.
    $sets = @($Command.ParameterSets)
    foreach ($set in $sets) {
        $doc = @($Help.Syntax | Where-Object ParameterSet -EQ (Get-SetName $set.Name))
        $expected = Get-ExpectedSyntax $Command $set
        if (-not $doc.Count) { "${c}: ${file}: SYNTAX has no '### $(Get-SetName $set.Name)$(if ($set.IsDefault -and $sets.Count -gt 1) { ' (Default)' })' block; expected: $expected" ; continue }
        if (($doc[0].Text -replace '\s+', ' ').Trim() -cne $expected) { "${c}: ${file}: SYNTAX for parameter set '$($set.Name)' is stale; expected: $expected" }
        if ($sets.Count -gt 1 -and $doc[0].IsDefault -ne $set.IsDefault) { "${c}: ${file}: SYNTAX marks the wrong default parameter set; the default is '$($Command.DefaultParameterSet)'" }
    }
    foreach ($s in $Help.Syntax) {
        if ($s.ParameterSet -notin @($sets | ForEach-Object { Get-SetName $_.Name })) { "${c}: ${file}: SYNTAX documents parameter set '$($s.ParameterSet)', which $c does not have" }
    }

    # Parameters: each documented, described, with metadata equal to the cmdlet's.
    $actual = @(Get-HelpParameterInfo $Command)
    foreach ($p in $actual) {
        $n = $p.Name
        if (-not $Help.Parameters.Contains($n)) { "${c} -${n}: not documented: add '### -$n' with a description and its yaml block under '## PARAMETERS' in $file"; continue }
        $d = $Help.Parameters[$n]
        if (-not ($d.Description -join '').Trim()) { "${c} -${n}: the parameter has no description in $file (line $($d.Line))" }
        if ($null -eq $d.Metadata) { continue }
        $m = $d.Metadata
        $stale = [Collections.Generic.List[string]]::new()
        $type = $p.ParameterType.FullName
        if (-not $m.Contains('Type') -or $m['Type'] -cne $type) { $stale.Add("Type is '$(if ($m.Contains('Type')) { $m['Type'] })', the cmdlet says '$type'") }
        $wild = [bool]($p.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
        if (-not $m.Contains('SupportsWildcards') -or $m['SupportsWildcards'] -ne $wild.ToString().ToLowerInvariant()) { $stale.Add("SupportsWildcards should be $($wild.ToString().ToLowerInvariant())") }
        $docAliases = @(if ($m.Contains('Aliases')) { $m['Aliases'] })
        if ((@($docAliases | Sort-Object) -join ',') -cne (@($p.Aliases | Sort-Object) -join ',')) { $stale.Add("Aliases are [$($docAliases -join ', ')], the cmdlet's are [$($p.Aliases -join ', ')]") }
        $docSets = @{}
        foreach ($s in @(if ($m.Contains('ParameterSets')) { $m['ParameterSets'] })) {
            if ($s -isnot [Collections.IDictionary] -or -not $s.Contains('Name')) { $stale.Add('ParameterSets items need a Name'); continue }
            $docSets[$s['Name']] = $s
        }
        foreach ($set in $p.ParameterSets.GetEnumerator()) {
            $sn = Get-SetName $set.Key; $sm = $set.Value
            if (-not $docSets.ContainsKey($sn)) { $stale.Add("parameter set '$sn' is missing"); continue }
            $ds = $docSets[$sn]; $docSets.Remove($sn)
            $want = [ordered]@{
                Position                        = if ($sm.Position -ge 0) { "$($sm.Position)" } else { 'Named' }
                IsRequired                      = $sm.IsMandatory.ToString().ToLowerInvariant()
                ValueFromPipeline               = $sm.ValueFromPipeline.ToString().ToLowerInvariant()
                ValueFromPipelineByPropertyName = $sm.ValueFromPipelineByPropertyName.ToString().ToLowerInvariant()
                ValueFromRemainingArguments     = $sm.ValueFromRemainingArguments.ToString().ToLowerInvariant()
            }
            foreach ($k in $want.Keys) {
                $have = if ($ds.Contains($k)) { "$($ds[$k])" } else { '(missing)' }
                if ($have -ne $want[$k]) { $stale.Add("in parameter set '$sn' $k is $have, the cmdlet says $($want[$k])") }
            }
        }
        foreach ($extra in $docSets.Keys) { $stale.Add("parameter set '$extra' is not one of the parameter's sets") }
        if ($stale.Count) {
            "${c} -${n}: the yaml metadata in $file (line $($d.Line)) is stale: $($stale -join '; '). Expected:`n$(Get-ExpectedMetadataYaml $p)"
        }
    }
    foreach ($n in $Help.Parameters.Keys) {
        if ($n -notin @($actual | ForEach-Object Name)) {
            if ($n -in [System.Management.Automation.PSCmdlet]::CommonParameters) { "${c} -${n}: a common parameter: leave it to '### CommonParameters' in $file" }
            else { "${c} -${n}: $file documents a parameter that $c does not have" }
        }
    }

    # Outputs: every [OutputType] the cmdlet declares is documented, and nothing else.
    $declared = @($Command.OutputType | ForEach-Object Name | Sort-Object -Unique)
    $documented = @($Help.Outputs | ForEach-Object Type)
    foreach ($t in $declared) { if ($t -cnotin $documented) { "${c}: ${file}: OUTPUTS does not document '### $t', which the cmdlet declares with [OutputType]" } }
    foreach ($t in $documented) { if ($t -cnotin $declared) { "${c}: ${file}: OUTPUTS documents '$t', which the cmdlet does not declare with [OutputType]" } }
    foreach ($o in $Help.Outputs) { if (-not ($o.Description -join '').Trim()) { "${c}: ${file}: OUTPUTS '$($o.Type)' has no description" } }
    $pipelineParams = @($actual | Where-Object { $_.ParameterSets.Values | Where-Object { $_.ValueFromPipeline -or $_.ValueFromPipelineByPropertyName } })
    if ($pipelineParams.Count -and -not $Help.Inputs.Count) { "${c}: ${file}: INPUTS is empty, but $($pipelineParams.Name -join ', ') take pipeline input" }
    foreach ($o in $Help.Inputs) { if (-not ($o.Description -join '').Trim()) { "${c}: ${file}: INPUTS '$($o.Type)' has no description" } }
}

function New-HelpMarkdownSkeleton {
    <# A PlatyPS-shaped skeleton for a cmdlet, with placeholders the check rejects until written. #>
    param([Parameter(Mandatory)] [System.Management.Automation.CommandInfo] $Command)
    $n = $Command.Name
    $sb = [Text.StringBuilder]::new()
    $null = $sb.AppendLine("---`ndocument type: cmdlet`nexternal help file: $($Command.ModuleName).dll-Help.xml`nHelpUri: ''`nLocale: en-US`nModule Name: $($Command.ModuleName)`nPlatyPS schema version: $script:SchemaVersion`ntitle: $n`n---`n`n# $n`n`n## SYNOPSIS`n`n{{ Fill in the Synopsis }}`n`n## SYNTAX`n")
    foreach ($set in $Command.ParameterSets) {
        $null = $sb.AppendLine("### $(Get-SetName $set.Name)$(if ($set.IsDefault -and @($Command.ParameterSets).Count -gt 1) { ' (Default)' })`n`n```````n$(Get-ExpectedSyntax $Command $set)`n```````n")
    }
    $null = $sb.AppendLine("## ALIASES`n`n## DESCRIPTION`n`n{{ Fill in the Description }}`n`n## EXAMPLES`n`n### Example 1: {{ title }}`n`n``````powershell`n{{ code }}`n```````n`n{{ what it does }}`n`n## PARAMETERS`n")
    foreach ($p in Get-HelpParameterInfo $Command) {
        $null = $sb.AppendLine("### -$($p.Name)`n`n{{ Fill $($p.Name) Description }}`n`n``````yaml`n$(Get-ExpectedMetadataYaml $p)`n```````n")
    }
    $null = $sb.AppendLine("### CommonParameters`n`nThis cmdlet supports the common parameters: -Debug, -ErrorAction, -ErrorVariable,`n-InformationAction, -InformationVariable, -OutBuffer, -OutVariable, -PipelineVariable,`n-ProgressAction, -Verbose, -WarningAction, and -WarningVariable. For more information, see`n[about_CommonParameters](https://go.microsoft.com/fwlink/?LinkID=113216).`n`n## INPUTS`n")
    $inputs = @(Get-HelpParameterInfo $Command | Where-Object { $_.ParameterSets.Values | Where-Object { $_.ValueFromPipeline -or $_.ValueFromPipelineByPropertyName } } | ForEach-Object { $_.ParameterType.FullName } | Sort-Object -Unique)
    foreach ($t in $inputs) { $null = $sb.AppendLine("### $t`n`n{{ Fill in the input's description }}`n") }
    $null = $sb.AppendLine("## OUTPUTS`n")
    foreach ($t in $Command.OutputType | ForEach-Object Name | Sort-Object -Unique) { $null = $sb.AppendLine("### $t`n`n{{ Fill in the output's description }}`n") }
    $null = $sb.AppendLine("## NOTES`n`n## RELATED LINKS`n")
    $sb.ToString()
}

# ---------------------------------------------------------------------------------------- MAML
$script:NsMaml = 'http://schemas.microsoft.com/maml/2004/10'
$script:NsCommand = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$script:NsDev = 'http://schemas.microsoft.com/maml/dev/2004/10'

function Write-Paras([System.Xml.XmlWriter] $W, [string[]] $Paras) {
    $W.WriteStartElement('maml', 'description', $script:NsMaml)
    foreach ($p in @($Paras)) { $W.WriteElementString('maml', 'para', $script:NsMaml, $p) }
    $W.WriteEndElement()
}

function Write-MamlParameter([System.Xml.XmlWriter] $W, $Command, [System.Management.Automation.ParameterMetadata] $P, $Doc, [string] $SetName) {
    # One command:parameter. With $SetName, the values of that set (syntax); without, the
    # parameter overall (parameters list): required/pipeline if any set says so, the position of
    # the sets that agree, else 'named'.
    $sets = if ($SetName) { @($P.ParameterSets[$SetName]) } else { @($P.ParameterSets.Values) }
    $required = [bool]($sets | Where-Object IsMandatory)
    $byValue = [bool]($sets | Where-Object ValueFromPipeline)
    $byName = [bool]($sets | Where-Object ValueFromPipelineByPropertyName)
    $positions = @($sets | ForEach-Object Position | Sort-Object -Unique)
    $position = if ($positions.Count -eq 1 -and $positions[0] -ge 0) { "$($positions[0])" } else { 'named' }
    $pipeline = if ($byValue -and $byName) { 'True (ByPropertyName, ByValue)' } elseif ($byValue) { 'True (ByValue)' } elseif ($byName) { 'True (ByPropertyName)' } else { 'False' }
    $wild = [bool]($P.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
    $isSwitch = $P.SwitchParameter
    $typeName = if ($isSwitch) { 'SwitchParameter' } else { $P.ParameterType.Name }

    $W.WriteStartElement('command', 'parameter', $script:NsCommand)
    $W.WriteAttributeString('required', $required.ToString().ToLowerInvariant())
    $W.WriteAttributeString('variableLength', $P.ParameterType.IsArray.ToString().ToLowerInvariant())
    $W.WriteAttributeString('globbing', $wild.ToString().ToLowerInvariant())
    $W.WriteAttributeString('pipelineInput', $pipeline)
    $W.WriteAttributeString('position', $position)
    $W.WriteAttributeString('aliases', $(if ($P.Aliases.Count) { $P.Aliases -join ', ' } else { 'none' }))
    $W.WriteElementString('maml', 'name', $script:NsMaml, $P.Name)
    Write-Paras $W $Doc.Description
    if (-not $isSwitch) {
        $W.WriteStartElement('command', 'parameterValue', $script:NsCommand)
        $W.WriteAttributeString('required', 'true')
        $W.WriteAttributeString('variableLength', $P.ParameterType.IsArray.ToString().ToLowerInvariant())
        $W.WriteString($typeName)
        $W.WriteEndElement()
    }
    $W.WriteStartElement('dev', 'type', $script:NsDev)
    $W.WriteElementString('maml', 'name', $script:NsMaml, $(if ($isSwitch) { 'System.Management.Automation.SwitchParameter' } else { $P.ParameterType.FullName }))
    $W.WriteElementString('maml', 'uri', $script:NsMaml, '')
    $W.WriteEndElement()
    $default = if ($isSwitch) { 'False' } elseif ($Doc.Metadata -and $Doc.Metadata.Contains('DefaultValue') -and $Doc.Metadata['DefaultValue']) { $Doc.Metadata['DefaultValue'] } else { 'None' }
    $W.WriteElementString('dev', 'defaultValue', $script:NsDev, $default)
    $W.WriteEndElement()
}

function Export-MamlHelp {
    <# Writes the MAML file Get-Help reads for a binary module, one command:command per cmdlet. #>
    param(
        [Parameter(Mandatory)] [object[]] $Entries,   # @{ Command = CommandInfo; Help = Read-HelpMarkdown result }
        [Parameter(Mandatory)] [string] $OutputFile
    )
    $settings = [System.Xml.XmlWriterSettings]::new()
    $settings.Indent = $true
    $settings.IndentChars = '  '
    $settings.Encoding = [Text.UTF8Encoding]::new($false)
    $settings.NewLineChars = "`n"
    New-Item -ItemType Directory -Force (Split-Path $OutputFile) | Out-Null
    $w = [System.Xml.XmlWriter]::Create($OutputFile, $settings)
    try {
        $w.WriteStartDocument()
        $w.WriteStartElement('helpItems', 'http://msh')
        $w.WriteAttributeString('schema', 'maml')
        foreach ($e in $Entries) {
            $cmd = $e.Command; $help = $e.Help
            $w.WriteStartElement('command', 'command', $script:NsCommand)
            $w.WriteAttributeString('xmlns', 'maml', $null, $script:NsMaml)
            $w.WriteAttributeString('xmlns', 'command', $null, $script:NsCommand)
            $w.WriteAttributeString('xmlns', 'dev', $null, $script:NsDev)

            $w.WriteStartElement('command', 'details', $script:NsCommand)
            $w.WriteElementString('command', 'name', $script:NsCommand, $cmd.Name)
            $w.WriteElementString('command', 'verb', $script:NsCommand, $cmd.Verb)
            $w.WriteElementString('command', 'noun', $script:NsCommand, $cmd.Noun)
            Write-Paras $w $help.Synopsis
            $w.WriteEndElement()

            Write-Paras $w $help.Description

            $params = @(Get-HelpParameterInfo $cmd)
            $w.WriteStartElement('command', 'syntax', $script:NsCommand)
            # The default set first, as Get-Command -Syntax prints it.
            foreach ($set in @($cmd.ParameterSets | Sort-Object { -not $_.IsDefault })) {
                $w.WriteStartElement('command', 'syntaxItem', $script:NsCommand)
                $w.WriteElementString('maml', 'name', $script:NsMaml, $cmd.Name)
                # Parameters in the order PowerShell prints the set: positional first by position.
                $inSet = @($set.Parameters | Where-Object { $_.Name -notin [System.Management.Automation.PSCmdlet]::CommonParameters } |
                        Sort-Object @{ Expression = { if ($_.Position -ge 0) { $_.Position } else { [int]::MaxValue } } })
                foreach ($sp in $inSet) {
                    $meta = $cmd.Parameters[$sp.Name]
                    Write-MamlParameter $w $cmd $meta $help.Parameters[$sp.Name] $(if ($meta.ParameterSets.ContainsKey($set.Name)) { $set.Name } else { '__AllParameterSets' })
                }
                $w.WriteEndElement()
            }
            $w.WriteEndElement()

            $w.WriteStartElement('command', 'parameters', $script:NsCommand)
            foreach ($p in $params) { Write-MamlParameter $w $cmd $p $help.Parameters[$p.Name] $null }
            $w.WriteEndElement()

            foreach ($kind in @(@('inputTypes', 'inputType', $help.Inputs), @('returnValues', 'returnValue', $help.Outputs))) {
                $w.WriteStartElement('command', $kind[0], $script:NsCommand)
                foreach ($t in @($kind[2])) {
                    $w.WriteStartElement('command', $kind[1], $script:NsCommand)
                    $w.WriteStartElement('dev', 'type', $script:NsDev)
                    $w.WriteElementString('maml', 'name', $script:NsMaml, $t.Type)
                    $w.WriteEndElement()
                    Write-Paras $w $t.Description
                    $w.WriteEndElement()
                }
                $w.WriteEndElement()
            }

            if ($help.Notes.Count) {
                $w.WriteStartElement('maml', 'alertSet', $script:NsMaml)
                $w.WriteStartElement('maml', 'alert', $script:NsMaml)
                foreach ($p in $help.Notes) { $w.WriteElementString('maml', 'para', $script:NsMaml, $p) }
                $w.WriteEndElement(); $w.WriteEndElement()
            }

            $w.WriteStartElement('command', 'examples', $script:NsCommand)
            foreach ($x in $help.Examples) {
                $w.WriteStartElement('command', 'example', $script:NsCommand)
                $w.WriteElementString('maml', 'title', $script:NsMaml, "--------- $($x.Title) ---------")
                $w.WriteElementString('dev', 'code', $script:NsDev, $x.Code)
                $w.WriteStartElement('dev', 'remarks', $script:NsDev)
                foreach ($p in $x.Remarks) { $w.WriteElementString('maml', 'para', $script:NsMaml, $p) }
                # An empty last paragraph: Get-Help prints no blank line before the next example.
                $w.WriteElementString('maml', 'para', $script:NsMaml, '')
                $w.WriteEndElement()
                $w.WriteEndElement()
            }
            $w.WriteEndElement()

            $w.WriteStartElement('command', 'relatedLinks', $script:NsCommand)
            foreach ($l in $help.Links) {
                $w.WriteStartElement('maml', 'navigationLink', $script:NsMaml)
                $w.WriteElementString('maml', 'linkText', $script:NsMaml, $l.Text)
                # Get-Help -Online opens a link only when it is absolute; a .md neighbour is a name.
                $w.WriteElementString('maml', 'uri', $script:NsMaml, $(if ($l.Uri -match '^https?://') { $l.Uri } else { '' }))
                $w.WriteEndElement()
            }
            $w.WriteEndElement()

            $w.WriteEndElement()
        }
        $w.WriteEndElement()
        $w.WriteEndDocument()
    }
    finally { $w.Dispose() }
}

Export-ModuleMember -Function Read-HelpMarkdown, Test-HelpMarkdown, Export-MamlHelp, New-HelpMarkdownSkeleton, Get-HelpParameterInfo, Get-ExpectedMetadataYaml
