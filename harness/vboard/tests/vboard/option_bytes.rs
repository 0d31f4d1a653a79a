//! Option bytes planted by the board file (`[option_bytes]`): what DFU and FLASH_OPTCR/OPTCR1 show, boot
//! selection from BOOT_ADD0/BOOT_ADD1, write protection, and a stale register copy.

use std::time::Duration;

use crate::common::*;
use vboard::registers::{FLASH_OPTCR, FLASH_OPTCR1};
use vboard::{Board, BoardConfig, DfuStatus, RunMode, UsbError};

fn board_file(option_bytes: &str) -> BoardConfig {
    let text = format!("name = \"ob\"\n\n[option_bytes]\n{option_bytes}\n");
    BoardConfig::from_toml_str(&text, "ob.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn registers(host: &mut Host) -> (u32, u32) {
    let now = host.now;
    let optcr = host.board.read_u32(now, FLASH_OPTCR).unwrap();
    (optcr, host.board.read_u32(now, FLASH_OPTCR1).unwrap())
}

#[test]
fn boot_add1_not_system_memory_with_boot0_high_never_enumerates() {
    let mut board = Board::new(board_file("boot_add1 = 0x0080"), 1);
    board.power_on(Duration::ZERO);
    assert_eq!(
        board.mode(),
        RunMode::Application {
            vector_table: 0x0020_0000
        },
        "BOOT_ADD1 0x0080 << 14 = ITCM flash"
    );
    assert!(board.boot().is_none(), "the ROM never ran");
    for s in 0..10 {
        assert!(!board.attached(Duration::from_secs(s)));
    }
    let setup = setup(0x80, 6, 0x0100, 0, 18);
    let reply = board.control(Duration::from_secs(10), setup, &[]).result;
    assert_eq!(reply, Err(UsbError::Disconnected));
    board.reset_pin(Duration::from_secs(11));
    assert!(
        !board.attached(Duration::from_secs(20)),
        "nor after a reset"
    );
}

#[test]
fn boot_add0_selecting_system_memory_runs_the_bootloader_with_boot0_low() {
    let mut board = Board::new(board_file("boot_add0 = 0x0040"), 1);
    board.set_boot0(false);
    board.power_on(Duration::ZERO);
    assert_eq!(board.mode(), RunMode::Bootloader);
    assert!(board.attached(Duration::from_secs(1)));
}

#[test]
fn dfu_block_and_registers_show_the_planted_values_with_complements() {
    let mut host = Host::new(
        board_file(
            "rdp = 0xBB\nbor_lev = 1\niwdg_sw = false\nnwrp = 0xFE\niwdg_stop = false\n\
             boot_add0 = 0x2000",
        ),
        1,
    );
    // Worked by hand from reference §4.3: USER = nRST_STDBY b7 | nRST_STOP b6 | WWDG_SW b4 | BOR_LEV 01 b3:2
    // | b1:0 = 0xD7; the nWRP slot's second byte = IWDG_STDBY b6 | reserved b5:0 = 0x7F.
    let want = [
        0xD7, 0xBB, 0x28, 0x44, 0xFF, 0xFF, 0xFF, 0xFF, //
        0xFE, 0x7F, 0x01, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, //
        0x00, 0x20, 0xFF, 0xDF, 0xFF, 0xFF, 0xFF, 0xFF, //
        0x40, 0x00, 0xBF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    ];
    assert_eq!(
        host.read(OB, 32).unwrap(),
        want,
        "readable under RDP level 1"
    );
    // OPTCR: IWDG_STDBY b30, nWRP 0xFE, RDP 0xBB, USER[7:2] 0xD4, OPTLOCK.
    assert_eq!(registers(&mut host), (0x40FE_BBD5, 0x0040_2000));
    assert_eq!(host.read(FLASH, 8), Err(UsbError::Stall), "RDP level 1");
    assert_eq!(host.get_status().status, DfuStatus::ErrVendor);
}

#[test]
fn factory_values_written_out_are_the_built_in_block() {
    let explicit = board_file(
        "rdp = 0xAA\nbor_lev = 3\nwwdg_sw = true\niwdg_sw = true\nnrst_stop = true\nnrst_stdby = true\n\
         iwdg_stdby = true\niwdg_stop = true\nnwrp = 0xFF\nboot_add0 = 0x0080\nboot_add1 = 0x0040",
    );
    let mut host = Host::new(explicit, 1);
    assert_eq!(
        &host.board.option_bytes()[..4],
        &[0xFF, 0xAA, 0x00, 0x55],
        "factory USER/RDP word"
    );
    assert_eq!(
        host.board.option_bytes(),
        Host::healthy().board.option_bytes()
    );
    assert_eq!(registers(&mut host), (0xC0FF_AAFD, 0x0040_0080));
}

#[test]
fn stale_registers_disagree_with_dfu_until_the_next_reset() {
    let mut host = Host::new(board_file("[option_bytes.loaded]\nrdp = 0xBB"), 1);
    assert_eq!(host.read(OB, 4).unwrap(), [0xFF, 0xAA, 0x00, 0x55]);
    assert_eq!(registers(&mut host), (0xC0FF_BBFD, 0x0040_0080));
    assert_eq!(
        host.read(FLASH, 8).unwrap(),
        [0xFF; 8],
        "RDP follows the block"
    );
    host.board.reset_pin(host.now);
    host.wait_attached();
    assert_eq!(registers(&mut host), (0xC0FF_AAFD, 0x0040_0080), "reloaded");
}

#[test]
fn stale_registers_until_programmed_survive_power_cycles() {
    let config = board_file(
        "boot_add0 = 0x2000\n[option_bytes.loaded]\nboot_add0 = 0x0080\nuntil = \"programmed\"",
    );
    let mut host = Host::new(config, 1);
    for _ in 0..3 {
        assert_eq!(registers(&mut host).1, 0x0040_0080);
        assert_eq!(
            &host.read(OB, 32).unwrap()[16..20],
            &[0x00, 0x20, 0xFF, 0xDF]
        );
        host.board.power_off(host.now);
        host.board.power_on(host.now);
        host.wait_attached();
    }
    // Programming the block over DFU resets the chip, which reloads the registers.
    let ob = host.board.option_bytes();
    host.set_address(OB);
    host.dnload(2, &ob).unwrap();
    host.get_status();
    host.wait_attached();
    assert_eq!(registers(&mut host).1, 0x0040_2000);
}

#[test]
fn write_protected_sector_keeps_its_contents() {
    let mut host = Host::new(board_file("nwrp = 0xFE"), 1);
    host.board.load_flash(FLASH, &[0x12; 16]);
    let (_, erased) = host.erase(FLASH);
    assert_eq!(erased.status, DfuStatus::Ok, "AN3156: no error");
    assert_eq!(
        &host.board.flash()[..16],
        &[0x12; 16],
        "sector 0 not erased"
    );
    let s = host.write(FLASH + 0x100, &[0u8; 8]);
    assert_eq!(s.status, DfuStatus::ErrWrite);
    assert_eq!(&host.board.flash()[0x100..0x108], &[0xFF; 8]);
    host.clr_status().unwrap();
    assert_eq!(
        host.write(FLASH + 0x8000, &[0u8; 8]).status,
        DfuStatus::Ok,
        "sector 1"
    );
    assert_eq!(
        host.command(&[0x41]).1.status,
        DfuStatus::ErrWrite,
        "mass erase"
    );
    assert_eq!(&host.board.flash()[..16], &[0x12; 16]);
}
