//! Compressed disk checkpoints (byte shuffle + zstd): bitwise round trips in every mode, fewer
//! bytes written, any reader decoding any codec without being told, damage reported with the
//! path, and version-1 (pre-codec) files still read.

use revolve::storage::disk::checkpoint_file::{
    read_checkpoint, verify_checkpoint, write_checkpoint, write_checkpoint_coded,
};
use revolve::storage::disk::{Codec, DiskStore, DiskStoreBuilder, MAGIC, PAYLOAD_OFFSET};
use revolve::{CheckpointStore, Error};
use std::path::Path;

type Mode = fn(DiskStoreBuilder) -> DiskStoreBuilder;

const MODES: [(&str, Mode); 3] = [
    ("background", |b| b),
    ("background-no-prefetch", |b| b.prefetch_buffers(0)),
    ("sync", |b| b.background(false)),
];

/// A smooth field (compresses) with a few awkward values (NaN payload, -0, subnormal, inf).
fn field(n: usize, seed: u64) -> Vec<f64> {
    let mut x: Vec<f64> = (0..n)
        .map(|i| (i as f64 * 1e-3 + seed as f64).sin())
        .collect();
    x[1] = f64::from_bits(0x7ff8_0000_dead_beef ^ seed);
    x[2] = -0.0;
    x[3] = f64::from_bits(7);
    x[4] = f64::INFINITY;
    x
}

fn bits(x: &[f64]) -> Vec<u64> {
    x.iter().map(|v| v.to_bits()).collect()
}

/// Flip one bit in place (no truncation: the file may be mapped).
fn flip(path: &Path, at: usize) {
    use std::io::{Seek, SeekFrom, Write};
    let b = std::fs::read(path).unwrap()[at] ^ 0x01;
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(at as u64)).unwrap();
    f.write_all(&[b]).unwrap();
}

fn assert_corrupt(e: &Error, path: &Path, needle: &str) {
    match e {
        Error::Corrupt { path: p, reason } => {
            assert_eq!(p, path);
            assert!(reason.contains(needle), "{reason:?} lacks {needle:?}");
        }
        other => panic!("expected Corrupt for {}, got {other}", path.display()),
    }
}

#[test]
fn compressed_store_round_trips_bitwise_and_writes_fewer_bytes() {
    let root = tempfile::tempdir().unwrap();
    for (name, mode) in MODES {
        for codec in [
            Codec::zstd(),
            Codec::ShuffleZstd {
                typesize: 1,
                level: 3,
            },
        ] {
            let x0 = field(20_000, 0);
            let mut s = mode(DiskStore::builder(3).temp_in(root.path()).codec(codec))
                .build(&x0)
                .unwrap();
            for step in 0..3 {
                s.store(step, &field(20_000, step)).unwrap();
            }
            s.prefetch(1).unwrap();
            for step in [1, 0, 2] {
                let mut y = vec![0.0; 20_000];
                s.restore(step, &mut y).unwrap();
                assert_eq!(bits(&y), bits(&field(20_000, step)), "{name} {codec}");
            }
            s.sync().unwrap();
            let st = s.stats();
            let raw = 3 * 20_000 * 8;
            assert!(
                // Shuffled smooth fields shrink by more than 10%; unshuffled ones still shrink.
                if codec == Codec::zstd() {
                    st.bytes_written * 10 < raw * 9
                } else {
                    st.bytes_written < raw
                },
                "{name} {codec}: {} of {raw} bytes",
                st.bytes_written
            );
            s.close().unwrap();
        }
    }
}

#[test]
fn incompressible_states_are_stored_raw_and_read_back() {
    let root = tempfile::tempdir().unwrap();
    let mut z = 0x2545_f491_4f6c_dd1du64;
    let x: Vec<u64> = (0..5000)
        .map(|_| {
            z ^= z << 13;
            z ^= z >> 7;
            z ^= z << 17;
            z
        })
        .collect();
    let mut s = DiskStore::builder(1)
        .temp_in(root.path())
        .codec(Codec::zstd())
        .background(false)
        .build(&x)
        .unwrap();
    s.store(4, &x).unwrap();
    assert_eq!(s.stats().bytes_written, 40_000);
    let mut y = vec![0u64; 5000];
    s.take(4, &mut y).unwrap();
    assert_eq!(x, y);
}

#[test]
fn a_reopened_store_reads_compressed_checkpoints_without_being_told() {
    let dir = tempfile::tempdir().unwrap();
    let x = field(8000, 5);
    let mut s = DiskStore::builder(2)
        .dir(dir.path())
        .keep_files(true)
        .codec(Codec::zstd())
        .build(&x)
        .unwrap();
    s.store(9, &x).unwrap();
    s.close().unwrap();
    // No codec given: the header says how the bytes are stored.
    let mut again = DiskStore::open_existing(dir.path(), &x).unwrap();
    let mut y = vec![0.0; 8000];
    again.restore(9, &mut y).unwrap();
    assert_eq!(bits(&y), bits(&x));
    // New writes of this store are raw, the old compressed one still reads.
    again.store(10, &y).unwrap();
    again.sync().unwrap();
    assert_eq!(again.stats().bytes_written, 64_000);
}

#[test]
fn damaged_compressed_checkpoints_are_named_by_path() {
    let root = tempfile::tempdir().unwrap();
    for (name, mode) in MODES {
        let x = field(10_000, 1);
        let mut s = mode(
            DiskStore::builder(1)
                .temp_in(root.path())
                .codec(Codec::zstd()),
        )
        .build(&x)
        .unwrap();
        s.store(3, &x).unwrap();
        s.sync().unwrap();
        let path = s.path_of(3).unwrap().to_path_buf();
        flip(&path, PAYLOAD_OFFSET as usize + 40);
        s.prefetch(3).unwrap();
        let mut y = vec![0.0; 10_000];
        let e = s.restore(3, &mut y).unwrap_err();
        assert_corrupt(&e, &path, "payload checksum mismatch");
        let _ = name;
    }
}

#[test]
fn compressed_checkpoint_files_round_trip_and_report_damage() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.ckpt");
    let x = field(30_000, 2);
    write_checkpoint_coded(&p, 77, &x, Codec::zstd()).unwrap();
    let info = verify_checkpoint(&p).unwrap();
    assert_eq!((info.step, info.payload_len), (77, 240_000));
    assert!(info.stored_len < 216_000, "{info:?}");
    assert_eq!(
        std::fs::metadata(&p).unwrap().len(),
        PAYLOAD_OFFSET + info.stored_len
    );
    let mut y = vec![0.0; 30_000];
    assert_eq!(read_checkpoint(&p, &mut y).unwrap(), 77);
    assert_eq!(bits(&y), bits(&x));
    // Damage in the compressed payload, a truncated file, a wrong-size state.
    flip(&p, PAYLOAD_OFFSET as usize + 100);
    assert_corrupt(&read_checkpoint(&p, &mut y).unwrap_err(), &p, "checksum");
    write_checkpoint_coded(&p, 78, &x, Codec::zstd()).unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
    f.set_len(PAYLOAD_OFFSET + info.stored_len - 1).unwrap();
    assert_corrupt(&verify_checkpoint(&p).unwrap_err(), &p, "truncated");
    write_checkpoint_coded(&p, 79, &x, Codec::zstd()).unwrap();
    assert_corrupt(
        &read_checkpoint(&p, &mut vec![0.0; 3]).unwrap_err(),
        &p,
        "expected 24",
    );
    assert!(matches!(
        write_checkpoint_coded(
            &p,
            1,
            &x,
            Codec::ShuffleZstd {
                typesize: 0,
                level: 1
            }
        ),
        Err(Error::Usage(_))
    ));
}

/// The bytes of a version-1 checkpoint file (the format before codecs) holding `x` at `step`.
fn version_1_file(step: u64, x: &[f64]) -> Vec<u8> {
    let payload: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
    let mut f = vec![0u8; PAYLOAD_OFFSET as usize];
    f[0..8].copy_from_slice(&MAGIC);
    f[8..12].copy_from_slice(&1u32.to_le_bytes());
    f[12..16].copy_from_slice(&1u32.to_le_bytes()); // complete
    f[16..24].copy_from_slice(&step.to_le_bytes());
    f[24..32].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    f[32..40].copy_from_slice(&PAYLOAD_OFFSET.to_le_bytes());
    f[40..44].copy_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    let h = crc32fast::hash(&f[0..44]);
    f[44..48].copy_from_slice(&h.to_le_bytes());
    f.extend_from_slice(&payload);
    f
}

#[test]
fn version_1_files_and_slots_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let x = field(1000, 4);
    let p = dir.path().join("old.ckpt");
    std::fs::write(&p, version_1_file(12, &x)).unwrap();
    let mut y = vec![0.0; 1000];
    assert_eq!(read_checkpoint(&p, &mut y).unwrap(), 12);
    assert_eq!(bits(&y), bits(&x));
    flip(&p, PAYLOAD_OFFSET as usize + 8);
    assert_corrupt(&read_checkpoint(&p, &mut y).unwrap_err(), &p, "checksum");
    // A kept store's slot file in version 1, reopened.
    let kept = dir.path().join("kept");
    std::fs::create_dir(&kept).unwrap();
    std::fs::write(kept.join("slot-0.ckpt"), version_1_file(30, &x)).unwrap();
    let mut s = DiskStore::open_existing(&kept, &x).unwrap();
    let mut z = vec![0.0; 1000];
    s.take(30, &mut z).unwrap();
    assert_eq!(bits(&z), bits(&x));
    // This build writes version 2.
    let q = dir.path().join("new.ckpt");
    write_checkpoint(&q, 1, &x).unwrap();
    assert_eq!(std::fs::read(&q).unwrap()[8], 2);
}

#[test]
fn codec_names_parse_and_bad_ones_are_usage_errors() {
    assert_eq!("zstd:3".parse::<Codec>().unwrap().to_string(), "zstd:3");
    assert!(matches!("zstd:100".parse::<Codec>(), Err(Error::Usage(_))));
    let x = vec![0.0f64; 10];
    let e = DiskStore::builder(1)
        .codec(Codec::ShuffleZstd {
            typesize: 0,
            level: 1,
        })
        .build(&x)
        .unwrap_err();
    assert!(matches!(e, Error::Usage(_)), "{e}");
}
