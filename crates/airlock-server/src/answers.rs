//! Rendered packument answers, cached apart from the parsed packuments they come
//! from.
//!
//! A parsed packument weighs about twice its upstream JSON (a popular package's
//! full document runs to tens of megabytes), while the abbreviated answer a client
//! asks for, compressed, is a few hundred kilobytes. Kept on the parsed entry, the
//! answers of large packages were evicted with it and every request parsed the
//! stored document again. Here each answer is kept in the one coding a client asked
//! for (gzip, brotli or plain) and weighs only its bytes, so a warm request needs
//! neither the parsed packument nor a render: it checks that the answer is younger
//! than the metadata max age and that the decisions it was rendered under still
//! hold, and sends the bytes.

use std::sync::Arc;
use std::time::Duration;

use airlock_npm::{Clock, Form, PackageName, TarballBase};
use bytes::Bytes;

use crate::decided::Decided;
use crate::encoding::Coding;

/// Bodies at least this large are compressed on the blocking pool.
const COMPRESS_INLINE_BELOW: usize = 256 * 1024;

/// What a client asked for: the package, the form, where tarball URLs point, and
/// the coding it accepts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct AnswerKey {
    pub(crate) name: PackageName,
    pub(crate) form: Form,
    pub(crate) base: TarballBase,
    pub(crate) coding: Option<Coding>,
}

/// One answer: its bytes in its coding, its ETag, the decisions it shows, and the
/// upstream document it was rendered from.
pub(crate) struct Answer {
    pub(crate) body: Bytes,
    /// The coding of `body`: the one asked for, or none if compressing failed.
    pub(crate) coding: Option<Coding>,
    pub(crate) etag: String,
    pub(crate) decided: Arc<Decided>,
    /// The upstream document (its validators and size): an answer rendered from the
    /// same document under the same view is the same answer.
    source: String,
    /// When that document was last fetched or revalidated.
    fetched_at: i64,
}

pub(crate) struct Answers {
    cache: moka::sync::Cache<AnswerKey, Arc<Answer>>,
    max_age: Duration,
    clock: Clock,
}

impl Answers {
    pub(crate) fn new(budget: u64, max_age: Duration, clock: Clock) -> Self {
        let cache = moka::sync::Cache::builder()
            .max_capacity(budget)
            .weigher(|key: &AnswerKey, answer: &Arc<Answer>| {
                let bytes = answer.body.len() + answer.etag.len() + key.name.as_str().len() + 64;
                u32::try_from(bytes).unwrap_or(u32::MAX)
            })
            .support_invalidation_closures()
            .build();
        Self {
            cache,
            max_age,
            clock,
        }
    }

    /// The cached answer to `key`, while its document is younger than the max age
    /// and `holds` says its decisions still stand.
    pub(crate) fn fresh(
        &self,
        key: &AnswerKey,
        holds: impl FnOnce(&Decided) -> bool,
    ) -> Option<Arc<Answer>> {
        let answer = self.cache.get(key)?;
        let age = self.clock.now_millis().saturating_sub(answer.fetched_at);
        (u64::try_from(age).is_ok_and(|age| age < millis(self.max_age)) && holds(&answer.decided))
            .then_some(answer)
    }

    /// The answer to `key` from the document `source` (fetched at `fetched_at`)
    /// under `decided`: the cached one when it was rendered from the same document
    /// under the same view (its age renewed), else `render`ed, compressed and kept.
    pub(crate) async fn answer(
        &self,
        key: AnswerKey,
        (source, fetched_at): (&str, i64),
        decided: &Arc<Decided>,
        render: impl FnOnce() -> Vec<u8>,
    ) -> Arc<Answer> {
        if let Some(cached) = self.cache.get(&key)
            && cached.source == source
            && cached.decided.view == decided.view
        {
            let renewed = Arc::new(Answer {
                body: cached.body.clone(),
                coding: cached.coding,
                etag: cached.etag.clone(),
                decided: decided.clone(),
                source: cached.source.clone(),
                fetched_at,
            });
            self.cache.insert(key, renewed.clone());
            return renewed;
        }
        let plain = Bytes::from(render());
        let etag = crate::encoding::etag_of(&plain);
        let (body, coding, etag) = match key.coding {
            // Compressing a small body saves too little.
            Some(_) if plain.len() < crate::encoding::COMPRESS_FROM => (plain, None, etag),
            None => (plain, None, etag),
            Some(coding) => match compress(coding, plain.clone()).await {
                Some(body) => (body, Some(coding), coding.etag(&etag)),
                None => (plain, None, etag),
            },
        };
        let answer = Arc::new(Answer {
            body,
            coding,
            etag,
            decided: decided.clone(),
            source: source.to_owned(),
            fetched_at,
        });
        self.cache.insert(key, answer.clone());
        answer
    }

    /// Drops every answer of `name`: its document changed or is gone.
    pub(crate) fn forget(&self, name: &PackageName) {
        let name = name.clone();
        // Only fails when closures are not supported, and they are.
        let _ = self
            .cache
            .invalidate_entries_if(move |key, _| key.name == name);
    }
}

/// `plain` in `coding`; large bodies off the async threads (`None` if that task
/// failed: the plain body is sent instead).
async fn compress(coding: Coding, plain: Bytes) -> Option<Bytes> {
    if plain.len() < COMPRESS_INLINE_BELOW {
        return Some(coding.compress(&plain));
    }
    tokio::task::spawn_blocking(move || coding.compress(&plain))
        .await
        .inspect_err(
            |error| tracing::warn!(%error, "compressing a packument failed; sending it plain"),
        )
        .ok()
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use airlock_npm::{Packument, Timestamp};

    use super::*;

    fn decided(packument: &Packument) -> Arc<Decided> {
        Arc::new(Decided {
            generation: (0, 0, 0, 0, 0),
            valid_until: None,
            decisions: Vec::new(),
            analysed: Vec::new(),
            view: packument.view_all(),
            withheld: 0,
            notice: None,
            latest_withheld: false,
            logged: std::sync::atomic::AtomicBool::new(false),
        })
    }

    fn packument(versions: usize) -> Packument {
        let name = PackageName::new("answered").unwrap();
        let docs: Vec<String> = (0..versions)
            .map(|minor| {
                format!(
                    r#""1.{minor}.0":{{"name":"answered","version":"1.{minor}.0","description":"a package answered from the cache, version 1.{minor}.0","dist":{{"tarball":"http://127.0.0.1:9/answered/-/answered-1.{minor}.0.tgz","integrity":"sha512-AAAA"}}}}"#
                )
            })
            .collect();
        let body = format!(
            r#"{{"name":"answered","dist-tags":{{"latest":"1.0.0"}},"versions":{{{}}},"time":{{}}}}"#,
            docs.join(",")
        );
        Packument::parse(&name, body.as_bytes()).unwrap()
    }

    fn key(coding: Option<Coding>) -> AnswerKey {
        AnswerKey {
            name: PackageName::new("answered").unwrap(),
            form: Form::Abbreviated,
            base: TarballBase::new("http://127.0.0.1:4873"),
            coding,
        }
    }

    struct Fixture {
        clock: Clock,
        answers: Answers,
        packument: Packument,
        decided: Arc<Decided>,
        base: TarballBase,
    }

    /// An answer cache with a five-minute max age on a manual clock, and a package
    /// of `versions` versions, all shown.
    fn fixture(versions: usize) -> Fixture {
        let clock = Clock::manual(Timestamp::from_unix_millis(1_000_000));
        let packument = packument(versions);
        Fixture {
            answers: Answers::new(1 << 20, Duration::from_mins(5), clock.clone()),
            clock,
            decided: decided(&packument),
            packument,
            base: TarballBase::new("http://127.0.0.1:4873"),
        }
    }

    /// An answer is kept in the coding asked for, reused while its document and
    /// view are the same, and dropped when its age, its decisions or its document
    /// say so.
    #[tokio::test]
    async fn answers_are_kept_compressed_and_reused_while_they_hold() {
        let Fixture {
            clock,
            answers,
            packument,
            decided,
            base,
        } = fixture(40);
        let renders = AtomicUsize::new(0);
        let render = || {
            renders.fetch_add(1, Ordering::Relaxed);
            packument.render(&decided.view, Form::Abbreviated, &base)
        };
        assert!(answers.fresh(&key(Some(Coding::Gzip)), |_| true).is_none());

        let answer = answers
            .answer(
                key(Some(Coding::Gzip)),
                ("etag-1|", 1_000_000),
                &decided,
                render,
            )
            .await;
        assert_eq!(answer.coding, Some(Coding::Gzip));
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&answer.body[..])
            .read_to_end(&mut plain)
            .unwrap();
        assert_eq!(
            plain,
            packument.render(&decided.view, Form::Abbreviated, &base)
        );
        assert!(answer.etag.ends_with("-gzip\""), "{}", answer.etag);

        // Warm: served as it is, while it is young and its decisions hold.
        let warm = answers.fresh(&key(Some(Coding::Gzip)), |_| true).unwrap();
        assert!(Arc::ptr_eq(&warm, &answer));
        assert!(answers.fresh(&key(Some(Coding::Gzip)), |_| false).is_none());
        assert!(
            answers
                .fresh(&key(Some(Coding::Brotli)), |_| true)
                .is_none()
        );
        clock.advance(Duration::from_secs(5 * 60 + 1));
        assert!(answers.fresh(&key(Some(Coding::Gzip)), |_| true).is_none());

        // The document revalidated unchanged: the answer is renewed, not rendered.
        let renewed = answers
            .answer(
                key(Some(Coding::Gzip)),
                ("etag-1|", clock.now_millis()),
                &decided,
                render,
            )
            .await;
        assert_eq!(renders.load(Ordering::Relaxed), 1);
        assert_eq!(renewed.body, answer.body);
        assert!(answers.fresh(&key(Some(Coding::Gzip)), |_| true).is_some());

        // Another document: rendered again.
        answers
            .answer(
                key(Some(Coding::Gzip)),
                ("etag-2|", clock.now_millis()),
                &decided,
                render,
            )
            .await;
        assert_eq!(renders.load(Ordering::Relaxed), 2);

        answers.forget(&PackageName::new("answered").unwrap());
        assert!(answers.fresh(&key(Some(Coding::Gzip)), |_| true).is_none());
    }

    /// A body too small to gain from compression is kept plain, whatever the client
    /// accepts.
    #[tokio::test]
    async fn small_answers_stay_plain() {
        let Fixture {
            answers,
            packument,
            decided,
            base,
            ..
        } = fixture(1);
        let answer = answers
            .answer(key(Some(Coding::Brotli)), ("e|", 0), &decided, || {
                packument.render(&decided.view, Form::Abbreviated, &base)
            })
            .await;
        assert_eq!(answer.coding, None);
        assert!(answer.body.starts_with(b"{"));
    }
}
