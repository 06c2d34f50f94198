//! Reading the Zarr outputs back in tests (with `zarrs`, as any reader would).

use std::path::Path;
use std::sync::Arc;
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
