//! Integration tests of the router against the fake upstream registry.

mod advisories;
mod analysis;
mod connections;
mod console;
mod harness;
mod health;
mod layering;
mod metadata;
mod passthrough;
mod policy;
mod tarballs;
mod trust;
