//! The generated flash test image: `image = { generate = 65536, seed = 0 }` in a scenario means this many
//! bytes from [`generate_image`]. Pure and deterministic, so a verify failure is always reproducible.

/// `size` bytes of a xorshift64* stream seeded with `seed`: no runs of 0xFF (which would look erased) and
/// different bytes at every offset, so a misplaced or dropped block cannot verify by accident.
pub fn generate_image(size: usize, seed: u64) -> Vec<u8> {
    let mut state = seed ^ 0x5DEE_CE66_D1CE_4E5B;
    let mut out = Vec::with_capacity(size + 8);
    while out.len() < size {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(size);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_sized_and_seeded() {
        let a = generate_image(65536, 0);
        assert_eq!(a.len(), 65536);
        assert_eq!(a, generate_image(65536, 0));
        assert_ne!(a, generate_image(65536, 1));
        assert_eq!(generate_image(13, 7), generate_image(64, 7)[..13]);
        assert!(a.windows(8).all(|w| w != [0xFF; 8]));
    }
}
