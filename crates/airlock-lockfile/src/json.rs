//! JSON that refuses duplicate keys, and JSONC (bun.lock) read as that JSON.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::Error;

/// Parses `text` as JSON, refusing duplicate keys anywhere.
pub(crate) fn parse_strict(file: &str, text: &str) -> Result<Value, Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = Strict::deserialize(&mut deserializer)
        .and_then(|Strict(value)| deserializer.end().map(|()| value))
        .map_err(|error| {
            let message = error.to_string();
            let reason = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(reason, _)| reason);
            Error::new(file, Some(error.line()), format!("invalid JSON: {reason}"))
        })?;
    Ok(value)
}

/// Parses JSONC (comments, trailing commas) as strict JSON, lines kept.
pub(crate) fn parse_jsonc(file: &str, text: &str) -> Result<Value, Error> {
    parse_strict(file, &strip_jsonc(text))
}

struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate key `{key}`")));
            }
            let Strict(value) = access.next_value()?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

/// Blanks out comments and trailing commas with spaces, so lines and columns stay.
fn strip_jsonc(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let mut index = 0;
    let mut in_string = false;
    while index < bytes.len() {
        let byte = bytes[index];
        if in_string {
            match byte {
                b'\\' => index += 1,
                b'"' => in_string = false,
                _ => {}
            }
            index += 1;
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'/' if bytes.get(index + 1) == Some(&b'/') => {
                while index < bytes.len() && bytes[index] != b'\n' {
                    bytes[index] = b' ';
                    index += 1;
                }
                continue;
            }
            b'/' if bytes.get(index + 1) == Some(&b'*') => {
                let mut end = index + 2;
                while end + 1 < bytes.len() && !(bytes[end] == b'*' && bytes[end + 1] == b'/') {
                    end += 1;
                }
                let end = (end + 2).min(bytes.len());
                for byte in &mut bytes[index..end] {
                    if *byte != b'\n' {
                        *byte = b' ';
                    }
                }
                index = end;
                continue;
            }
            b',' => {
                let next = bytes[index + 1..]
                    .iter()
                    .find(|byte| !byte.is_ascii_whitespace());
                if matches!(next, Some(b'}' | b']')) {
                    bytes[index] = b' ';
                }
            }
            _ => {}
        }
        index += 1;
    }
    // Only ASCII bytes were replaced, with ASCII: still UTF-8.
    String::from_utf8(bytes).expect("blanking ASCII keeps UTF-8")
}

/// `value[key]` as text: strings as they are, numbers and booleans printed.
pub(crate) fn text(value: &Value, key: &str) -> Option<String> {
    match value.get(key)? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

pub(crate) fn flag(value: &Value, key: &str) -> bool {
    value.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// The names of a dependency map (`{"name": "range"}`), with their specs.
pub(crate) fn dependency_map(value: &Value, key: &str) -> Vec<(String, String)> {
    value
        .get(key)
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .map(|(name, spec)| {
                    let spec = match spec {
                        Value::String(text) => text.clone(),
                        other => other.to_string(),
                    };
                    (name.clone(), spec)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The line of each mapping key in `text` (JSON `"key":` or YAML `key:`), first
/// occurrence winning: entries get a line without the parsers tracking positions.
pub(crate) fn key_lines(text: &str) -> std::collections::HashMap<String, usize> {
    let mut lines = std::collections::HashMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim_start();
        let key = if let Some(rest) = line.strip_prefix('"') {
            rest.find("\":").map(|end| &rest[..end])
        } else if let Some(rest) = line.strip_prefix('\'') {
            rest.find("\':").map(|end| &rest[..end])
        } else {
            line.strip_suffix(':')
                .or_else(|| line.split_once(": ").map(|(key, _)| key))
                .filter(|key| !key.contains(' ') || key.contains(", "))
        };
        if let Some(key) = key {
            lines.entry(key.to_owned()).or_insert(number + 1);
        }
    }
    lines
}
