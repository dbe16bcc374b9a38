//! hafs-ipc
