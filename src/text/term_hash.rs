//! 64-bit term hashes that can be computed piece by piece.
//!
//! Featurizing looks every term of every text up in the vocabulary. Hashing a term from its parts
//! (a bigram from its first stem's hash, a space and the second stem; a character n-gram one
//! character at a time) finds its column without building the term as a string. The hash is
//! 64-bit FNV-1a: it works byte by byte, so hashing `"a b"` whole and hashing `"a"`, then `" "`,
//! then `"b"` give the same value, which is what lets the vocabulary's strings (hashed whole on
//! load) and the terms of new text (hashed piece by piece) meet.

/// The state of a term hash; [`TermHash::value`] is the hash of everything written so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TermHash(u64);

const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

impl Default for TermHash {
    fn default() -> Self {
        TermHash(OFFSET_BASIS)
    }
}

impl TermHash {
    /// Continues the hash whose value so far is `value`.
    pub fn resume(value: u64) -> TermHash {
        TermHash(value)
    }

    /// Appends `bytes`.
    #[inline]
    pub fn write(mut self, bytes: &[u8]) -> TermHash {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(PRIME);
        }
        self
    }

    /// The hash of everything written so far.
    pub fn value(self) -> u64 {
        self.0
    }
}

/// The hash of a whole term.
pub fn hash_term(term: &str) -> u64 {
    TermHash::default().write(term.as_bytes()).value()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn piecewise_hashing_equals_whole_hashing() {
        let whole = hash_term("protest against");
        let first = hash_term("protest");
        let pieced = TermHash::resume(first)
            .write(b" ")
            .write(b"against")
            .value();
        assert_eq!(whole, pieced);
        assert_ne!(hash_term("ab"), hash_term("ba"));
        // The published FNV-1a 64 test vector.
        assert_eq!(hash_term("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
