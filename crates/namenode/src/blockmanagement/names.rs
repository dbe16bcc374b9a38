//! DataNode UUIDs and storage ids, interned: a replica names its DataNode and its
//! storage by two 4-byte numbers instead of two strings (64–96 bytes a replica with
//! their malloc blocks). A cluster has a few DataNodes with a few storages each, so the
//! table stays small; a name is never forgotten (a DataNode that comes back gets its
//! old number), and the table is bounded so that reports naming ever new storages
//! cannot grow it without end.

use std::collections::HashMap;

/// Most names kept. Far above any real cluster (DataNodes × storages); past it, a
/// replica on a new name is not recorded (its DataNode's report is dropped and comes
/// again with the next full report).
pub const MAX_NAMES: usize = 1 << 20;

/// An interned DataNode UUID or storage id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NameId(u32);

/// The name ↔ number table.
#[derive(Debug, Default)]
pub struct Names {
    ids: HashMap<Box<str>, NameId>,
    names: Vec<Box<str>>,
}

impl Names {
    /// The number of `name`, given one if it has none yet; `None` when the table is
    /// full.
    pub fn intern(&mut self, name: &str) -> Option<NameId> {
        if let Some(&id) = self.ids.get(name) {
            return Some(id);
        }
        if self.names.len() >= MAX_NAMES {
            return None;
        }
        let id = NameId(self.names.len() as u32);
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        Some(id)
    }

    /// The number of `name`, if it has one.
    pub fn id(&self, name: &str) -> Option<NameId> {
        self.ids.get(name).copied()
    }

    /// The name numbered `id` (numbers come from this table only).
    pub fn name(&self, id: NameId) -> &str {
        &self.names[id.0 as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_keeps_its_number() {
        let mut n = Names::default();
        let a = n.intern("dn-a").unwrap();
        let b = n.intern("DS-b").unwrap();
        assert_ne!(a, b);
        assert_eq!(n.intern("dn-a"), Some(a));
        assert_eq!(n.id("DS-b"), Some(b));
        assert_eq!(n.id("dn-c"), None);
        assert_eq!(n.name(a), "dn-a");
        assert_eq!(n.name(b), "DS-b");
        assert_eq!(n.len(), 2);
    }
}
