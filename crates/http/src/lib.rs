//! The HTTP server of every hafs daemon (NameNode `dfs.namenode.http-address`,
//! DataNode `dfs.datanode.http.address`, JournalNode `dfs.journalnode.http-address`).
//!
//! [`HttpServer`] runs hyper's HTTP/1.1 server with the limits a daemon on an open port
//! needs: bounded request heads, a header-read (and keep-alive idle) timeout, a write
//! timeout, a connection cap answered with 503, and SPNEGO on every request in secure
//! mode. Each daemon supplies its own paths through [`Endpoints`]; the server itself
//! answers `/jmx` (Hadoop's JMX JSON servlet, [`jmx`]) and `/prom` (Hadoop 3.3's
//! Prometheus endpoint, [`prom`]) from the beans the daemon reports, so both show the
//! same figures.

pub mod body;
pub mod jmx;
pub mod process;
pub mod prom;
pub mod query;
pub mod request;
pub mod response;
pub mod rpc_metrics;
pub mod server;
pub mod spnego;
pub mod webhdfs;

pub use body::BodyError;
pub use http::Method;
pub use jmx::Bean;
pub use prom::PromText;
pub use request::Request;
pub use response::{Body, Response};
pub use rpc_metrics::{rpc_beans, rpc_prometheus};
pub use server::{Endpoints, HttpConfig, HttpServer};
