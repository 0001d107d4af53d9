#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, then every test.
#
#   scripts/test.sh            the quick default suite (what CI runs)
#   MIPSJIT_DIFF_PROGRAMS=1000000 scripts/test.sh    a longer differential soak
#
# Needs the cross compilers and QEMU (see .ci/run for the apt-get line), and
# the guest images in ../shared/guests or $MIPSJIT_GUESTS
# (scripts/fetch-guests.sh gets them from Debian).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== rustfmt"
cargo fmt --all -- --check
echo "== clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== docs"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
echo "== benches and fuzz target build"
cargo bench --no-run --quiet
cargo check --quiet --manifest-path fuzz/Cargo.toml
echo "== tests"
# Doc tests are left out: there are none, and their empty summary would close the log.
cargo test --workspace --release --lib --bins --tests
