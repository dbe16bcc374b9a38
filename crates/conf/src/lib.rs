//! hafs-conf: Hadoop-compatible configuration.
//!
//! The same conf dir a Java HDFS client reads (`core-site.xml`, `hdfs-site.xml`)
//! configures hafs: Hadoop's XML format, key names, defaults, `final` semantics and
//! `${var}` substitution, plus typed accessors whose errors name the key, the value
//! and what was expected, and [`Configuration::validate`] for a clear startup error.
//!
//! ```
//! use hafs_conf::{keys, Configuration};
//! let mut conf = Configuration::new();
//! conf.set_definition("dfs.replication=2").unwrap();
//! assert_eq!(conf.get_u32(keys::DFS_REPLICATION, keys::DFS_REPLICATION_DEFAULT).unwrap(), 2);
//! conf.validate().unwrap();
//! ```

mod accessors;
mod configuration;
mod error;
pub mod federation;
pub mod hdfs;
pub mod keys;
pub mod parse;
mod substitute;
mod validate;
mod xml;

pub use configuration::{Configuration, HADOOP_CONF_DIR_ENV, SITE_FILES};
pub use error::ConfError;
pub use federation::NameNodeIdentity;
pub use hdfs::FsUri;
pub use parse::TimeUnit;
pub use substitute::{current_user_name, MAX_SUBST};
pub use xml::{site_xml_string, write_site_xml, MAX_RESOURCE_BYTES};
