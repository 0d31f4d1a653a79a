# Recipes for the STM32 DFU soak harness. Install just with `cargo install just` or `apt-get install just`.
# Every recipe runs a command the README also shows, so nothing here is needed to use the harness.

# List the recipes
default:
    @just --list

# Soak: the quick scenario on the virtual bench by default; `just soak scenario=scenarios/seed-f746.toml`
# (or `just soak scenarios/seed-f746.toml`) runs another
soak scenario="scenarios/quick.toml":
    s='{{scenario}}'; cargo run --release -- soak "${s#scenario=}"

# The lab's nightly run on a real rig (edit scenarios/nightly.toml and its rig file first): reports against the
# previous nightly run as baseline (a regression fails the night, --fail-on-regression) and leaves junit.xml in
# reports/ci/ for the CI runner
nightly scenario="scenarios/nightly.toml":
    #!/usr/bin/env bash
    set -u
    s='{{scenario}}'; s="${s#scenario=}"
    name=$(sed -n 's/^name *= *"\(.*\)".*/\1/p' "$s" | head -n 1)
    prev=$(ls -d reports/"$name"-2* 2>/dev/null | sort | tail -n 1)
    cargo run --release -- soak "$s" -q ${prev:+--baseline "$prev" --fail-on-regression}; code=$?
    latest=$(ls -d reports/"$name"-2* 2>/dev/null | sort | tail -n 1)
    mkdir -p reports/ci && [ -n "$latest" ] && cp "$latest"/junit.xml "$latest"/summary.json "$latest"/report.html reports/ci/
    exit $code

# Report on run folders (several are merged): just report reports/quick-2026...
report +runs:
    cargo run --release -- report {{runs}}

# Continue a killed or interrupted soak
resume run:
    cargo run --release -- soak --resume {{run}}

# Read the virtual board's option bytes over DfuSe
ob board="":
    cargo run --release -- dfu read-option-bytes --virtual{{ if board == "" { "" } else { "=" + board } }}

# List DFU devices on this machine's USB buses
list:
    cargo run --release -- list

# Run the whole test suite (what CI runs)
test:
    cargo test --workspace

# The QEMU guest tests alone, with their figures (installs QEMU and a Debian kernel first: root or sudo)
guest:
    HIL_REQUIRE_GUEST=1 cargo test -p hil-cli --test guest -- --nocapture

# Serve the drifting virtual board over usbredir for a VM, with a rig controller (see README)
serve board="fixtures/boards/drifting-25mhz.toml":
    cargo run --release -- vboard serve {{board}} --listen /tmp/vboard.sock --rig /tmp/vboard-rig.sock

# Formatting and lints as CI expects them
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# Benchmarks: soak and report throughput and memory; DfuSe operations (CPU time, control transfers vs dfu-util 0.11)
bench:
    cargo bench -p hil --bench soak
    cargo bench -p hil --bench report
    cargo bench -p hil --bench dfu

# Everything CI does, from a fresh machine
ci:
    bash .ci/run
