//! End-to-end tests of the `airlock` binary: real processes, real npm clients, a
//! fake upstream registry on loopback.

mod advisories;
mod analysis;
mod audit;
mod cli;
mod clients;
mod console;
mod policy;
mod process;
mod retention;
mod support;
mod trust;
