//! JavaScript: facts from the syntax tree, the flow of values between sources and
//! sinks, and the rules that judge them.

pub(crate) mod apis;
pub(crate) mod flow;
pub(crate) mod fold;
pub(crate) mod graph;
pub(crate) mod kinds;
pub(crate) mod literals;
pub(crate) mod rules;
pub(crate) mod scan;
pub(crate) mod strings;
pub(crate) mod tables;
