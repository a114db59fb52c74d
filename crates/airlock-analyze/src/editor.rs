//! Editor tasks that run by themselves: a `.vscode/tasks.json` whose task has
//! `"runOptions": {"runOn": "folderOpen"}` runs its command as soon as someone
//! opens the package's folder in VS Code (to read it, to debug it, after cloning
//! it). A published package has no use for one; campaigns ship them, hidden
//! (`"hide": true`, `"reveal": "never"`), to start a loader on a developer's
//! machine.

use airlock_policy::Code;
use serde_json::Value;

use crate::archive::Archive;
use crate::finding::{Confidence, Finding, Reach, Severity};

/// `editor-autorun`: every task that runs when its folder is opened.
pub(crate) fn autorun_tasks(archive: &Archive) -> Vec<Finding> {
    let mut findings = Vec::new();
    for entry in &archive.entries {
        if !entry.path.ends_with(".vscode/tasks.json") {
            continue;
        }
        let Some(text) = entry.text() else { continue };
        let plain = without_trailing_commas(&without_comments(text));
        let commands = match serde_json::from_str::<Value>(&plain) {
            Ok(document) => folder_open_commands(&document),
            // Unreadable JSON that still asks for `folderOpen`: the editor is
            // more lenient than this parser.
            Err(_) if plain.contains("\"folderOpen\"") => vec![String::new()],
            Err(_) => Vec::new(),
        };
        for command in commands {
            let what = if command.is_empty() {
                "a task".to_owned()
            } else {
                format!("`{}`", airlock_policy::one_line(&command, 120))
            };
            let mut finding = Finding::new(
                Code::ProcessSpawn,
                Severity::High,
                Confidence::High,
                format!(
                    "runs {what} by itself when the folder is opened in VS Code (a `folderOpen` task)"
                ),
            )
            .at(&entry.path, None, &command)
            .reach(Reach::Elsewhere);
            finding.rule = Some("editor-autorun".to_owned());
            findings.push(finding);
        }
    }
    findings
}

/// The commands (with their arguments) of the tasks that run on `folderOpen`.
fn folder_open_commands(document: &Value) -> Vec<String> {
    let Some(tasks) = document.get("tasks").and_then(Value::as_array) else {
        return Vec::new();
    };
    tasks
        .iter()
        .filter(|task| {
            task.pointer("/runOptions/runOn").and_then(Value::as_str) == Some("folderOpen")
        })
        .flat_map(|task| {
            // The task's own command, and those it gives each platform.
            std::iter::once(task)
                .chain(
                    ["windows", "linux", "osx"]
                        .iter()
                        .filter_map(|platform| task.get(*platform)),
                )
                .map(command_line)
                .filter(|line| !line.is_empty())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A task's (or a platform section's) command with its arguments; either may be
/// a string or `{"value": …}`.
fn command_line(task: &Value) -> String {
    let text = |value: &Value| match value {
        Value::String(text) => Some(text.clone()),
        Value::Object(object) => object
            .get("value")
            .and_then(Value::as_str)
            .map(str::to_owned),
        _ => None,
    };
    let command = task.get("command").and_then(text).unwrap_or_default();
    let arguments: Vec<String> = task
        .get("args")
        .and_then(Value::as_array)
        .map(|args| args.iter().filter_map(text).collect())
        .unwrap_or_default();
    std::iter::once(command)
        .chain(arguments)
        .collect::<Vec<_>>()
        .join(" ")
        .trim()
        .to_owned()
}

/// JSON with trailing commas (`[1, 2,]`, legal in VS Code's files) made plain.
fn without_trailing_commas(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for (index, c) in text.char_indices() {
        if in_string {
            in_string = c != '"' || escaped;
            escaped = c == '\\' && !escaped;
            out.push(c);
            continue;
        }
        if c == '"' {
            in_string = true;
        } else if c == ',' && text[index + 1..].trim_start().starts_with([']', '}']) {
            continue;
        }
        out.push(c);
    }
    out
}

/// JSON with comments (`//`, `/* */`) as VS Code writes it, made plain JSON.
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                '\\' => out.extend(chars.next()),
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                for skipped in chars.by_ref() {
                    if skipped == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut previous = ' ';
                for skipped in chars.by_ref() {
                    if previous == '*' && skipped == '/' {
                        break;
                    }
                    previous = skipped;
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::Limits;

    fn archive(tasks: &str) -> Archive {
        Archive::from_files(
            [(".vscode/tasks.json".to_owned(), tasks.as_bytes().to_vec())],
            &Limits::default(),
        )
    }

    #[test]
    fn a_folder_open_task_is_named_with_its_command() {
        let findings = autorun_tasks(&archive(
            r#"{
              // build on open
              "version": "2.0.0",
              "tasks": [
                {"label": "lint", "type": "shell", "command": "node", "args": ["./assets/x.woff2"],
                 "runOptions": {"runOn": "folderOpen"}, /* hidden */ "hide": true},
                {"label": "build", "type": "shell", "command": "npm run build"}
              ]
            }"#,
        ));
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::High);
        assert!(
            findings[0].message.contains("`node ./assets/x.woff2`"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn ordinary_tasks_are_not_findings() {
        let findings = autorun_tasks(&archive(
            r#"{"version": "2.0.0", "tasks": [{"label": "build", "command": "tsc -p . // not a comment"}]}"#,
        ));
        assert!(findings.is_empty());
    }

    #[test]
    fn platform_commands_trailing_commas_and_commented_out_tasks() {
        let findings = autorun_tasks(&archive(
            r#"{"version": "2.0.0", "tasks": [
                {"label": "x", "windows": {"command": "cmd /c start x.bat"},
                 "command": {"value": "node"}, "args": [{"value": "x.js"}],
                 "runOptions": {"runOn": "folderOpen",},},
              ],}"#,
        ));
        let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].contains("`node x.js`"), "{messages:?}");
        assert!(messages[1].contains("`cmd /c start x.bat`"), "{messages:?}");
        let commented = autorun_tasks(&archive(
            "{\"tasks\": [{\"label\": \"b\", \"command\": \"tsc\" // \"runOn\": \"folderOpen\"\n]}",
        ));
        assert!(commented.is_empty());
        assert_eq!(
            without_trailing_commas(r#"{"a": "x,}", "b": [1,],}"#),
            r#"{"a": "x,}", "b": [1]}"#
        );
    }

    #[test]
    fn comments_go_and_strings_stay() {
        assert_eq!(
            without_comments("{\"a\": \"//x\" // c\n, /* d */ \"b\": 1}"),
            "{\"a\": \"//x\" \n,  \"b\": 1}"
        );
    }
}
