//! Device selection in dfu-util's forms: `-d VID:PID`, `-S SERIAL`, `-p BUS-PORT.PORT...`.

use super::DeviceInfo;

/// Which device to open. Empty fields match anything; the default matches the ST ROM bootloader's 0483:df11.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector {
    pub vid_pid: Option<(u16, u16)>,
    pub serial: Option<String>,
    pub path: Option<String>,
}

/// A selector string that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    #[error("device selector {0:?}: expected VID:PID in hex, e.g. 0483:df11")]
    VidPid(String),
    #[error("port path {0:?}: expected BUS-PORT[.PORT...], e.g. 1-1.2")]
    Path(String),
}

/// The ST ROM DFU bootloader's USB ids.
pub const ST_DFU_VID_PID: (u16, u16) = (0x0483, 0xdf11);

impl Selector {
    /// Parse dfu-util's `-d` argument: `VID:PID` in hex (`0483:df11`).
    pub fn parse_vid_pid(s: &str) -> Result<(u16, u16), SelectorError> {
        let err = || SelectorError::VidPid(s.to_string());
        let (v, p) = s.split_once(':').ok_or_else(err)?;
        let hex = |x: &str| u16::from_str_radix(x.trim_start_matches("0x"), 16).map_err(|_| err());
        Ok((hex(v)?, hex(p)?))
    }

    /// Check dfu-util's `-p` argument: `BUS-PORT[.PORT...]`, all decimal.
    pub fn parse_path(s: &str) -> Result<String, SelectorError> {
        let err = || SelectorError::Path(s.to_string());
        let (bus, ports) = s.split_once('-').ok_or_else(err)?;
        let numeric = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
        if !numeric(bus) || !ports.split('.').all(numeric) {
            return Err(err());
        }
        Ok(s.to_string())
    }

    /// True when `info` satisfies every field that is set. With no VID:PID given, only the ST bootloader
    /// ids match, so a bare selector never grabs some other DFU device on the bench.
    pub fn matches(&self, info: &DeviceInfo) -> bool {
        let (vid, pid) = self.vid_pid.unwrap_or(ST_DFU_VID_PID);
        info.vid == vid
            && info.pid == pid
            && self
                .serial
                .as_ref()
                .is_none_or(|s| info.serial.as_deref() == Some(s))
            && self.path.as_ref().is_none_or(|p| &info.port_path == p)
    }

    /// A short description for error messages.
    pub fn describe(&self) -> String {
        let (vid, pid) = self.vid_pid.unwrap_or(ST_DFU_VID_PID);
        let mut s = format!("{vid:04x}:{pid:04x}");
        if let Some(serial) = &self.serial {
            s += &format!(" serial {serial}");
        }
        if let Some(path) = &self.path {
            s += &format!(" at port {path}");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("0483:df11", Some((0x0483, 0xdf11)))]
    #[case("0x0483:0xDF11", Some((0x0483, 0xdf11)))]
    #[case("0483", None)]
    #[case("0483:zz11", None)]
    #[case("10000:1", None)]
    fn vid_pid(#[case] s: &str, #[case] want: Option<(u16, u16)>) {
        assert_eq!(Selector::parse_vid_pid(s).ok(), want);
    }

    #[rstest]
    #[case("1-1.2", true)]
    #[case("3-4", true)]
    #[case("1-", false)]
    #[case("1-1..2", false)]
    #[case("a-1", false)]
    #[case("1.2", false)]
    fn path(#[case] s: &str, #[case] ok: bool) {
        assert_eq!(Selector::parse_path(s).is_ok(), ok);
    }
}
