//! The header at the start of every checkpoint file, and the checks a reader runs on it.
//!
//! Layout (little-endian), in the first 64 bytes of a 4096-byte header page; the payload (the
//! state's raw bytes) starts at byte 4096:
//!
//! | bytes  | field                                   |
//! |--------|-----------------------------------------|
//! | 0..8   | magic `RTRCCKPT`                        |
//! | 8..12  | format version (1)                      |
//! | 12..16 | flags (bit 0: the checkpoint is complete)|
//! | 16..24 | step                                    |
//! | 24..32 | payload length in bytes                 |
//! | 32..40 | payload offset (4096)                   |
//! | 40..44 | CRC-32 of the payload                   |
//! | 44..48 | CRC-32 of bytes 0..44                   |

/// Magic bytes opening every checkpoint file.
pub const MAGIC: [u8; 8] = *b"RTRCCKPT";
/// Format version this build writes and reads.
pub const VERSION: u32 = 1;
/// Bytes of the encoded header.
pub const HEADER_LEN: usize = 64;
/// Byte offset of the payload: the header owns the first page.
pub const PAYLOAD_OFFSET: u64 = 4096;

const FLAG_COMPLETE: u32 = 1;

/// A decoded header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub step: u64,
    pub payload_len: u64,
    pub payload_crc: u32,
    pub complete: bool,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

impl Header {
    /// Write the header into `out[..HEADER_LEN]`.
    pub(super) fn encode(&self, out: &mut [u8]) {
        let out = &mut out[..HEADER_LEN];
        out[0..8].copy_from_slice(&MAGIC);
        out[8..12].copy_from_slice(&VERSION.to_le_bytes());
        let flags = if self.complete { FLAG_COMPLETE } else { 0 };
        out[12..16].copy_from_slice(&flags.to_le_bytes());
        out[16..24].copy_from_slice(&self.step.to_le_bytes());
        out[24..32].copy_from_slice(&self.payload_len.to_le_bytes());
        out[32..40].copy_from_slice(&PAYLOAD_OFFSET.to_le_bytes());
        out[40..44].copy_from_slice(&self.payload_crc.to_le_bytes());
        let hcrc = crc32fast::hash(&out[0..44]);
        out[44..48].copy_from_slice(&hcrc.to_le_bytes());
        out[48..].fill(0);
    }

    /// Decode and check the header in `bytes` (the start of a file): magic, version, header
    /// checksum and payload offset. The reason is returned on failure.
    pub(super) fn decode(bytes: &[u8]) -> Result<Header, String> {
        if bytes.len() < HEADER_LEN {
            return Err(format!(
                "truncated: {} bytes, shorter than the {HEADER_LEN}-byte header",
                bytes.len()
            ));
        }
        if bytes[0..8] != MAGIC {
            return Err(format!(
                "bad magic {:02x?}: not a retrace checkpoint file",
                &bytes[0..8]
            ));
        }
        let version = u32_at(bytes, 8);
        if version != VERSION {
            return Err(format!(
                "unsupported format version {version} (this build reads version {VERSION})"
            ));
        }
        let stored = u32_at(bytes, 44);
        let computed = crc32fast::hash(&bytes[0..44]);
        if stored != computed {
            return Err(format!(
                "header checksum mismatch (stored {stored:08x}, computed {computed:08x})"
            ));
        }
        let offset = u64_at(bytes, 32);
        if offset != PAYLOAD_OFFSET {
            return Err(format!(
                "payload offset {offset}, this build expects {PAYLOAD_OFFSET}"
            ));
        }
        Ok(Header {
            step: u64_at(bytes, 16),
            payload_len: u64_at(bytes, 24),
            payload_crc: u32_at(bytes, 40),
            complete: u32_at(bytes, 12) & FLAG_COMPLETE != 0,
        })
    }

    /// Check a decoded header against what the reader expects and the file's length.
    pub(super) fn check(
        &self,
        file_len: u64,
        expected_step: Option<u64>,
        expected_len: Option<u64>,
    ) -> Result<(), String> {
        if !self.complete {
            return Err("incomplete checkpoint: its write did not finish or it was freed".into());
        }
        if let Some(want) = expected_step
            && self.step != want
        {
            return Err(format!("holds step {}, expected step {want}", self.step));
        }
        if let Some(want) = expected_len
            && self.payload_len != want
        {
            return Err(format!(
                "payload has {} bytes, expected {want}",
                self.payload_len
            ));
        }
        let total = file_size(self.payload_len)
            .ok_or_else(|| format!("payload length {} overflows", self.payload_len))?;
        if file_len < total {
            return Err(format!(
                "truncated: {file_len} bytes, the header promises {total}"
            ));
        }
        if file_len > total {
            return Err(format!(
                "file has {file_len} bytes, the header promises {total}"
            ));
        }
        Ok(())
    }
}

/// Total file size for a payload of `payload_len` bytes.
pub(crate) fn file_size(payload_len: u64) -> Option<u64> {
    PAYLOAD_OFFSET.checked_add(payload_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Header {
        Header {
            step: 42,
            payload_len: 800,
            payload_crc: 0xdead_beef,
            complete: true,
        }
    }

    #[test]
    fn round_trip() {
        let mut b = [0u8; HEADER_LEN];
        sample().encode(&mut b);
        assert_eq!(Header::decode(&b).unwrap(), sample());
        assert!(sample().check(4096 + 800, Some(42), Some(800)).is_ok());
    }

    #[test]
    fn every_damaged_header_byte_is_caught() {
        let mut b = [0u8; HEADER_LEN];
        sample().encode(&mut b);
        for i in 0..48 {
            let mut d = b;
            d[i] ^= 0x10;
            assert!(
                Header::decode(&d).is_err(),
                "byte {i} flipped went unnoticed"
            );
        }
    }

    #[test]
    fn checks_name_the_problem() {
        let mut b = [0u8; HEADER_LEN];
        sample().encode(&mut b);
        assert!(Header::decode(&b[..10]).unwrap_err().contains("truncated"));
        let mut d = b;
        d[0] = b'X';
        assert!(Header::decode(&d).unwrap_err().contains("magic"));
        let mut d = b;
        d[8] = 7;
        assert!(Header::decode(&d).unwrap_err().contains("version 7"));
        let h = sample();
        assert!(
            h.check(4896, Some(41), None)
                .unwrap_err()
                .contains("step 42")
        );
        assert!(
            h.check(4896, None, Some(8))
                .unwrap_err()
                .contains("800 bytes")
        );
        assert!(h.check(4000, None, None).unwrap_err().contains("truncated"));
        assert!(h.check(5000, None, None).unwrap_err().contains("5000"));
        let inc = Header {
            complete: false,
            ..h
        };
        assert!(
            inc.check(4896, None, None)
                .unwrap_err()
                .contains("incomplete")
        );
    }
}
