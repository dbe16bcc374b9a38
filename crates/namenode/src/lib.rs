//! hafs-namenode
