//! Paging over OpenStack's `marker` + `*_links` lists.
//!
//! Every generated list builder has a `stream()` that yields the items of
//! every page: it follows the `next` link (taking the `marker` from it),
//! stops on a page without a next link or on an empty page (Cinder sends a
//! next link after a full last page), and holds one page at a time. Its
//! `all()` collects that stream into a `Vec` (memory then grows with the
//! list: prefer the stream for large ones).
//!
//! A server whose next links never end is caught: the stream remembers
//! every marker it followed, and the first time a next link names one of
//! them again (a proxy or a cache serving page B's link back to page A, or
//! a page linking to itself) it ends with [`PagingError`], after the page's
//! items. A link without a marker ends it the same way. Either way no page
//! is requested twice by marker.

use std::future::Future;

use futures_core::Stream;
use futures_util::stream::{self, StreamExt};

use std::collections::HashSet;

use crate::error::{PagingError, PagingProblem};
use crate::{Error, ResponseValue};

/// A page of a paged list (implemented by the generated list types).
pub trait Page {
    /// The item type.
    type Item;
    /// The page's items.
    fn into_items(self) -> Vec<Self::Item>;
    /// How many items the page holds.
    fn len(&self) -> usize;
    /// Whether the page is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The `next` link, if the server sent one.
    fn next_link(&self) -> Option<&str>;
}

/// The `marker` query parameter of a next link.
pub fn marker_of(link: &str) -> Option<String> {
    let url = reqwest::Url::parse(link).ok()?;
    url.query_pairs().find(|(name, _)| name == "marker").map(|(_, value)| value.into_owned())
}

/// Where a stream is: the next page to ask for (with the markers followed
/// so far and the pages read), a failure to yield, or the end.
enum State<B> {
    Next(B, Option<String>, Followed),
    Fail(Error),
    Done,
}

/// The markers a stream followed, and the pages it read.
#[derive(Default)]
struct Followed {
    markers: HashSet<String>,
    pages: usize,
}

enum Step<B, Fut> {
    Call(Fut, B, Followed),
    Fail(Error),
    Done,
}

/// The items of every page, fetched one page at a time by `fetch(builder,
/// marker)`.
///
/// A next link without a marker, or one whose marker was followed already
/// (a cycle of any length), ends the stream with [`Error::Paging`] (after
/// the page's items) instead of looping.
pub fn items<'a, B, P, F, Fut>(builder: B, fetch: F) -> impl Stream<Item = Result<P::Item, Error>> + Unpin + 'a
where
    B: Clone + 'a,
    P: Page + 'a,
    P::Item: 'a,
    F: Fn(B, Option<String>) -> Fut + 'a,
    Fut: Future<Output = Result<ResponseValue<P>, Error>> + 'a,
{
    let pages = stream::unfold(State::Next(builder, None, Followed::default()), move |state| {
        let step = match state {
            State::Next(builder, marker, followed) => Step::Call(fetch(builder.clone(), marker), builder, followed),
            State::Fail(e) => Step::Fail(e),
            State::Done => Step::Done,
        };
        async move {
            let (call, builder, mut followed) = match step {
                Step::Done => return None,
                Step::Fail(e) => return Some((Err(e), State::Done)),
                Step::Call(call, builder, followed) => (call, builder, followed),
            };
            let response = match call.await {
                Ok(response) => response,
                Err(e) => return Some((Err(e), State::Done)),
            };
            followed.pages += 1;
            let operation = response.operation();
            let page = response.into_inner();
            let stop = |problem| {
                State::Fail(Error::Paging(Box::new(PagingError { operation, pages: followed.pages, problem })))
            };
            let next = match (page.is_empty(), page.next_link()) {
                (true, _) | (false, None) => State::Done,
                (false, Some(link)) => match marker_of(link) {
                    Some(next) if followed.markers.contains(&next) => stop(PagingProblem::marker_came_back(&next)),
                    Some(next) => {
                        followed.markers.insert(next.clone());
                        State::Next(builder, Some(next), followed)
                    }
                    None => stop(PagingProblem::no_marker(link)),
                },
            };
            Some((Ok(page.into_items()), next))
        }
    });
    Box::pin(pages.flat_map(|page| match page {
        Ok(items) => stream::iter(items.into_iter().map(Ok)).left_stream(),
        Err(e) => stream::once(async { Err(e) }).right_stream(),
    }))
}

/// Every item of `stream`, in order; the first error ends the collection.
pub async fn collect<T>(stream: impl Stream<Item = Result<T, Error>> + Unpin) -> Result<Vec<T>, Error> {
    let mut stream = stream;
    let mut all = Vec::new();
    while let Some(item) = stream.next().await {
        all.push(item?);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_comes_from_the_next_link() {
        assert_eq!(
            marker_of("http://h/v3/p/backups/detail?limit=1&marker=6a12-f4b&sort=name%3Aasc").as_deref(),
            Some("6a12-f4b")
        );
        assert_eq!(marker_of("http://h/v3/p/backups?limit=1"), None);
        assert_eq!(marker_of("not a url"), None);
    }
}
