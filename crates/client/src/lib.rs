//! hafs-client
