//! JavaScript: facts from the syntax tree, and the rules that judge them.

pub(crate) mod rules;
pub(crate) mod scan;
pub(crate) mod strings;
