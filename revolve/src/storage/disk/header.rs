//! The header at the start of every checkpoint file, and the checks a reader runs on it.
//!
//! Layout (little-endian), in the first 64 bytes of a 4096-byte header page; the payload (the
//! state's bytes as stored) starts at byte 4096. Version 2 (written by this build):
//!
//! | bytes  | field                                              |
//! |--------|----------------------------------------------------|
//! | 0..8   | magic `RTRCCKPT`                                   |
//! | 8..12  | format version (2)                                 |
//! | 12..16 | flags (bit 0: the checkpoint is complete)          |
//! | 16..24 | step                                               |
//! | 24..32 | state length in bytes                              |
//! | 32..40 | payload offset (4096)                              |
//! | 40..44 | CRC-32 of the stored payload                       |
//! | 44..46 | codec (0 raw, 1 byte shuffle + zstd, 2 zfp)        |
//! | 46..48 | codec parameter (shuffle element width; zfp: i16   |
//! |        | accuracy exponent `minexp`, error bound 2^minexp)  |
//! | 48..56 | stored payload length (the state length when raw)  |
//! | 56..60 | zero                                               |
//! | 60..64 | CRC-32 of bytes 0..60                              |
//!
//! Version 1 (read, never written) has no codec: bytes 44..48 hold the CRC-32 of bytes 0..44
//! and the payload is the raw state.

/// Magic bytes opening every checkpoint file.
pub const MAGIC: [u8; 8] = *b"RTRCCKPT";
/// Format version this build writes (it also reads version 1, the raw format before codecs).
pub const VERSION: u32 = 2;
/// Bytes of the encoded header.
pub const HEADER_LEN: usize = 64;
/// Byte offset of the payload: the header owns the first page.
pub const PAYLOAD_OFFSET: u64 = 4096;

const FLAG_COMPLETE: u32 = 1;

/// How a payload is stored: a codec id and its parameter, as recorded in the header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Wire {
    pub id: u16,
    pub param: u16,
}

impl Wire {
    /// The raw state bytes.
    pub(crate) const RAW: Wire = Wire { id: 0, param: 0 };
    /// Byte shuffle with element width `param`, then zstd.
    pub(crate) const SHUFFLE_ZSTD: u16 = 1;
    /// zfp fixed accuracy (lossy), `param` the accuracy exponent as an `i16`. Known to every
    /// build: one without the `zfp` feature names it when asked to decode it.
    pub(crate) const ZFP: u16 = 2;

    fn check(self) -> Result<(), String> {
        match (self.id, self.param) {
            (0, 0) => Ok(()),
            (Self::SHUFFLE_ZSTD, 1..=255) => Ok(()),
            (Self::ZFP, p) if (-1074..=1023).contains(&(p as i16)) => Ok(()),
            (Self::ZFP, p) => Err(format!(
                "zfp accuracy exponent {} out of range -1074..=1023",
                p as i16
            )),
            (id, param) => Err(format!(
                "unknown codec {id} (parameter {param}): written by a newer build?"
            )),
        }
    }
}

/// A decoded header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub step: u64,
    /// Bytes of the state.
    pub payload_len: u64,
    /// CRC-32 of the stored bytes.
    pub payload_crc: u32,
    pub complete: bool,
    pub codec: Wire,
    /// Bytes stored (`payload_len` when raw).
    pub stored_len: u64,
}

/// What room a file gives its payload, for the length check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Room {
    /// A slot file: room for the raw state, whatever is stored in it.
    Slot,
    /// A single checkpoint file: exactly the stored bytes.
    Exact,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
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
    /// A header of raw (uncompressed) bytes.
    pub(crate) fn raw(step: u64, payload_len: u64, payload_crc: u32, complete: bool) -> Header {
        Header {
            step,
            payload_len,
            payload_crc,
            complete,
            codec: Wire::RAW,
            stored_len: payload_len,
        }
    }

    /// Write the header (version 2) into `out[..HEADER_LEN]`.
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
        out[44..46].copy_from_slice(&self.codec.id.to_le_bytes());
        out[46..48].copy_from_slice(&self.codec.param.to_le_bytes());
        out[48..56].copy_from_slice(&self.stored_len.to_le_bytes());
        out[56..60].fill(0);
        let hcrc = crc32fast::hash(&out[0..60]);
        out[60..64].copy_from_slice(&hcrc.to_le_bytes());
    }

    /// Decode and check the header in `bytes` (the start of a file, version 1 or 2): magic,
    /// version, header checksum, payload offset and codec. The reason is returned on failure.
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
        let crc_at = match version {
            1 => 44,
            2 => 60,
            _ => {
                return Err(format!(
                    "unsupported format version {version} (this build reads versions 1 and \
                     {VERSION})"
                ));
            }
        };
        let stored = u32_at(bytes, crc_at);
        let computed = crc32fast::hash(&bytes[0..crc_at]);
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
        let payload_len = u64_at(bytes, 24);
        let (codec, stored_len) = if version == 1 {
            (Wire::RAW, payload_len)
        } else {
            let w = Wire {
                id: u16_at(bytes, 44),
                param: u16_at(bytes, 46),
            };
            w.check()?;
            (w, u64_at(bytes, 48))
        };
        if codec == Wire::RAW && stored_len != payload_len {
            return Err(format!(
                "raw payload of {stored_len} bytes for a state of {payload_len}"
            ));
        }
        if stored_len > payload_len {
            return Err(format!(
                "{stored_len} stored bytes for a state of {payload_len}: never written so"
            ));
        }
        Ok(Header {
            step: u64_at(bytes, 16),
            payload_len,
            payload_crc: u32_at(bytes, 40),
            complete: u32_at(bytes, 12) & FLAG_COMPLETE != 0,
            codec,
            stored_len,
        })
    }

    /// Check a decoded header against what the reader expects and the file's length.
    pub(super) fn check(
        &self,
        file_len: u64,
        expected_step: Option<u64>,
        expected_len: Option<u64>,
        room: Room,
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
        let room_len = match room {
            Room::Slot => self.payload_len,
            Room::Exact => self.stored_len,
        };
        let total =
            file_size(room_len).ok_or_else(|| format!("payload length {room_len} overflows"))?;
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
        Header::raw(42, 800, 0xdead_beef, true)
    }

    fn packed() -> Header {
        Header {
            codec: Wire {
                id: Wire::SHUFFLE_ZSTD,
                param: 8,
            },
            stored_len: 300,
            ..sample()
        }
    }

    /// A version-1 header as builds before codecs wrote it.
    fn encode_v1(h: &Header, out: &mut [u8; HEADER_LEN]) {
        out.fill(0);
        out[0..8].copy_from_slice(&MAGIC);
        out[8..12].copy_from_slice(&1u32.to_le_bytes());
        out[12..16].copy_from_slice(&u32::from(h.complete).to_le_bytes());
        out[16..24].copy_from_slice(&h.step.to_le_bytes());
        out[24..32].copy_from_slice(&h.payload_len.to_le_bytes());
        out[32..40].copy_from_slice(&PAYLOAD_OFFSET.to_le_bytes());
        out[40..44].copy_from_slice(&h.payload_crc.to_le_bytes());
        let c = crc32fast::hash(&out[0..44]);
        out[44..48].copy_from_slice(&c.to_le_bytes());
    }

    #[test]
    fn round_trip() {
        for h in [sample(), packed()] {
            let mut b = [0u8; HEADER_LEN];
            h.encode(&mut b);
            assert_eq!(Header::decode(&b).unwrap(), h);
        }
        assert!(
            sample()
                .check(4096 + 800, Some(42), Some(800), Room::Exact)
                .is_ok()
        );
        assert!(
            packed()
                .check(4096 + 300, Some(42), Some(800), Room::Exact)
                .is_ok()
        );
        assert!(
            packed()
                .check(4096 + 800, Some(42), Some(800), Room::Slot)
                .is_ok()
        );
        assert!(packed().check(4096 + 800, None, None, Room::Exact).is_err());
    }

    #[test]
    fn version_1_headers_still_read() {
        let mut b = [0u8; HEADER_LEN];
        encode_v1(&sample(), &mut b);
        assert_eq!(Header::decode(&b).unwrap(), sample());
        let mut d = b;
        d[20] ^= 1;
        assert!(Header::decode(&d).unwrap_err().contains("header checksum"));
    }

    #[test]
    fn every_damaged_header_byte_is_caught() {
        for h in [sample(), packed()] {
            let mut b = [0u8; HEADER_LEN];
            h.encode(&mut b);
            for i in 0..HEADER_LEN {
                let mut d = b;
                d[i] ^= 0x10;
                assert!(
                    Header::decode(&d).is_err(),
                    "byte {i} flipped went unnoticed"
                );
            }
        }
    }

    #[test]
    fn unknown_codecs_and_impossible_lengths_are_refused() {
        let bad = |h: Header| {
            let mut b = [0u8; HEADER_LEN];
            h.encode(&mut b);
            Header::decode(&b).unwrap_err()
        };
        let p = packed();
        assert!(
            bad(Header {
                codec: Wire { id: 9, param: 8 },
                ..p
            })
            .contains("unknown codec 9")
        );
        assert!(
            bad(Header {
                codec: Wire { id: 1, param: 0 },
                ..p
            })
            .contains("unknown codec")
        );
        assert!(
            bad(Header {
                stored_len: 801,
                ..p
            })
            .contains("801 stored bytes")
        );
        // zfp: any exponent zfp takes (known to every build, with the feature or not).
        for minexp in [-1074i16, -27, 0, 1023] {
            let h = Header {
                codec: Wire {
                    id: Wire::ZFP,
                    param: minexp as u16,
                },
                ..p
            };
            let mut b = [0u8; HEADER_LEN];
            h.encode(&mut b);
            assert_eq!(Header::decode(&b).unwrap(), h);
        }
        for minexp in [-1075i16, 1024, i16::MIN, i16::MAX] {
            let codec = Wire {
                id: Wire::ZFP,
                param: minexp as u16,
            };
            assert!(bad(Header { codec, ..p }).contains("zfp accuracy exponent"));
        }
        assert!(
            bad(Header {
                stored_len: 10,
                ..sample()
            })
            .contains("raw payload")
        );
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
        let e = Room::Exact;
        assert!(
            h.check(4896, Some(41), None, e)
                .unwrap_err()
                .contains("step 42")
        );
        assert!(
            h.check(4896, None, Some(8), e)
                .unwrap_err()
                .contains("800 bytes")
        );
        assert!(
            h.check(4000, None, None, e)
                .unwrap_err()
                .contains("truncated")
        );
        assert!(h.check(5000, None, None, e).unwrap_err().contains("5000"));
        let inc = Header {
            complete: false,
            ..h
        };
        assert!(
            inc.check(4896, None, None, e)
                .unwrap_err()
                .contains("incomplete")
        );
    }
}
