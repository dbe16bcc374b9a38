//! hafs-journal
