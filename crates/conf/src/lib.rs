//! hafs-conf
