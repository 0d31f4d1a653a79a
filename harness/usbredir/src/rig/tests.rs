//! The rig controller's unit tests: parsing the bench line protocol and handing commands to registered sessions.

use super::*;
use rstest::rstest;

#[rstest]
#[case("PWR 1 ON", 1, RigCommand::Power(true))]
#[case("pwr 2 off", 2, RigCommand::Power(false))]
#[case("BOOT0 1 1", 1, RigCommand::Boot0(true))]
#[case("BOOT0 3 0", 3, RigCommand::Boot0(false))]
#[case("RST 1 20", 1, RigCommand::Reset { ms: 20 })]
#[case("TEMP 1?", 1, RigCommand::Temperature)]
#[case("  XFERS 4?  ", 4, RigCommand::Transfers)]
#[case("CLOCKS 1?", 1, RigCommand::Clocks)]
fn parses_the_bench_example_commands(
    #[case] line: &str,
    #[case] channel: u16,
    #[case] command: RigCommand,
) {
    assert_eq!(parse(line), Ok((channel, command)));
}

#[rstest]
#[case("PWR 0 ON", "bad channel")]
#[case("PWR x ON", "bad channel")]
#[case("PWR 1 MAYBE", "unknown command \"PWR 1 MAYBE\"")]
#[case("RST 1 forever", "bad pulse length")]
#[case("RST 1 1001", "bad pulse length")]
#[case("TEMP 1", "unknown command")]
#[case("", "empty command")]
fn refuses_anything_else_with_the_reason(#[case] line: &str, #[case] why: &str) {
    let e = parse(line).unwrap_err().to_string();
    assert!(e.contains(why), "{line:?}: {e}");
}

#[test]
fn a_channel_without_a_session_is_an_error_reply_and_a_dropped_slot_frees_it() {
    let boards = RigBoards::new();
    assert!(boards
        .execute("PWR 1 ON")
        .starts_with("ERR no board on channel 1"));
    let slot = boards.register();
    assert_eq!(slot.channel, 1);
    drop(slot);
    assert!(boards
        .execute("PWR 1 ON")
        .starts_with("ERR no board on channel 1"));
    assert!(boards.execute("HELLO").starts_with("ERR unknown command"));
}

#[test]
fn forwards_to_the_registered_session_and_returns_its_reply() {
    let boards = RigBoards::new();
    let one = boards.register();
    let two = boards.register();
    assert_eq!((one.channel, two.channel), (1, 2));
    let session = thread::spawn(move || {
        let request = two.requests.recv().unwrap();
        assert_eq!(request.command, RigCommand::Temperature);
        assert!(request.deadline > Instant::now());
        request.reply.send("TEMP 2 28.0".into()).unwrap();
    });
    assert_eq!(boards.execute("TEMP 2?"), "TEMP 2 28.0");
    session.join().unwrap();
    drop(one);
    assert_eq!(
        boards.register().channel,
        1,
        "a freed channel is taken again"
    );
}

#[test]
fn a_busy_session_gets_no_command_after_its_client_was_told_err() {
    let boards = RigBoards::with_waits(Duration::from_millis(20), Duration::from_millis(40));
    let slot = boards.register();
    // Nobody serves the slot: the command times out with an ERR, and what is left queued is past its deadline.
    let reply = boards.execute("PWR 1 OFF");
    assert!(
        reply.starts_with("ERR the board on channel 1 is busy"),
        "{reply}"
    );
    let queued = slot.requests.try_recv().expect("the request was queued");
    assert!(Instant::now() >= queued.deadline);
}
