//! The access log: one line per request with method, path, status and time.
//!
//! Formatting each line through `tracing`'s subscriber cost a fifth of the warm
//! tarball throughput (its field visitors and filter run per line), so a server can
//! be given a [`AccessLog::writer`] that formats the line by hand, in the same shape
//! as the rest of the log, and hands it to the log's writer in one call.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use airlock_npm::Timestamp;
use axum::http::{Method, StatusCode};

/// Where access lines go.
#[derive(Clone, Default)]
pub struct AccessLog {
    sink: Sink,
}

#[derive(Clone, Default)]
enum Sink {
    /// As `tracing` events with target `airlock::access` (the default; tests read it).
    #[default]
    Tracing,
    /// Hand-formatted lines written to a shared writer.
    Direct {
        writer: Arc<Mutex<dyn std::io::Write + Send>>,
        json: bool,
    },
    Off,
}

impl AccessLog {
    /// Lines formatted as `tracing_subscriber`'s text (or, with `json`, JSON) format
    /// writes them, each handed to `writer` in one `write_all`. The writer should be
    /// cheap per call (a queue to a writer thread), since requests wait on it.
    pub fn writer(writer: impl std::io::Write + Send + 'static, json: bool) -> Self {
        Self {
            sink: Sink::Direct {
                writer: Arc::new(Mutex::new(writer)),
                json,
            },
        }
    }

    /// No access lines at all.
    pub fn off() -> Self {
        Self { sink: Sink::Off }
    }

    pub(crate) fn record(&self, method: &Method, path: &str, status: StatusCode, took: Duration) {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        match &self.sink {
            Sink::Tracing => tracing::info!(
                target: "airlock::access",
                %method,
                %path,
                status = status.as_u16(),
                micros,
                "request"
            ),
            Sink::Direct { writer, json } => {
                let line = format_line(SystemTime::now(), method, path, status, micros, *json);
                // A poisoned lock only means another request panicked mid-write.
                let mut writer = writer
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let _ = writer.write_all(line.as_bytes());
            }
            Sink::Off => {}
        }
    }
}

impl std::fmt::Debug for AccessLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.sink {
            Sink::Tracing => "AccessLog::Tracing",
            Sink::Direct { json: false, .. } => "AccessLog::Text",
            Sink::Direct { json: true, .. } => "AccessLog::Json",
            Sink::Off => "AccessLog::Off",
        })
    }
}

fn format_line(
    now: SystemTime,
    method: &Method,
    path: &str,
    status: StatusCode,
    micros: u64,
    json: bool,
) -> String {
    let since_epoch = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let time =
        Timestamp::from_unix_millis(i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX));
    let status = status.as_u16();
    let mut line = String::with_capacity(128 + path.len());
    // `write!` into a String cannot fail.
    if json {
        let path = serde_json::to_string(path).unwrap_or_default();
        let _ = writeln!(
            line,
            r#"{{"timestamp":"{time}","level":"INFO","fields":{{"message":"request","method":"{method}","path":{path},"status":{status},"micros":{micros}}},"target":"airlock::access"}}"#
        );
    } else {
        let _ = writeln!(
            line,
            "{time}  INFO airlock::access: request method={method} path={path} status={status} micros={micros}"
        );
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at_noon() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(1_764_417_600_250)
    }

    #[test]
    fn text_lines_match_the_rest_of_the_log() {
        let line = format_line(
            at_noon(),
            &Method::GET,
            "/left-pad/-/left-pad-1.3.0.tgz",
            StatusCode::OK,
            412,
            false,
        );
        assert_eq!(
            line,
            "2025-11-29T12:00:00.250Z  INFO airlock::access: request method=GET path=/left-pad/-/left-pad-1.3.0.tgz status=200 micros=412\n"
        );
    }

    #[test]
    fn json_lines_are_json_even_for_odd_paths() {
        let line = format_line(
            at_noon(),
            &Method::POST,
            "/we\"ird\\path",
            StatusCode::FORBIDDEN,
            7,
            true,
        );
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["fields"]["path"], "/we\"ird\\path");
        assert_eq!(value["fields"]["status"], 403);
        assert_eq!(value["target"], "airlock::access");
        assert!(line.ends_with("}\n"));
    }

    #[test]
    fn direct_lines_reach_the_writer_whole() {
        #[derive(Clone, Default)]
        struct Shared(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Shared {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let shared = Shared::default();
        let log = AccessLog::writer(shared.clone(), false);
        log.record(&Method::GET, "/a", StatusCode::OK, Duration::from_micros(5));
        log.record(
            &Method::GET,
            "/b",
            StatusCode::NOT_FOUND,
            Duration::from_micros(9),
        );
        let text = String::from_utf8(shared.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].ends_with("path=/a status=200 micros=5"));
        assert!(lines[1].ends_with("path=/b status=404 micros=9"));
    }
}
