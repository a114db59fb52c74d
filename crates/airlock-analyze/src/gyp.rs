//! `binding.gyp`, which node-gyp reads at install (npm runs `node-gyp rebuild` for a
//! package that has one and no `install` script of its own). It is not inert data:
//! `<!(command)` and `<!@(command)` run a command and take its output, and gyp
//! evaluates every `conditions` string as a Python expression. Build descriptions use
//! the first to ask Node or pkg-config where headers are; nothing needs Python's
//! introspection (`__import__`, `__subclasses__`), which is how a condition escapes
//! gyp's evaluator to run code.

/// What a `binding.gyp` runs when node-gyp reads it.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Gyp {
    /// Commands it runs: `<!(…)` expansions, and the commands Python calls in it
    /// are given (`os.system('node x.js')`).
    pub(crate) commands: Vec<String>,
    /// The Python introspection it reaches for, when it does.
    pub(crate) python: Option<&'static str>,
}

/// Names only code that climbs out of an expression's sandbox uses.
const INTROSPECTION: [&str; 5] = [
    "__import__",
    "__builtins__",
    "__subclasses__",
    "__globals__",
    "__class__",
];

/// Python calls that run the command they are given as a string.
const RUNS_COMMAND: [&str; 8] = [
    "os.system(",
    "os.popen(",
    "subprocess.call(",
    "subprocess.run(",
    "subprocess.Popen(",
    "subprocess.check_call(",
    "subprocess.check_output(",
    "').system(",
];

/// Reads what a `binding.gyp` runs.
pub(crate) fn read(text: &str) -> Gyp {
    let mut commands = expansions(text);
    for call in RUNS_COMMAND {
        let mut rest = text;
        while let Some(at) = rest.find(call) {
            rest = &rest[at + call.len()..];
            if let Some(command) = leading_string(rest) {
                commands.push(command.to_owned());
            }
        }
    }
    Gyp {
        commands,
        python: INTROSPECTION
            .iter()
            .copied()
            .find(|name| text.contains(name)),
    }
}

/// The commands of `<!(…)` and `<!@(…)`, parentheses balanced.
fn expansions(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("<!") {
        rest = &rest[at + 2..];
        let body = rest.strip_prefix('@').unwrap_or(rest);
        let Some(body) = body.strip_prefix('(') else {
            continue;
        };
        let mut depth = 1u32;
        let mut end = None;
        for (index, character) in body.char_indices() {
            match character {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(index);
                        break;
                    }
                }
                _ => {}
            }
        }
        if let Some(end) = end {
            found.push(body[..end].trim().to_owned());
            rest = &body[end..];
        }
    }
    found
}

/// The string literal a call's arguments start with (`'…'` or `"…"`).
fn leading_string(arguments: &str) -> Option<&str> {
    let arguments = arguments.trim_start();
    let quote = arguments
        .chars()
        .next()
        .filter(|c| matches!(c, '\'' | '"'))?;
    let body = &arguments[1..];
    body.find(quote).map(|end| &body[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_build_descriptions_run_only_their_expansions() {
        let gyp = read(
            r#"{ "targets": [{ "target_name": "addon",
                 "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
                 "libraries": ["<!@(pkg-config --libs libsecret-1)"],
                 "conditions": [["OS=='win'", { "defines": ["WIN"] }]] }] }"#,
        );
        assert_eq!(
            gyp.commands,
            [
                "node -p \\\"require('node-addon-api').include_dir\\\"",
                "pkg-config --libs libsecret-1"
            ]
        );
        assert_eq!(gyp.python, None);
    }

    #[test]
    fn a_condition_that_escapes_into_python_is_seen_with_its_command() {
        let gyp = read(
            r#"{ "targets": [{ "target_name": "b", "conditions": [
                 ["[c for c in ().__class__.__base__.__subclasses__() if c.__name__=='catch_warnings'][0]()._module.__builtins__['__import__']('os').system('node loader.js')", {}]
               ] }] }"#,
        );
        assert_eq!(gyp.commands, ["node loader.js"]);
        assert_eq!(gyp.python, Some("__import__"));
    }
}
