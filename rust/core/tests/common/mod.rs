//! Helpers shared by the integration tests that include this module (`mod common;`).

use ferrotorch::io::zip::ZipWriter;

/// xorshift64*: a seeded, dependency-free stream for the mutation tests.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A zip checkpoint around the pickle `pkl` (`archive/data.pkl`, `archive/byteorder`),
/// plus one record `archive/<name>` per entry of `records`.
pub fn archive(pkl: &[u8], records: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = ZipWriter::new(Vec::new());
    w.write_record("archive/data.pkl", pkl).unwrap();
    w.write_record("archive/byteorder", b"little").unwrap();
    for (name, data) in records {
        w.write_record(&format!("archive/{name}"), data).unwrap();
    }
    w.finish().unwrap()
}
