//! Unit tests of watches and change matching.
