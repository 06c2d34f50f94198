//! Reading the Zarr outputs back in tests (with `zarrs`, as any reader would).

use sampler::{GaussianNoise, Model, ModelInfo};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use zarrs::array::{Array, ElementOwned};
use zarrs::filesystem::FilesystemStore;

/// Array `name` of the group `group`: its shape and elements (C order).
pub(crate) fn read<T: ElementOwned>(group: &Path, name: &str) -> (Vec<u64>, Vec<T>) {
    let store = Arc::new(FilesystemStore::new(group).unwrap());
    let a = Array::open(store, &format!("/{name}")).unwrap();
    let shape = a.shape().to_vec();
    let v = a.retrieve_array_subset::<Vec<T>>(&a.subset_all()).unwrap();
    (shape, v)
}

/// The group's attributes.
pub(crate) fn attributes(group: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(group.join("zarr.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["attributes"].clone()
}

/// Brownian motion whose score turns NaN after time 0.555 while `fail` is set (with several
/// ranks, every rank fails at the same snapshot: the lowest id's error is reported, as in one
/// process).
pub(crate) struct Flaky {
    pub(crate) fail: AtomicBool,
}

impl Model for Flaky {
    type State = f64;
    type Noise = GaussianNoise;
    fn noise_dim(&self) -> usize {
        1
    }
    fn initial_state(&self) -> f64 {
        0.0
    }
    fn step(&self, x: &mut f64, _t: f64, dt: f64, xi: &GaussianNoise) {
        *x += dt.sqrt() * xi[0];
    }
    fn score(&self, x: &f64, t: f64) -> f64 {
        if t > 0.555 && self.fail.load(Ordering::Relaxed) {
            f64::NAN
        } else {
            *x
        }
    }
    fn describe(&self) -> sampler::Result<ModelInfo> {
        Ok(ModelInfo::named("flaky"))
    }
}
