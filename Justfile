# Recipes for the STM32 DFU soak harness. Install just with `cargo install just` or `apt-get install just`.
# Every recipe runs a command the README also shows, so nothing here is needed to use the harness.

# List the recipes
default:
    @just --list

# Read the virtual board's option bytes over DfuSe (the main job until the soak runner lands)
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

# Benchmarks: DfuSe operations on the virtual board (CPU time and control-transfer counts vs dfu-util 0.11)
bench:
    cargo bench -p hil --bench dfu

# Everything CI does, from a fresh machine
ci:
    bash .ci/run
