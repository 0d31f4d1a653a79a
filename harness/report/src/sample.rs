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

    /// This sample followed by `later` (the items offered after this one's), thinned to one even stride:
    /// how samples of a file's chunks, read in parallel, become one.
    pub fn append(mut self, later: Sample<T>) -> Sample<T> {
        let stride = self.stride.max(later.stride);
        let offset = self.seen;
        let mut i = 0u64;
        self.items.retain(|_| {
            let keep = (i * self.stride).is_multiple_of(stride);
            i += 1;
            keep
        });
        let mut j = 0u64;
        let later_stride = later.stride;
        self.items.extend(later.items.into_iter().filter(|_| {
            // Even within each part; the seam between the parts may be off by less than one stride.
            let keep = (j * later_stride).is_multiple_of(stride);
            j += 1;
            keep
        }));
        let mut out = Sample {
            items: self.items,
            stride,
            seen: offset + later.seen,
        };
        while out.items.len() > SAMPLE {
            let mut k = 0;
            out.items.retain(|_| {
                k += 1;
                k % 2 == 1
            });
            out.stride *= 2;
        }
        out
    }

    /// The same sample with every item mapped.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Sample<U> {
        Sample {
            items: self.items.into_iter().map(f).collect(),
            stride: self.stride,
            seen: self.seen,
        }
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

    #[test]
    fn appending_keeps_it_bounded_and_deterministic() {
        let (mut a, mut b) = (Sample::default(), Sample::default());
        (0..30_000u64).for_each(|i| a.push(i));
        (30_000..100_000u64).for_each(|i| b.push(i));
        let ab = a.clone().append(b.clone());
        assert!(
            ab.items.len() <= SAMPLE && ab.items.len() > SAMPLE / 4,
            "{}",
            ab.items.len()
        );
        assert_eq!(ab.seen(), 100_000);
        assert!(ab.items.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(ab.items, a.append(b).items);
    }
}
