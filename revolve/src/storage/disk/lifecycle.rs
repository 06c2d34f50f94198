//! Creating a store's slot files (fresh or reopened) and removing them again.

use super::builder::{DiskStoreBuilder, Location};
use super::codec::CodecBuf;
use super::io::Background;
use super::slot::{self, SlotFile, io_error};
use super::{DiskStats, DiskStore};
use crate::{Error, State};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

impl<S: State> DiskStore<S> {
    pub(super) fn from_builder(b: DiskStoreBuilder, prototype: &S) -> Result<Self, Error> {
        let state_len = prototype.byte_len();
        let slot_path = |dir: &Path, i: usize| dir.join(format!("slot-{i}.ckpt"));
        let nslots = match &b.location {
            Location::Existing(d) => {
                if !d.is_dir() {
                    return Err(io_error(
                        d,
                        std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory"),
                    ));
                }
                (0..).take_while(|&i| slot_path(d, i).exists()).count()
            }
            _ => usize::try_from(b.capacity).map_err(|_| Error::Overflow {
                what: "disk checkpoint slots",
            })?,
        };
        b.codec.check()?;
        b.codec.check_state_len(state_len)?;
        if b.background && b.write_buffers == 0 {
            return Err(Error::Usage(
                "a background disk store needs at least one write buffer",
            ));
        }
        let existing = matches!(b.location, Location::Existing(_));
        let (dir, temp, created_dir) = match &b.location {
            Location::Dir(d) => {
                let existed = d.is_dir();
                std::fs::create_dir_all(d).map_err(|e| io_error(d, e))?;
                (d.clone(), None, !existed)
            }
            Location::Temp(parent) => {
                let parent = parent.clone().unwrap_or_else(std::env::temp_dir);
                let t = tempfile::Builder::new()
                    .prefix("retrace-ckpt-")
                    .tempdir_in(&parent)
                    .map_err(|e| io_error(&parent, e))?;
                (t.path().to_path_buf(), Some(t), false)
            }
            Location::Existing(d) => (d.clone(), None, false),
        };
        let mut store = DiskStore {
            slots: Arc::from(Vec::new()),
            dir,
            temp,
            created_dir,
            // A reopen that fails must not remove what it found.
            keep_files: b.keep_files || existing,
            state_len,
            capacity: nslots as u64,
            flush: b.flush,
            index: HashMap::with_capacity(nslots),
            generations: vec![0; nslots],
            free_slots: (0..nslots).rev().collect(),
            io: None,
            scratch: CodecBuf::default(),
            view: None,
            view_tag: None,
            stats: DiskStats::default(),
        };
        // From here on a failure drops `store`, which removes what was created.
        let mut slots = Vec::with_capacity(nslots);
        for i in 0..nslots {
            let path = slot_path(&store.dir, i);
            let made = if existing {
                SlotFile::open(path, state_len, b.codec)
            } else {
                SlotFile::create(path, state_len, b.preallocate, b.codec)
            };
            match made {
                Ok(s) => slots.push(s),
                Err(e) => {
                    store.slots = Arc::from(slots);
                    return Err(e);
                }
            }
        }
        store.slots = Arc::from(slots);
        if existing {
            store.adopt()?;
            store.keep_files = b.keep_files;
        }
        if b.background {
            store.io = Some(Background::start(
                store.slots.clone(),
                &store.dir,
                b.flush,
                state_len,
                b.write_buffers,
                b.prefetch_buffers,
            )?);
        }
        if b.views {
            store.view = Some(prototype.clone());
        }
        Ok(store)
    }

    /// Index the complete checkpoints of reopened slot files.
    fn adopt(&mut self) -> Result<(), Error> {
        self.free_slots.clear();
        for (i, slot) in self.slots.iter().enumerate().rev() {
            match slot.inspect()? {
                None => self.free_slots.push(i),
                Some(step) => {
                    if let Some(&j) = self.index.get(&step) {
                        return Err(slot::corrupt(
                            &slot.path,
                            format!(
                                "holds step {step}, which {} holds too",
                                self.slots[j].path.display()
                            ),
                        ));
                    }
                    self.index.insert(step, i);
                }
            }
        }
        Ok(())
    }

    /// Stop the thread, unmap and remove the files unless kept; idempotent.
    pub(super) fn shutdown(&mut self) -> Result<(), Error> {
        if let Some(io) = &mut self.io {
            io.shutdown();
        }
        self.io = None;
        let slots = std::mem::replace(&mut self.slots, Arc::from(Vec::new()));
        let paths: Vec<PathBuf> = slots.iter().map(|s| s.path.clone()).collect();
        drop(slots);
        let mut first: Result<(), Error> = Ok(());
        if self.keep_files {
            if let Some(t) = self.temp.take() {
                let _ = t.keep();
            }
            return first;
        }
        for p in &paths {
            if let Err(e) = std::fs::remove_file(p)
                && e.kind() != std::io::ErrorKind::NotFound
                && first.is_ok()
            {
                first = Err(io_error(p, e));
            }
        }
        if let Some(t) = self.temp.take() {
            let path = t.path().to_path_buf();
            if let Err(e) = t.close()
                && first.is_ok()
            {
                first = Err(io_error(&path, e));
            }
        }
        if std::mem::take(&mut self.created_dir) {
            // Only if empty: the caller may have put other files there meanwhile.
            let _ = std::fs::remove_dir(&self.dir);
        }
        first
    }
}
