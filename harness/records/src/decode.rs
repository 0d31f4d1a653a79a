//! Decoding one CSV record into a typed row, field by field, into a row that is reused from record to
//! record (its strings keep their capacity), so reading a million rows allocates almost nothing. Written by
//! hand rather than through serde's `Deserialize` because that path allocates every string of every row and
//! cannot say which column was wrong; this one names the column and rejects non-finite numbers.

use csv::ByteRecord;

use crate::schema::{CycleRow, StepRow, CYCLE_COLUMNS, STEP_COLUMNS};
use crate::vocab::{ErrorClass, ErrorKind, HseVerdict, OptionBytesCheck, Outcome, SerialMatch};

/// What is wrong with one field: its 0-based column and why.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub column: usize,
    pub message: String,
}

/// A row type the reader can decode.
pub trait Record: Default + serde::Serialize {
    /// The file's header, in order.
    const COLUMNS: &'static [&'static str];
    /// Overwrite `self` with `record`.
    fn decode(&mut self, record: &ByteRecord) -> Result<(), FieldError>;
}

/// The fields of one record, read left to right.
struct Fields<'a> {
    record: &'a ByteRecord,
    /// The whole record's bytes as text, when they are valid UTF-8 (checked once, not per field).
    text: Option<&'a str>,
    column: usize,
}

impl<'a> Fields<'a> {
    fn new(record: &'a ByteRecord) -> Self {
        Self {
            record,
            text: std::str::from_utf8(record.as_slice()).ok(),
            column: 0,
        }
    }

    fn next(&mut self) -> (usize, &'a [u8]) {
        let i = self.column;
        self.column += 1;
        (i, self.record.get(i).unwrap_or_default())
    }

    fn fail<T>(column: usize, message: String) -> Result<T, FieldError> {
        Err(FieldError { column, message })
    }

    fn text(&mut self) -> Result<&'a str, FieldError> {
        let i = self.column;
        let field = self
            .text
            .zip(self.record.range(i))
            .and_then(|(text, range)| text.get(range));
        if let Some(t) = field {
            self.column += 1;
            return Ok(t);
        }
        let (i, b) = self.next();
        std::str::from_utf8(b).or_else(|_| Self::fail(i, "is not valid UTF-8".into()))
    }

    fn string(&mut self, into: &mut String) -> Result<(), FieldError> {
        let t = self.text()?;
        into.clear();
        into.push_str(t);
        Ok(())
    }

    fn parsed<T: std::str::FromStr>(&mut self, what: &str) -> Result<Option<T>, FieldError> {
        let i = self.column;
        let t = self.text()?;
        if t.is_empty() {
            return Ok(None);
        }
        t.parse()
            .map(Some)
            .or_else(|_| Self::fail(i, format!("{t:?} is not {what}")))
    }

    fn required<T: std::str::FromStr>(&mut self, what: &str) -> Result<T, FieldError> {
        let i = self.column;
        self.parsed(what)?
            .map_or_else(|| Self::fail(i, format!("is empty; expected {what}")), Ok)
    }

    /// A number that must be finite: `inf`, `NaN` or `1e400` would poison every sum and duration.
    fn float(&mut self) -> Result<Option<f64>, FieldError> {
        let i = self.column;
        match self.parsed::<f64>("a number")? {
            Some(x) if !x.is_finite() => Self::fail(i, format!("{x} is not a finite number")),
            x => Ok(x),
        }
    }

    /// A time or duration in seconds or milliseconds: finite, not negative, and small enough to be a real one
    /// (below 1e12), so no later conversion to a `Duration` can overflow.
    fn duration(&mut self) -> Result<f64, FieldError> {
        let i = self.column;
        let x = self.required_float()?;
        if !(0.0..1e12).contains(&x) {
            return Self::fail(i, format!("{x} is not a time from 0 to 1e12"));
        }
        Ok(x)
    }

    fn required_float(&mut self) -> Result<f64, FieldError> {
        let i = self.column;
        self.float()?
            .map_or_else(|| Self::fail(i, "is empty; expected a number".into()), Ok)
    }

    fn word<T>(&mut self, from: fn(&str) -> Option<T>, all: &[T]) -> Result<Option<T>, FieldError>
    where
        T: std::fmt::Display,
    {
        let i = self.column;
        let t = self.text()?;
        if t.is_empty() {
            return Ok(None);
        }
        from(t).map(Some).map_or_else(
            || {
                let names: Vec<String> = all.iter().map(ToString::to_string).collect();
                Self::fail(i, format!("{t:?} is not one of {}", names.join(", ")))
            },
            Ok,
        )
    }
}

fn outcome(f: &mut Fields<'_>) -> Result<Outcome, FieldError> {
    let i = f.column;
    f.word(Outcome::from_name, Outcome::ALL)?.map_or_else(
        || Fields::fail(i, "is empty; expected pass or fail".into()),
        Ok,
    )
}

fn kind(f: &mut Fields<'_>) -> Result<Option<ErrorKind>, FieldError> {
    f.word(ErrorKind::from_name, ErrorKind::ALL)
}

fn class(f: &mut Fields<'_>) -> Result<Option<ErrorClass>, FieldError> {
    f.word(ErrorClass::from_name, ErrorClass::ALL)
}

fn boolean(f: &mut Fields<'_>) -> Result<Option<bool>, FieldError> {
    f.parsed("true or false")
}

impl Record for CycleRow {
    const COLUMNS: &'static [&'static str] = &CYCLE_COLUMNS;

    fn decode(&mut self, record: &ByteRecord) -> Result<(), FieldError> {
        let f = &mut Fields::new(record);
        self.schema = f.required("a schema version")?;
        f.string(&mut self.started_utc)?;
        self.time_s = f.duration()?;
        f.string(&mut self.board)?;
        f.string(&mut self.phase)?;
        self.cycle = f.required("a cycle number")?;
        self.attempt = f.required("an attempt number")?;
        let i = f.column;
        self.final_attempt = boolean(f)?.map_or_else(
            || Fields::fail(i, "is empty; expected true or false".into()),
            Ok,
        )?;
        self.temperature_c = f.float()?;
        self.outcome = outcome(f)?;
        f.string(&mut self.failed_step)?;
        self.error_kind = kind(f)?;
        self.error_class = class(f)?;
        f.string(&mut self.error_detail)?;
        self.elapsed_ms = f.duration()?;
        self.step_retries = f.required("a count")?;
        f.string(&mut self.usb_serial)?;
        f.string(&mut self.expected_serial)?;
        self.serial_match = f.word(SerialMatch::from_name, SerialMatch::ALL)?;
        self.option_bytes_check = f.word(OptionBytesCheck::from_name, OptionBytesCheck::ALL)?;
        f.string(&mut self.option_bytes_hex)?;
        self.pllm = f.parsed("a PLLM value (0..255)")?;
        self.detected_hse_hz = f.parsed("a frequency in Hz")?;
        self.true_hse_hz = f.required("a frequency in Hz")?;
        self.hse_verdict = f.word(HseVerdict::from_name, HseVerdict::ALL)?;
        self.hse_error_mhz = f.parsed("a whole number of MHz")?;
        self.sysclk_hz = f.float()?;
        self.sysclk_measured_hz = f.float()?;
        self.sysclk_measured_uncertainty_hz = f.float()?;
        self.usb_clock_hz = f.float()?;
        self.usb_clock_error_ppm = f.float()?;
        self.usb_in_tolerance = boolean(f)?;
        self.hsitrim = f.parsed("an HSITRIM value (0..31)")?;
        self.hsical = f.parsed("an HSICAL value (0..255)")?;
        self.hsi_measured_error_ppm = f.float()?;
        self.model_hsi_error_ppm = f.float()?;
        self.halted_before_enumeration = boolean(f)?;
        self.supply_current_ma = f.float()?;
        Ok(())
    }
}

impl Record for StepRow {
    const COLUMNS: &'static [&'static str] = &STEP_COLUMNS;

    fn decode(&mut self, record: &ByteRecord) -> Result<(), FieldError> {
        let f = &mut Fields::new(record);
        self.schema = f.required("a schema version")?;
        f.string(&mut self.started_utc)?;
        self.time_s = f.duration()?;
        f.string(&mut self.board)?;
        f.string(&mut self.phase)?;
        self.cycle = f.required("a cycle number")?;
        self.attempt = f.required("an attempt number")?;
        self.index = f.required("a step index")?;
        f.string(&mut self.step)?;
        self.try_number = f.required("a try number")?;
        self.outcome = outcome(f)?;
        self.error_kind = kind(f)?;
        self.error_class = class(f)?;
        f.string(&mut self.detail)?;
        self.elapsed_ms = f.duration()?;
        self.dfu_requests = f.required("a count")?;
        Ok(())
    }
}

/// The schema version in a record's first field, if it is a number.
pub(crate) fn schema_of(record: &ByteRecord) -> Option<u32> {
    std::str::from_utf8(record.get(0)?).ok()?.parse().ok()
}
