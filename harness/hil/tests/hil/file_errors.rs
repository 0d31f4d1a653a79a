//! Malformed rig and scenario files: each case checks the line, the dotted key and the message of the error.

use std::path::PathBuf;

use hil::rig::Rig;
use hil::scenario::Scenario;
use rstest::rstest;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

/// Lines 1–12: a valid real rig with one controller and one board; cases append to it.
const REAL: &str = r#"name = "r"
[controllers.relays]
port = "/dev/ttyX"
[controllers.relays.commands]
power_on = { send = "ON {channel}", expect = "OK" }
power_off = { send = "OFF {channel}", expect = "OK" }
[[boards]]
name = "a"
hse_hz = 25_000_000
hse_kind = "oscillator"
usb = { serial = "S1" }
channel = 1
"#;

/// Lines 1–6: a valid virtual rig with one board; cases append to it.
const VIRTUAL: &str = r#"name = "v"
[[boards]]
name = "a"
hse_hz = 25_000_000
hse_kind = "oscillator"
board_file = "../boards/bench-01.toml"
"#;

fn check(err: tomlfile::FileError, line: Option<u32>, key: &str, message: &str) {
    let text = dfuse::error_chain(&err);
    assert_eq!(err.key(), key, "{text}");
    assert_eq!(err.line(), line, "{text}");
    let at = match line {
        Some(l) => format!("case.toml:{l}:"),
        None => "case.toml: key".to_string(),
    };
    assert!(text.contains(&at), "{text}");
    assert!(text.contains(&format!("key `{key}`")), "{text}");
    assert!(text.contains(message), "{message:?} not in:\n{text}");
}

#[rstest]
#[case::unknown_top_key(
    "name = \"r\"\ncolour = 1\n",
    Some(2),
    "colour",
    "unknown field `colour`"
)]
#[case::no_boards("name = \"r\"\n", None, "boards", "at least one [[boards]]")]
#[case::empty_name(&VIRTUAL.replace("name = \"v\"", "name = \" \""), Some(1), "name", "must not be empty")]
#[case::missing_hse(&VIRTUAL.replace("hse_hz = 25_000_000\n", ""), Some(2), "boards[0].hse_hz", "missing field `hse_hz`")]
#[case::bad_hse_kind(&VIRTUAL.replace("\"oscillator\"", "\"ceramic\""), Some(5), "boards[0].hse_kind", "unknown variant `ceramic`")]
#[case::fractional_mhz(&VIRTUAL.replace("25_000_000", "25_500_000"), Some(4), "boards[0].hse_hz", "whole number of MHz")]
#[case::board_file_missing(&VIRTUAL.replace("bench-01", "nope"), Some(6), "boards[0].board_file", "cannot read board file")]
#[case::board_file_broken(&VIRTUAL.replace("../boards/bench-01.toml", "virtual-bench.toml"), Some(6), "boards[0].board_file", "unknown field `boards`")]
#[case::hse_differs(&VIRTUAL.replace("bench-01", "bench-08"), Some(4), "boards[0].hse_hz", "the board file says 24000000 Hz")]
#[case::kind_differs(&VIRTUAL.replace("oscillator", "crystal"), Some(5), "boards[0].hse_kind", "board file says Oscillator")]
#[case::no_wiring(&REAL.replace("channel = 1\n", ""), Some(7), "boards[0]", "needs `board_file`")]
#[case::both_wirings(&format!("{VIRTUAL}channel = 2\n"), Some(6), "boards[0].board_file", "no `controller` or `channel`")]
#[case::duplicate_name(&format!("{VIRTUAL}[[boards]]\nname = \"a\"\nhse_hz = 25_000_000\nhse_kind = \"oscillator\"\nboard_file = \"../boards/bench-02.toml\"\n"), Some(8), "boards[1].name", "a is already used")]
#[case::mixed_rig(&format!("{REAL}[[boards]]\nname = \"b\"\nhse_hz = 25_000_000\nhse_kind = \"oscillator\"\nboard_file = \"../boards/bench-02.toml\"\n"), Some(13), "boards[1]", "virtual and real boards cannot share a rig")]
#[case::real_without_usb(&REAL.replace("usb = { serial = \"S1\" }\n", ""), Some(7), "boards[0].usb", "needs `usb.serial` or `usb.path`")]
#[case::bad_usb_path(&REAL.replace("serial = \"S1\"", "path = \"1-x\""), Some(11), "boards[0].usb.path", "expected BUS-PORT[.PORT...]")]
#[case::bad_vid_pid(&REAL.replace("serial = \"S1\"", "serial = \"S1\", vid_pid = \"0483\""), Some(11), "boards[0].usb.vid_pid", "expected VID:PID in hex")]
#[case::unknown_usb_key(&REAL.replace("serial = \"S1\"", "sn = \"S1\""), Some(11), "boards[0].usb.sn", "unknown field `sn`")]
#[case::bad_probe(&format!("{REAL}probe = \"0483-374b\"\n"), Some(13), "boards[0].probe", "expected VID:PID[:SERIAL]")]
#[case::unknown_controller(&format!("{REAL}controller = \"gpio\"\n"), Some(13), "boards[0].controller", "no [controllers.gpio]")]
#[case::duplicate_channel(&format!("{REAL}[[boards]]\nname = \"b\"\nhse_hz = 24_000_000\nhse_kind = \"crystal\"\nusb = {{ serial = \"S2\" }}\nchannel = 1\n"), Some(18), "boards[1].channel", "relays/1 is already used")]
#[case::seed_on_real_board(&format!("{REAL}seed = 3\n"), Some(13), "boards[0].seed", "only virtual boards have a seed")]
#[case::bad_line_ending(&REAL.replace("port = \"/dev/ttyX\"", "port = \"/dev/ttyX\"\nline_ending = \"nl\""), Some(4), "controllers.relays.line_ending", "unknown variant `nl`")]
#[case::zero_baud(&REAL.replace("port = \"/dev/ttyX\"", "port = \"/dev/ttyX\"\nbaud = 0"), Some(4), "controllers.relays.baud", "must be 300..=4000000")]
#[case::zero_timeout(&REAL.replace("port = \"/dev/ttyX\"", "port = \"/dev/ttyX\"\ntimeout_ms = 0"), Some(4), "controllers.relays.timeout_ms", "must be 1..=600000 ms")]
#[case::empty_port(&REAL.replace("/dev/ttyX", ""), Some(3), "controllers.relays.port", "must name a serial device")]
#[case::unknown_placeholder(&REAL.replace("ON {channel}", "ON {chanel}"), Some(5), "controllers.relays.commands.power_on.send", "unknown placeholder {chanel}")]
#[case::bad_regex(&REAL.replace("expect = \"OK\" }\npower_off", "expect = \"OK (\" }\npower_off"), Some(5), "controllers.relays.commands.power_on.expect", "not a valid regex")]
#[case::unknown_command_key(&REAL.replace("expect = \"OK\" }\npower_off", "reply = \"OK\" }\npower_off"), Some(5), "controllers.relays.commands.power_on.reply", "unknown field `reply`")]
#[case::missing_power_off(&REAL.replace("power_off = { send = \"OFF {channel}\", expect = \"OK\" }\n", ""), Some(4), "controllers.relays.commands.power_off", "missing field `power_off`")]
#[case::multi_line_send(&REAL.replace("OFF {channel}", "OFF\\n{channel}"), Some(6), "controllers.relays.commands.power_off.send", "must be one line")]
#[case::query_without_group(&REAL.replace("[[boards]]", "temperature = { send = \"T?\", expect = \"T=[0-9]+\" }\n[[boards]]"), Some(7), "controllers.relays.commands.temperature.expect", "capture group")]
#[case::send_and_exec(&REAL.replace("{ send = \"ON {channel}\",", "{ send = \"ON {channel}\", exec = [\"uhubctl\"],"), Some(5), "controllers.relays.commands.power_on", "needs `send` (a line for the serial port) or `exec`")]
#[case::neither_send_nor_exec(&REAL.replace("{ send = \"ON {channel}\",", "{"), Some(5), "controllers.relays.commands.power_on", "one of them")]
#[case::empty_exec(&REAL.replace("send = \"ON {channel}\"", "exec = []"), Some(5), "controllers.relays.commands.power_on.exec", "must name a program first")]
#[case::exec_unknown_placeholder(&REAL.replace("send = \"ON {channel}\"", "exec = [\"uhubctl\", \"-p\", \"{port}\"]"), Some(5), "controllers.relays.commands.power_on.exec", "unknown placeholder {port}")]
#[case::exec_bad_regex(&REAL.replace("send = \"ON {channel}\", expect = \"OK\"", "exec = [\"uhubctl\"], expect = \"Port (\""), Some(5), "controllers.relays.commands.power_on.expect", "not a valid regex")]
#[case::tcp_without_host(&REAL.replace("/dev/ttyX", "tcp:"), Some(3), "controllers.relays.port", "tcp:: no host")]
#[case::tcp_bad_port(&REAL.replace("/dev/ttyX", "tcp:10.0.0.5:99999"), Some(3), "controllers.relays.port", "the port is not a number 1..=65535")]
#[case::scpi_without_port(&REAL.replace("port = \"/dev/ttyX\"\n", "scpi = true\n"), Some(3), "controllers.relays.scpi", "a SCPI instrument needs a `port`")]
#[case::current_without_group(&REAL.replace("[[boards]]", "current = { send = \"MEAS:CURR?\", expect = \"[0-9.]+\" }\n[[boards]]"), Some(7), "controllers.relays.commands.current.expect", "capture group")]
#[case::hub_and_commands(&REAL.replace("[controllers.relays.commands]", "hub = \"1-1\"\n[controllers.relays.commands]"), Some(4), "controllers.relays.hub", "give `hub` or `commands`, not both")]
#[case::hub_bad_location(&"name = \"h\"\n[controllers.hub]\nhub = \"HUB\"\n[[boards]]\nname = \"a\"\nhse_hz = 25_000_000\nhse_kind = \"oscillator\"\nusb = { path = \"1-1.2\" }\nchannel = CH\n".replace("HUB", "1-x").replace("CH", "2"), Some(3), "controllers.hub.hub", "is not a hub location")]
#[case::hub_with_port(&"name = \"h\"\n[controllers.hub]\nhub = \"HUB\"\n[[boards]]\nname = \"a\"\nhse_hz = 25_000_000\nhse_kind = \"oscillator\"\nusb = { path = \"1-1.2\" }\nchannel = CH\n".replace("HUB", "1-1").replace("CH", "2").replace("[[boards]]", "port = \"/dev/ttyUSB0\"\n[[boards]]"), Some(4), "controllers.hub.port", "has no serial port")]
#[case::hub_port_out_of_range(&"name = \"h\"\n[controllers.hub]\nhub = \"HUB\"\n[[boards]]\nname = \"a\"\nhse_hz = 25_000_000\nhse_kind = \"oscillator\"\nusb = { path = \"1-1.2\" }\nchannel = CH\n".replace("HUB", "1-1").replace("CH", "300"), Some(2), "controllers.hub", "hub ports are 1..=255")]
#[case::no_commands_no_hub(&REAL.replace("[controllers.relays.commands]\npower_on = { send = \"ON {channel}\", expect = \"OK\" }\npower_off = { send = \"OFF {channel}\", expect = \"OK\" }\n", ""), Some(2), "controllers.relays", "missing field `commands` (or `hub")]
#[case::send_without_port(&REAL.replace("port = \"/dev/ttyX\"\n", ""), Some(4), "controllers.relays.commands.power_on.send", "needs the controller's serial `port`")]
#[case::query_without_expect(&REAL.replace("[[boards]]", "temperature = { send = \"T?\" }\n[[boards]]"), Some(7), "controllers.relays.commands.temperature", "a query needs `expect`")]
#[case::chamber_channel(&format!("{REAL}[chamber]\nport = \"/dev/ttyY\"\nset_point = {{ send = \"SET {{channel}}\" }}\nread = {{ send = \"T?\", expect = \"([0-9.]+)\" }}\n"), Some(15), "chamber.set_point.send", "unknown placeholder {channel}")]
#[case::fault_rate_over_one(&format!("{VIRTUAL}[faults]\ntimeout_rate = 1.5\n"), Some(8), "faults.timeout_rate", "must be a fraction 0.0..=1.0")]
#[case::fault_rate_negative(&format!("{VIRTUAL}[faults]\nprobe_dropout_rate = -0.1\n"), Some(8), "faults.probe_dropout_rate", "must be a fraction 0.0..=1.0")]
#[case::fault_rate_not_a_number(&format!("{VIRTUAL}[faults]\ngarbled_rate = \"often\"\n"), Some(8), "faults.garbled_rate", "invalid type: string")]
#[case::unknown_fault(&format!("{VIRTUAL}[faults]\ntimout_rate = 0.1\n"), Some(8), "faults.timout_rate", "unknown field `timout_rate`")]
#[case::fault_rates_over_one(&format!("{VIRTUAL}[faults]\ntimeout_rate = 0.6\ngarbled_rate = 0.5\n"), Some(7), "faults", "must add up to 1 or less")]
#[case::board_fault_rate(&format!("{VIRTUAL}faults = {{ relay_stuck_rate = 2 }}\n"), Some(7), "boards[0].faults.relay_stuck_rate", "must be a fraction 0.0..=1.0")]
#[case::board_fault_rates_over_one(&format!("{VIRTUAL}faults = {{ garbled_rate = 0.5 }}\n[faults]\ntimeout_rate = 0.6\n"), Some(7), "boards[0].faults", "is 1.1: a command fails in one way at most")]
#[case::faults_on_real_rig(&format!("{REAL}[faults]\ntimeout_rate = 0.1\n"), Some(13), "faults", "only a virtual rig has [faults]")]
#[case::faults_on_real_board(&format!("{REAL}faults = {{ timeout_rate = 0.1 }}\n"), Some(13), "boards[0].faults", "only virtual boards have `faults`")]
#[case::negative_time_constant(&format!("{VIRTUAL}[chamber]\ntime_constant_s = -1\n"), Some(8), "chamber.time_constant_s", "must be 0..=86400 s")]
#[case::port_on_virtual_chamber(&format!("{VIRTUAL}[chamber]\nport = \"/dev/ttyY\"\ntime_constant_s = 60\n"), Some(8), "chamber.port", "only `time_constant_s` may be set")]
#[case::time_constant_on_real_chamber(&format!("{REAL}[chamber]\nport = \"/dev/ttyY\"\nset_point = {{ send = \"SET {{celsius}}\" }}\nread = {{ send = \"T?\", expect = \"([0-9.]+)\" }}\ntime_constant_s = 60\n"), Some(17), "chamber.time_constant_s", "only a virtual rig's chamber has a time constant")]
#[case::real_chamber_without_port(&format!("{REAL}[chamber]\nset_point = {{ send = \"SET {{celsius}}\" }}\nread = {{ send = \"T?\", expect = \"([0-9.]+)\" }}\n"), Some(13), "chamber.port", "missing field `port`")]
fn malformed_rig(
    #[case] text: &str,
    #[case] line: Option<u32>,
    #[case] key: &str,
    #[case] message: &str,
) {
    let err = Rig::from_toml_str(text, &repo("fixtures/rigs/case.toml")).unwrap_err();
    check(err, line, key, message);
}

/// Lines 1–2: a scenario header on the virtual bench; cases add phases and steps.
const HEAD: &str = "name = \"s\"\nrig = \"../fixtures/rigs/virtual-bench.toml\"\n";
/// Three lines: one phase of one cycle.
const PHASE: &str = "[[phases]]\nname = \"p\"\ncycles = 1\n";

fn scenario(body: &str) -> String {
    format!("{HEAD}{body}")
}

fn with_steps(steps: &str) -> String {
    scenario(&format!("{PHASE}{steps}"))
}

#[rstest]
#[case::rig_missing(&format!("name = \"s\"\nrig = \"nope.toml\"\n{PHASE}"), Some(2), "rig", "cannot read file")]
#[case::rig_broken(&format!("name = \"s\"\nrig = \"../fixtures/boards/bench-01.toml\"\n{PHASE}"), Some(2), "rig", "bench-01.toml:10:1: key `hse`: unknown field `hse`")]
#[case::unknown_top_key(&scenario("cycles = 3\n"), Some(3), "cycles", "unknown field `cycles`")]
#[case::missing_rig("name = \"s\"\n", None, "rig", "missing field `rig`")]
#[case::unknown_board(&scenario("boards = [\"bench-01\", \"bench-99\"]\n"), Some(3), "boards[1]", "no board \"bench-99\"")]
#[case::board_twice(&scenario("boards = [\"bench-01\", \"bench-01\"]\n"), Some(3), "boards[1]", "listed twice")]
#[case::boards_word(&scenario("boards = \"some\"\n"), Some(3), "boards", "expected \"all\" or a list of board names")]
#[case::boards_empty(&scenario("boards = []\n[[steps]]\nkind = \"reset\"\n"), Some(3), "boards", "list at least one board")]
#[case::no_steps(&scenario(PHASE), None, "steps", "at least one [[steps]]")]
#[case::no_phases(&scenario("[[steps]]\nkind = \"reset\"\n"), None, "phases", "at least one [[phases]]")]
#[case::cycles_and_duration(&scenario("[[steps]]\nkind = \"reset\"\n[[phases]]\nname = \"p\"\ncycles = 1\nduration_s = 60\n"), Some(5), "phases[0]", "exactly one of `cycles` or `duration_s`")]
#[case::zero_cycles(&scenario("[[steps]]\nkind = \"reset\"\n[[phases]]\nname = \"p\"\ncycles = 0\n"), Some(7), "phases[0].cycles", "at least 1")]
#[case::hot_chamber(&scenario("[[steps]]\nkind = \"reset\"\n[[phases]]\nname = \"p\"\ncycles = 1\ntemperature_c = 200.0\n"), Some(8), "phases[0].temperature_c", "-40..=125")]
#[case::unknown_kind(&with_steps("[[steps]]\nkind = \"blink\"\n"), Some(7), "steps[0].kind", "unknown variant `blink`")]
#[case::unknown_step_key(&with_steps("[[steps]]\nkind = \"reset\"\nlevel = \"high\"\n"), Some(8), "steps[0].level", "unknown field `level`")]
#[case::boot0_without_level(&with_steps("[[steps]]\nkind = \"boot0\"\n"), Some(6), "steps[0].level", "missing field `level`")]
#[case::boot0_bad_level(&with_steps("[[steps]]\nkind = \"boot0\"\nlevel = \"up\"\n"), Some(8), "steps[0].level", "unknown variant `up`")]
#[case::ob_without_connect(&with_steps("[[steps]]\nkind = \"wait_enumeration\"\n[[steps]]\nkind = \"read_option_bytes\"\n"), Some(9), "steps[1].kind", "needs a `dfu_connect` step before it")]
#[case::flash_after_reboot(&with_steps("[[steps]]\nkind = \"dfu_connect\"\n[[steps]]\nkind = \"reset\"\n[[steps]]\nkind = \"flash\"\nimage = { generate = 1024 }\n"), Some(11), "steps[2].kind", "`flash` needs a `dfu_connect`")]
#[case::image_both(&with_steps("[[steps]]\nkind = \"dfu_connect\"\n[[steps]]\nkind = \"flash\"\nimage = { generate = 1024, path = \"a.bin\" }\n"), Some(10), "steps[1].image", "exactly one of `generate")]
#[case::image_unknown_key(&with_steps("[[steps]]\nkind = \"dfu_connect\"\n[[steps]]\nkind = \"flash\"\nimage = { paht = \"a.bin\" }\n"), Some(10), "steps[1].image.paht", "unknown field `paht`")]
#[case::stray_key_named_like_a_valid_one_elsewhere(&with_steps("[[steps]]\nkind = \"dfu_connect\"\n[[steps]]\nkind = \"flash\"\nimage = { generate = 1024, seed = 3 }\n[[steps]]\nkind = \"power_cycle\"\nseed = 4\n"), Some(13), "steps[2].seed", "unknown field `seed`")]
#[case::step_key_of_another_kind(&with_steps("[[steps]]\nkind = \"dfu_connect\"\n[[steps]]\nkind = \"flash\"\nimage = { generate = 1024 }\nverify = true\n[[steps]]\nkind = \"power_cycle\"\nverify = true\n"), Some(14), "steps[2].verify", "unknown field `verify`")]
#[case::image_empty(&with_steps("[[steps]]\nkind = \"dfu_connect\"\n[[steps]]\nkind = \"flash\"\nimage = { generate = 0 }\n"), Some(10), "steps[1].image.generate", "must be 1..=1048576 bytes")]
#[case::image_file_missing(&with_steps("[[steps]]\nkind = \"dfu_connect\"\n[[steps]]\nkind = \"flash\"\nimage = { path = \"no-such.bin\" }\n"), Some(10), "steps[1].image.path", "no-such.bin: no such file")]
#[case::image_seed_with_path(&with_steps("[[steps]]\nkind = \"dfu_connect\"\n[[steps]]\nkind = \"flash\"\nimage = { path = \"quick.toml\", seed = 2 }\n"), Some(10), "steps[1].image.seed", "only a generated image has a seed")]
#[case::misaligned(&with_steps("[[steps]]\nkind = \"dfu_connect\"\n[[steps]]\nkind = \"flash\"\nimage = { generate = 1024 }\naddress = 0x08000001\n"), Some(11), "steps[1].address", "8-byte aligned")]
#[case::image_too_big(&with_steps("[[steps]]\nkind = \"dfu_connect\"\n[[steps]]\nkind = \"flash\"\nimage = { generate = 131072 }\naddress = 0x080F0000\n"), Some(10), "steps[1].image.generate", "does not fit in flash")]
#[case::zero_window(&with_steps("[[steps]]\nkind = \"measure_hsi\"\nwindow_ms = 0\n"), Some(8), "steps[0].window_ms", "must be 1..=10000 ms")]
#[case::window_over_timeout(&with_steps("[[steps]]\nkind = \"measure_sysclk\"\nwindow_ms = 500\ntimeout_ms = 400\n"), Some(8), "steps[0].window_ms", "shorter than the step's timeout")]
#[case::zero_timeout(&with_steps("[[steps]]\nkind = \"leave\"\ntimeout_ms = 0\n"), Some(8), "steps[0].timeout_ms", "must be 1..=3600000 ms")]
#[case::many_retries(&with_steps("[[steps]]\nkind = \"reset\"\nretries = 1000\n"), Some(8), "steps[0].retries", "must be 0..=100")]
#[case::delay_without_ms(&with_steps("[[steps]]\nkind = \"delay\"\n"), Some(6), "steps[0].ms", "missing field `ms`")]
#[case::stop_zero(&with_steps("[[steps]]\nkind = \"reset\"\n[stop]\nmax_failures = 0\n"), Some(9), "stop.max_failures", "at least 1")]
#[case::rate_over_one(&with_steps("[[steps]]\nkind = \"reset\"\n[pass]\nmax_failure_rate = 1.5\n"), Some(9), "pass.max_failure_rate", "fraction 0.0..=1.0")]
#[case::retry_on_word(&with_steps("[[steps]]\nkind = \"reset\"\n[retry]\non = \"sometimes\"\n"), Some(9), "retry.on", "unknown variant `sometimes`")]
#[case::retry_many(&with_steps("[[steps]]\nkind = \"reset\"\n[retry]\ncycle_attempts = 50\n"), Some(9), "retry.cycle_attempts", "must be 0..=10")]
#[case::unknown_stop_key(&with_steps("[[steps]]\nkind = \"reset\"\n[stop]\nmax_hours = 2\n"), Some(9), "stop.max_hours", "unknown field `max_hours`")]
#[case::exec_empty(&with_steps("[[steps]]\nkind = \"exec\"\ncommand = []\n"), Some(8), "steps[0].command", "must name a program first")]
#[case::exec_unknown_placeholder(&with_steps("[[steps]]\nkind = \"exec\"\ncommand = [\"dfu-util\", \"-S\", \"{serial}\"]\n"), Some(8), "steps[0].command", "unknown placeholder {serial}")]
#[case::exec_writes_records(&with_steps("[[steps]]\nkind = \"exec\"\ncommand = [\"sh\", \"-c\", \"date >> {run_dir}/cycles.csv\"]\n"), Some(8), "steps[0].command", "names cycles.csv, a record file")]
#[case::exec_bad_fail_regex(&with_steps("[[steps]]\nkind = \"exec\"\ncommand = [\"true\"]\nfail = \"(\"\n"), Some(9), "steps[0].fail", "not a valid regex")]
#[case::exec_serial_without_one(&with_steps("[[steps]]\nkind = \"exec\"\ncommand = [\"dfu-util\", \"-S\", \"{usb_serial}\"]\n"), Some(8), "steps[0].command", "uses {usb_serial}, and board")]
#[case::exec_without_command(&with_steps("[[steps]]\nkind = \"exec\"\n"), Some(6), "steps[0].command", "missing field `command`")]
#[case::no_probe(&format!("name = \"s\"\nrig = \"../fixtures/rigs/bench-example.toml\"\nboards = [\"f746-d\"]\n{PHASE}[[steps]]\nkind = \"read_clocks\"\n"), Some(8), "steps[0].kind", "board f746-d has none in the rig file")]
fn malformed_scenario(
    #[case] text: &str,
    #[case] line: Option<u32>,
    #[case] key: &str,
    #[case] message: &str,
) {
    let err = Scenario::from_toml_str(text, &repo("scenarios/case.toml")).unwrap_err();
    check(err, line, key, message);
}

/// A flash step naming `path` (and `address` when given), as lines 6.. of a scenario.
fn flash_file(path: &std::path::Path, address: Option<&str>) -> String {
    let address = address
        .map(|a| format!("address = {a}\n"))
        .unwrap_or_default();
    with_steps(&format!(
        "[[steps]]\nkind = \"dfu_connect\"\n[[steps]]\nkind = \"flash\"\nimage = {{ path = {:?} }}\n{address}",
        path.display().to_string()
    ))
}

#[test]
fn flash_step_images_are_checked_against_main_flash_when_the_scenario_loads() {
    let dir = crate::common::scratch("file-errors-images");
    let load = |text: String| Scenario::from_toml_str(&text, &repo("scenarios/case.toml"));
    // A 2 MiB raw image cannot fit in 1 MiB of flash: refused before the first cycle, naming the key.
    let big = dir.join("big.bin");
    std::fs::write(&big, vec![0x5A; 2 << 20]).unwrap();
    check(
        load(flash_file(&big, None)).unwrap_err(),
        Some(10),
        "steps[1].image.path",
        "do not fit in main flash",
    );
    // One that starts inside but runs past the end.
    let tail = dir.join("tail.bin");
    std::fs::write(&tail, vec![0x5A; 4096]).unwrap();
    check(
        load(flash_file(&tail, Some("0x080FF800"))).unwrap_err(),
        Some(10),
        "steps[1].image.path",
        "do not fit in main flash",
    );
    // Intel HEX carries its own addresses: accepted without `address`, refused with one.
    let hex = dir.join("app.hex");
    std::fs::write(
        &hex,
        ":020000040800F2\n:10000000000102030405060708090A0B0C0D0E0F78\n:00000001FF\n",
    )
    .unwrap();
    load(flash_file(&hex, None)).expect("a .hex image needs no address");
    check(
        load(flash_file(&hex, Some("0x08000000"))).unwrap_err(),
        Some(11),
        "steps[1].address",
        "carries its own addresses",
    );
}
