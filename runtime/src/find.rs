//! Finding a resource by name or id: the engine behind every generated
//! `find_<item>` call.
//!
//! A spec declares, on a resource's show operation (`x-openstack-find`),
//! which list operation to search and its name filter, if the server has
//! one. The engine shows the resource by id first; when the server answers
//! 404 (or 400, for a name that is no valid id), it lists every page with
//! the name filter (or, without one, every page, matching names here) and
//! expects exactly one resource with that exact name.

use std::future::Future;

use crate::{Error, FindError};

/// A resource that can be found by name or id. Implemented by the generator
/// for every show operation with `x-openstack-find`.
pub trait Findable: Send + Sync + 'static {
    /// The client that can show and list it.
    type Client: Sync;
    /// The resource as the show operation returns it.
    type Item: Send;
    /// Its name in messages (`backup`).
    const RESOURCE: &'static str;

    /// Shows the resource with id `id`.
    fn show<'a>(client: &'a Self::Client, id: &'a str) -> impl Future<Output = Result<Self::Item, Error>> + Send + 'a;

    /// Every resource named `name` (all pages; the server's name filter when
    /// it has one, else every resource, which [`find`] then matches).
    fn named<'a>(
        client: &'a Self::Client,
        name: &'a str,
    ) -> impl Future<Output = Result<Vec<Self::Item>, Error>> + Send + 'a;

    /// The resource's id.
    fn id(item: &Self::Item) -> &str;

    /// The resource's name, when it has one.
    fn name(item: &Self::Item) -> Option<&str>;
}

/// The resource whose id is `name_or_id`, else the one resource named
/// `name_or_id`.
///
/// # Errors
/// [`FindError::NotFound`] when neither exists, [`FindError::Ambiguous`]
/// (with every candidate's id) when several resources have that name (both
/// as [`Error::Find`]), and
/// the show or list call's own errors.
pub async fn find<F: Findable>(client: &F::Client, name_or_id: &str) -> Result<F::Item, Error> {
    match F::show(client, name_or_id).await {
        Ok(item) => return Ok(item),
        Err(e) if e.is_not_found() || e.status().is_some_and(|s| s.as_u16() == 400) => {}
        Err(e) => return Err(e),
    }
    let mut found = F::named(client, name_or_id).await?;
    found.retain(|item| F::name(item) == Some(name_or_id));
    match found.len() {
        0 => Err(FindError::NotFound { resource: F::RESOURCE, name: name_or_id.to_owned() }.into()),
        1 => Ok(found.remove(0)),
        _ => Err(FindError::ambiguous(
            F::RESOURCE,
            name_or_id,
            found.iter().map(|item| F::id(item).to_owned()).collect(),
        )
        .into()),
    }
}
