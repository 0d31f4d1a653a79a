//! Bounded, even and deterministic samples of points for the charts: a chart of a million cycles draws a few
//! thousand of them, the same ones for the same records.

/// Points kept for each chart.
pub const SAMPLE: usize = 4000;

/// Keeps every k-th item, doubling k (and halving what it holds) when full.
#[derive(Debug, Clone)]
pub struct Sample<T> {
    pub items: Vec<T>,
    stride: u64,
    seen: u64,
}

impl<T> Default for Sample<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            stride: 1,
            seen: 0,
        }
    }
}

impl<T> Sample<T> {
    pub fn push(&mut self, item: T) {
        if self.seen.is_multiple_of(self.stride) {
            if self.items.len() == SAMPLE {
                let mut i = 0;
                self.items.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
                self.stride *= 2;
            }
            if self.seen.is_multiple_of(self.stride) {
                self.items.push(item);
            }
        }
        self.seen += 1;
    }

    /// How many items were offered, kept or not.
    pub fn seen(&self) -> u64 {
        self.seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_bounded_and_even() {
        let mut s = Sample::default();
        (0..100_000u64).for_each(|i| s.push(i));
        assert!(s.items.len() <= SAMPLE && s.items.len() > SAMPLE / 2);
        let gaps: Vec<u64> = s.items.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.iter().all(|&g| g == gaps[0]));
        assert_eq!(s.seen(), 100_000);
    }
}
