//! Lossy fixed-accuracy (zfp) disk checkpoints. With the `zfp` feature: every value restored
//! within the tolerance, element by element, for smooth and rough fields in every store mode
//! and in checkpoint files; the exponent in the header, read back without options; non-finite
//! states stored raw and restored bitwise; bad lengths and names refused; no allocation per
//! checkpoint after the first. Without it: `zfp:TOL` refused naming the feature, and a zfp
//! checkpoint file refused naming the file and the feature.

use revolve::storage::disk::Codec;
use revolve::storage::disk::checkpoint_file::read_checkpoint;
use revolve::{Error, storage::disk::MAGIC, storage::disk::PAYLOAD_OFFSET};
use std::path::Path;

/// A version-2 checkpoint file of the zfp codec (exponent `minexp`) holding `stored` as its
/// payload for a state of `state_len` bytes, written byte by byte as the format says.
fn zfp_file(path: &Path, step: u64, state_len: u64, minexp: i16, stored: &[u8]) {
    let mut f = vec![0u8; PAYLOAD_OFFSET as usize];
    f[0..8].copy_from_slice(&MAGIC);
    f[8..12].copy_from_slice(&2u32.to_le_bytes());
    f[12..16].copy_from_slice(&1u32.to_le_bytes()); // complete
    f[16..24].copy_from_slice(&step.to_le_bytes());
    f[24..32].copy_from_slice(&state_len.to_le_bytes());
    f[32..40].copy_from_slice(&PAYLOAD_OFFSET.to_le_bytes());
    f[40..44].copy_from_slice(&crc32fast::hash(stored).to_le_bytes());
    f[44..46].copy_from_slice(&2u16.to_le_bytes());
    f[46..48].copy_from_slice(&minexp.to_le_bytes());
    f[48..56].copy_from_slice(&(stored.len() as u64).to_le_bytes());
    let h = crc32fast::hash(&f[0..60]);
    f[60..64].copy_from_slice(&h.to_le_bytes());
    f.extend_from_slice(stored);
    std::fs::write(path, f).unwrap();
}

#[test]
fn lossy_names_are_refused_where_bits_must_survive() {
    for name in ["zfp:1e-6", " zfp:1e-6", "zfp", "zfp:x"] {
        let e = Codec::parse_lossless(name).unwrap_err();
        assert!(e.to_string().contains("lossy"), "{name}: {e}");
    }
    assert_eq!(
        Codec::parse_lossless("zstd:3").unwrap().to_string(),
        "zstd:3"
    );
    assert_eq!(Codec::parse_lossless("none").unwrap(), Codec::None);
}

#[cfg(not(feature = "zfp"))]
mod without_the_feature {
    use super::*;
    use revolve::DiskStore;

    #[test]
    fn zfp_is_refused_naming_the_feature() {
        for e in [
            "zfp:1e-6".parse::<Codec>().unwrap_err(),
            Codec::zfp(1e-6).unwrap_err(),
            DiskStore::builder(1)
                .codec(Codec::Zfp { minexp: -20 })
                .build(&vec![0.0f64; 8])
                .unwrap_err(),
        ] {
            assert!(matches!(e, Error::Usage(_)), "{e}");
            assert!(e.to_string().contains("`zfp` cargo feature"), "{e}");
        }
    }

    #[test]
    fn a_zfp_checkpoint_is_refused_naming_the_file_and_the_feature() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lossy.ckpt");
        zfp_file(&p, 5, 800, -20, &[0x5a; 64]);
        let e = read_checkpoint(&p, &mut vec![0.0f64; 100]).unwrap_err();
        match &e {
            Error::MissingFeature {
                path,
                codec,
                feature,
            } => {
                assert_eq!(path, &p);
                assert_eq!((*codec, *feature), ("zfp", "zfp"));
            }
            other => panic!("expected MissingFeature, got {other}"),
        }
        let text = e.to_string();
        assert!(text.contains(&p.display().to_string()), "{text}");
        assert!(text.contains("`zfp` cargo feature"), "{text}");
        assert!(!text.contains("unknown codec"), "{text}");
    }
}

#[cfg(feature = "zfp")]
mod with_the_feature {
    use super::*;
    use crate::counting::thread_allocs;
    use revolve::CheckpointStore;
    use revolve::storage::disk::checkpoint_file::{verify_checkpoint, write_checkpoint_coded};
    use revolve::storage::disk::{DiskStore, DiskStoreBuilder};

    type Mode = fn(DiskStoreBuilder) -> DiskStoreBuilder;

    const MODES: [(&str, Mode); 3] = [
        ("background", |b| b),
        ("background-no-prefetch", |b| b.prefetch_buffers(0)),
        ("sync", |b| b.background(false)),
    ];

    const N: usize = 20_000;

    /// A smooth field (a few waves, amplitude ~3).
    fn smooth(n: usize, seed: u64) -> Vec<f64> {
        (0..n)
            .map(|i| {
                let x = i as f64 / n as f64 + seed as f64 * 0.1;
                3.0 * (6.0 * x).sin() + (40.0 * x).cos() * 0.2
            })
            .collect()
    }

    /// A rough field: independent uniform values in [-1000, 1000).
    fn rough(n: usize, seed: u64) -> Vec<f64> {
        let mut z = 0x9e37_79b9_7f4a_7c15u64 ^ seed.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (0..n)
            .map(|_| {
                z ^= z << 13;
                z ^= z >> 7;
                z ^= z << 17;
                (z >> 11) as f64 / (1u64 << 53) as f64 * 2000.0 - 1000.0
            })
            .collect()
    }

    fn bits(x: &[f64]) -> Vec<u64> {
        x.iter().map(|v| v.to_bits()).collect()
    }

    /// Every value of `y` within `tol` of `x`: the largest error otherwise the first offender.
    fn assert_within(x: &[f64], y: &[f64], tol: f64, case: &str) -> f64 {
        assert_eq!(x.len(), y.len());
        let mut worst = 0.0f64;
        for (i, (a, b)) in x.iter().zip(y).enumerate() {
            let e = (a - b).abs();
            assert!(
                e <= tol,
                "{case}: value {i}: {a} came back as {b}, error {e} > {tol}"
            );
            worst = worst.max(e);
        }
        worst
    }

    const TOLERANCES: [f64; 4] = [1e-2, 1e-6, 1e-10, 1e-13];

    #[test]
    fn stores_restore_every_value_within_the_tolerance() {
        let root = tempfile::tempdir().unwrap();
        for tol in TOLERANCES {
            let codec = Codec::zfp(tol).unwrap();
            let bound = codec.tolerance().unwrap();
            assert!(bound <= tol && bound > tol / 2.0, "{tol}: {bound}");
            for (fname, make) in [
                ("smooth", smooth as fn(usize, u64) -> Vec<f64>),
                ("rough", rough),
            ] {
                for (mname, mode) in MODES {
                    let case = format!("{fname} {mname} {codec} (asked {tol:e})");
                    let x0 = make(N, 0);
                    let mut s = mode(DiskStore::builder(3).temp_in(root.path()).codec(codec))
                        .build(&x0)
                        .unwrap();
                    for step in 0..3 {
                        s.store(step, &make(N, step)).unwrap();
                    }
                    s.prefetch(1).unwrap();
                    let mut y = vec![0.0; N];
                    for step in [1, 0, 2, 1] {
                        s.restore(step, &mut y).unwrap();
                        // The guarantee (2^minexp) and so the tolerance asked for.
                        assert_within(&make(N, step), &y, bound, &case);
                    }
                    s.sync().unwrap();
                    let written = s.stats().bytes_written;
                    let raw = 3 * N as u64 * 8;
                    assert!(written <= raw, "{case}");
                    if mname == "sync" {
                        println!("{case}: ratio {:.2}", raw as f64 / written as f64);
                    }
                    // Smooth fields shrink at every tolerance here; rough ones at loose ones
                    // (values of ~2^10 to 2^-7 are ~17 of 53 bits).
                    if fname == "smooth" || tol >= 1e-2 {
                        assert!(written * 10 < raw * 9, "{case}: {written} of {raw} bytes");
                    }
                    if fname == "smooth" && tol >= 1e-6 {
                        assert!(written * 3 < raw, "{case}: {written} of {raw} bytes");
                    }
                    s.close().unwrap();
                }
            }
        }
    }

    #[test]
    fn files_record_the_exponent_and_read_without_options() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("z.ckpt");
        let x = smooth(N, 3);
        let codec: Codec = "zfp:1e-8".parse().unwrap();
        assert_eq!(codec, Codec::Zfp { minexp: -27 });
        write_checkpoint_coded(&p, 41, &x, codec).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(u16::from_le_bytes([bytes[44], bytes[45]]), 2, "codec id");
        assert_eq!(i16::from_le_bytes([bytes[46], bytes[47]]), -27, "minexp");
        let info = verify_checkpoint(&p).unwrap();
        assert_eq!(info.payload_len, N as u64 * 8);
        assert!(info.stored_len * 2 < info.payload_len, "{info:?}");
        let mut y = vec![0.0; N];
        assert_eq!(read_checkpoint(&p, &mut y).unwrap(), 41);
        let worst = assert_within(&x, &y, 1e-8, "file");
        assert!(worst <= 2f64.powi(-27));
        assert!(bits(&x) != bits(&y), "lossy at 1e-8: some value differs");
        // A kept store reopened without a codec reads its zfp checkpoints.
        let kept = dir.path().join("kept");
        let mut s = DiskStore::builder(2)
            .dir(&kept)
            .keep_files(true)
            .codec(codec)
            .build(&x)
            .unwrap();
        s.store(7, &x).unwrap();
        s.close().unwrap();
        let mut again = DiskStore::open_existing(&kept, &x).unwrap();
        let mut z = vec![0.0; N];
        again.take(7, &mut z).unwrap();
        assert_eq!(
            bits(&z),
            bits(&y),
            "the same stream decodes to the same values"
        );
        // Damage in the compressed payload is caught by the checksum, named by path.
        let at = PAYLOAD_OFFSET as usize + 16;
        let mut d = bytes.clone();
        d[at] ^= 1;
        std::fs::write(&p, d).unwrap();
        match read_checkpoint(&p, &mut y).unwrap_err() {
            Error::Corrupt { path, reason } => {
                assert_eq!(path, p);
                assert!(reason.contains("checksum"), "{reason}");
            }
            other => panic!("{other}"),
        }
        // A payload that passes the checksum but is not a zfp stream of this state: an error
        // (or other values), never a crash or a read outside the buffer.
        zfp_file(&p, 1, N as u64 * 8, -27, &[0xff; 4096]);
        let _ = read_checkpoint(&p, &mut y);
        zfp_file(&p, 1, N as u64 * 8, -27, &[0x00; 8]);
        assert!(read_checkpoint(&p, &mut y).is_err());
        zfp_file(&p, 1, 16, -27, &[0x00; 12]);
        assert!(read_checkpoint(&p, &mut vec![0.0f64; 2]).is_err());
    }

    #[test]
    fn non_finite_states_are_stored_raw_and_restored_bitwise() {
        let root = tempfile::tempdir().unwrap();
        let codec = Codec::zfp(1e-6).unwrap();
        for bad in [
            f64::NAN,
            f64::from_bits(0x7ff8_0000_dead_beef),
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            let mut x = smooth(N, 1);
            x[N / 2] = bad;
            for (mname, mode) in MODES {
                let mut s = mode(DiskStore::builder(2).temp_in(root.path()).codec(codec))
                    .build(&x)
                    .unwrap();
                s.store(0, &x).unwrap();
                s.store(1, &smooth(N, 1)).unwrap();
                let mut y = vec![0.0; N];
                s.restore(0, &mut y).unwrap();
                assert_eq!(bits(&y), bits(&x), "{mname} {bad}");
                s.sync().unwrap();
                // The raw state plus the compressed finite one.
                let w = s.stats().bytes_written;
                assert!(w > N as u64 * 8 && w < N as u64 * 16, "{mname}: {w}");
                s.close().unwrap();
            }
            let p = root.path().join("nan.ckpt");
            write_checkpoint_coded(&p, 2, &x, codec).unwrap();
            let info = verify_checkpoint(&p).unwrap();
            assert_eq!(info.stored_len, info.payload_len, "stored raw");
            let mut y = vec![0.0; N];
            read_checkpoint(&p, &mut y).unwrap();
            assert_eq!(bits(&y), bits(&x));
        }
    }

    #[test]
    fn tolerances_below_the_values_precision_still_hold() {
        // 2^-1000 is far below what an f64 near 1 resolves: zfp cannot meet it, so the state
        // is stored raw (bit for bit) rather than outside the bound.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tight.ckpt");
        let x = rough(4096, 9);
        write_checkpoint_coded(&p, 1, &x, Codec::zfp(1e-300).unwrap()).unwrap();
        let mut y = vec![0.0; 4096];
        read_checkpoint(&p, &mut y).unwrap();
        assert_within(&x, &y, 1e-300, "1e-300");
        // Tiny values do compress at a tiny tolerance.
        let t: Vec<f64> = smooth(4096, 2).iter().map(|v| v * 1e-280).collect();
        write_checkpoint_coded(&p, 2, &t, Codec::zfp(1e-290).unwrap()).unwrap();
        read_checkpoint(&p, &mut y).unwrap();
        assert_within(&t, &y, 1e-290, "tiny values");
        assert!(verify_checkpoint(&p).unwrap().stored_len < 4096 * 8);
    }

    #[test]
    fn states_not_made_of_f64_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let codec = Codec::zfp(1e-6).unwrap();
        let odd = vec![1.0f32; 3]; // 12 bytes
        let e = DiskStore::builder(1)
            .temp_in(dir.path())
            .codec(codec)
            .build(&odd)
            .unwrap_err();
        assert!(
            matches!(e, Error::Usage(m) if m.contains("multiple of 8")),
            "{e}"
        );
        let e = write_checkpoint_coded(&dir.path().join("odd.ckpt"), 1, &odd, codec).unwrap_err();
        assert!(
            matches!(e, Error::Usage(m) if m.contains("multiple of 8")),
            "{e}"
        );
        assert!(!dir.path().join("odd.ckpt").exists());
        // Empty states have nothing to compress.
        let p = dir.path().join("empty.ckpt");
        write_checkpoint_coded(&p, 3, &Vec::<f64>::new(), codec).unwrap();
        assert_eq!(read_checkpoint(&p, &mut Vec::<f64>::new()).unwrap(), 3);
    }

    #[test]
    fn names_round_trip_and_bad_ones_are_usage_errors() {
        for tol in [1e-8, 0.5, 1.0, 3.0, 1e-300, 5e-324, 1e300, f64::MAX] {
            let c: Codec = format!("zfp:{tol:e}").parse().unwrap();
            assert_eq!(c.name().parse::<Codec>().unwrap(), c, "{tol}");
            assert_eq!(c.to_string(), c.name());
            assert_eq!(Codec::zfp(tol).unwrap(), c);
            let b = c.tolerance().unwrap();
            assert!(b <= tol && tol < 2.0 * b, "{tol}: {b}");
        }
        assert_eq!(
            Codec::Zfp { minexp: -27 }.name(),
            "zfp:7.450580596923828e-9"
        );
        for bad in [
            "zfp",
            "zfp:",
            "zfp:0",
            "zfp:-1e-6",
            "zfp:nan",
            "zfp:inf",
            "zfp:x",
            "zfp:1e-6:2",
            "zfp:1e400",
        ] {
            let e = bad.parse::<Codec>().unwrap_err();
            assert!(
                matches!(e, Error::Usage(m) if m.contains("zfp:TOL")),
                "{bad}: {e}"
            );
        }
        for minexp in [-1075, 1024, i16::MIN, i16::MAX] {
            assert!(
                matches!(Codec::Zfp { minexp }.check(), Err(Error::Usage(_))),
                "{minexp}"
            );
        }
    }

    #[test]
    fn checkpoints_after_the_first_allocate_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let xs: Vec<Vec<f64>> = (0..4).map(|k| smooth(N, k)).collect();
        let mut s = DiskStore::builder(2)
            .temp_in(dir.path())
            .background(false)
            .codec(Codec::zfp(1e-6).unwrap())
            .build(&xs[0])
            .unwrap();
        let mut y = vec![0.0; N];
        let mut cycle = |s: &mut DiskStore<Vec<f64>>, k: usize| {
            s.store(0, &xs[k]).unwrap();
            s.store(1, &xs[k + 1]).unwrap();
            s.take(1, &mut y).unwrap();
            s.take(0, &mut y).unwrap();
        };
        cycle(&mut s, 0);
        let before = thread_allocs();
        for k in 0..20 {
            cycle(&mut s, k % 3);
        }
        assert_eq!(thread_allocs() - before, 0, "allocations per checkpoint");
        assert!(s.stats().bytes_written < 42 * N as u64 * 8 / 2);
    }
}
