//! Numeric vectors stored in a model file as one run of little-endian bytes.
//!
//! Serde writes a `Vec<f64>` element by element and reads it back one element at a time into a
//! vector that grows as it goes (serde caps the up-front allocation, so a large vector is moved
//! several times while it grows). A model's weights are millions of numbers: stored as one byte
//! string, they are read with their length known, in one pass.
//!
//! Use with `#[serde(with = "crate::packed")]` on a `Vec<f64>` or `Vec<u64>` field.

use serde::de::{Error, Visitor};
use serde::{Deserializer, Serializer};

/// A number stored as its little-endian bytes.
pub trait LittleEndian: Copy {
    /// Bytes per number.
    const WIDTH: usize;
    /// Appends the number's bytes to `out`.
    fn put(self, out: &mut Vec<u8>);
    /// The number whose bytes are `bytes` (`WIDTH` of them).
    fn get(bytes: &[u8]) -> Self;
}

macro_rules! little_endian {
    ($($t:ty),*) => {$(
        impl LittleEndian for $t {
            const WIDTH: usize = std::mem::size_of::<$t>();
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn get(bytes: &[u8]) -> Self {
                <$t>::from_le_bytes(bytes.try_into().expect("WIDTH bytes"))
            }
        }
    )*};
}

little_endian!(f64, u64);

/// Writes `values` as one byte string, each value's little-endian bytes in order.
pub fn serialize<T: LittleEndian, S: Serializer>(
    values: &[T],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut bytes = Vec::with_capacity(values.len() * T::WIDTH);
    for &v in values {
        v.put(&mut bytes);
    }
    serializer.serialize_bytes(&bytes)
}

/// Reads what [`serialize`] wrote.
pub fn deserialize<'de, T: LittleEndian, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<T>, D::Error> {
    deserializer.deserialize_bytes(Numbers(std::marker::PhantomData))
}

struct Numbers<T>(std::marker::PhantomData<T>);

impl<T: LittleEndian> Visitor<'_> for Numbers<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(
            f,
            "a byte string of {}-byte little-endian numbers",
            T::WIDTH
        )
    }

    fn visit_bytes<E: Error>(self, bytes: &[u8]) -> Result<Vec<T>, E> {
        if !bytes.len().is_multiple_of(T::WIDTH) {
            return Err(E::custom(format!(
                "{} bytes of numbers, not a multiple of {}",
                bytes.len(),
                T::WIDTH
            )));
        }
        Ok(bytes.chunks_exact(T::WIDTH).map(T::get).collect())
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Holder {
        #[serde(with = "super")]
        floats: Vec<f64>,
        #[serde(with = "super")]
        hashes: Vec<u64>,
        after: u8,
    }

    #[test]
    fn numbers_survive_a_round_trip_bit_for_bit() {
        let holder = Holder {
            floats: vec![
                0.0,
                -0.0,
                1.5,
                f64::MIN_POSITIVE,
                -3e300,
                f64::INFINITY,
                f64::NAN,
            ],
            hashes: vec![0, 1, u64::MAX, 0xaf63_dc4c_8601_ec8c],
            after: 7,
        };
        let bytes = postcard::to_stdvec(&holder).unwrap();
        // Each vector: a one-byte length, then 8 bytes per number; then the last field.
        assert_eq!(bytes.len(), (1 + 56) + (1 + 32) + 1);
        let back: Holder = postcard::from_bytes(&bytes).unwrap();
        let bits = |h: &Holder| h.floats.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(&holder));
        assert_eq!(back.hashes, holder.hashes);
        assert_eq!(back.after, 7);
        let empty = Holder {
            floats: Vec::new(),
            hashes: Vec::new(),
            after: 0,
        };
        let back: Holder = postcard::from_bytes(&postcard::to_stdvec(&empty).unwrap()).unwrap();
        assert_eq!(back, empty);
    }

    #[test]
    fn a_length_that_is_not_whole_numbers_is_refused() {
        // A 5-byte string where floats are expected.
        let bytes = [5u8, 1, 2, 3, 4, 5, 0, 0];
        let err = postcard::from_bytes::<Holder>(&bytes).unwrap_err();
        assert!(matches!(err, postcard::Error::SerdeDeCustom), "{err:?}");
    }
}
