# Recipes for the STM32 DFU soak harness. Install just with `cargo install just` or `apt-get install just`.
# Every recipe runs a command the README also shows, so nothing here is needed to use the harness.

# List the recipes
default:
    @just --list

# Soak: the quick scenario on the virtual bench by default; `just soak scenario=scenarios/seed-f746.toml`
# (or `just soak scenarios/seed-f746.toml`) runs another
soak scenario="scenarios/quick.toml":
    s='{{scenario}}'; cargo run --release -- soak "${s#scenario=}"

# The lab's nightly run on a real rig (edit scenarios/nightly.toml and its rig file first)
nightly:
    cargo run --release -- soak scenarios/nightly.toml

# Continue a killed or interrupted soak
resume run:
    cargo run --release -- soak --resume {{run}}

# Read the virtual board's option bytes over DfuSe
ob board="":
    cargo run --release -- dfu read-option-bytes --virtual {{board}}

# List DFU devices on this machine's USB buses
list:
    cargo run --release -- list

# Run the whole test suite (what CI runs)
test:
    cargo test --workspace

# Formatting and lints as CI expects them
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# Benchmarks: soak throughput and memory; DfuSe operations (CPU time, control transfers vs dfu-util 0.11)
bench:
    cargo bench -p hil --bench soak
    cargo bench -p hil --bench dfu

# Everything CI does, from a fresh machine
ci:
    bash .ci/run
