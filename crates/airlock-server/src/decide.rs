//! The one place where Airlock decides which versions a client may have.
//!
//! Every path that exposes a version goes through [`Gate`]: the packument (full and
//! abbreviated), the version document and the tarball. A version the gate hides is
//! absent from metadata and refused as a tarball, whatever the client or its lockfile
//! asks for. For now the gate admits everything the upstream lists; the policy engine
//! plugs in here.

use airlock_npm::{Packument, View};

/// Decides per version; shared by all handlers.
#[derive(Clone, Debug, Default)]
pub struct Gate;

/// The outcome for one requested version.
pub enum Admission<'a> {
    Admitted(&'a airlock_npm::VersionDoc),
    /// The upstream does not list this version (at least in the copy at hand).
    Unknown,
}

impl Gate {
    /// The view clients get of `packument`.
    pub fn view(&self, packument: &Packument) -> View {
        packument.view_all()
    }

    /// The decision for a tarball request of `version`.
    pub fn admit<'a>(&self, packument: &'a Packument, version: &str) -> Admission<'a> {
        let view = self.view(packument);
        match packument.resolve(&view, version) {
            Some((resolved, doc)) if resolved == version => Admission::Admitted(doc),
            _ => Admission::Unknown,
        }
    }
}
