//! An IPC server's figures as Hadoop shows them: the `RpcActivityForPort<port>` and
//! `RpcDetailedActivityForPort<port>` beans (metrics2 records `rpc` and `rpcdetailed`,
//! so `/prom` exports them under Hadoop's names, `rpc_rpc_processing_time_avg_time`,
//! `rpcdetailed_get_file_info_num_ops`, …), and latency histograms Hadoop does not have:
//! `hafs_rpc_processing_seconds{port,method}` and `hafs_rpc_queue_seconds{port}`.
//!
//! Hadoop's `…AvgTime` is a mean over its metrics period; here it is the mean since the
//! daemon started (a rate over a window is what the histograms are for).

use hafs_ipc::RpcSnapshot;

use crate::jmx::Bean;
use crate::prom::{capitalize, PromText};

/// The two beans of the IPC server on `port` of a daemon named `service` in Hadoop's
/// ObjectNames (`NameNode`, `DataNode`, `JournalNode`).
pub fn rpc_beans(service: &str, port: u16, hostname: &str, s: &RpcSnapshot) -> Vec<Bean> {
    let activity = format!("RpcActivityForPort{port}");
    let rpc = Bean::new(
        format!("Hadoop:service={service},name={activity}"),
        &activity,
    )
    .record("rpc")
    .tag("port", port.to_string())
    .tag("Context", "rpc")
    .tag("Hostname", hostname)
    .counter("RpcQueueTimeNumOps", s.queue_time.count)
    .gauge("RpcQueueTimeAvgTime", s.queue_time.mean_millis())
    .counter("RpcProcessingTimeNumOps", s.processing_time.count)
    .gauge("RpcProcessingTimeAvgTime", s.processing_time.mean_millis())
    .gauge("NumOpenConnections", s.open_connections)
    .gauge("CallQueueLength", s.call_queue_length)
    .counter("NumDroppedConnections", s.dropped_connections);
    let detailed_name = format!("RpcDetailedActivityForPort{port}");
    let mut detailed = Bean::new(
        format!("Hadoop:service={service},name={detailed_name}"),
        &detailed_name,
    )
    .record("rpcdetailed")
    .tag("port", port.to_string())
    .tag("Context", "rpcdetailed")
    .tag("Hostname", hostname);
    for (method, h) in &s.methods {
        // Hadoop's names start the method with a capital: `GetFileInfoNumOps`.
        let name = capitalize(method);
        detailed = detailed
            .counter(&format!("{name}NumOps"), h.count)
            .gauge(&format!("{name}AvgTime"), h.mean_millis());
    }
    vec![rpc, detailed]
}

/// The `hafs_rpc_*` series of the IPC server on `port`.
pub fn rpc_prometheus(out: &mut PromText, port: u16, s: &RpcSnapshot) {
    let port = port.to_string();
    out.help(
        "hafs_rpc_processing_seconds",
        "histogram",
        "Time an IPC call's handler took, by method.",
    );
    for (method, h) in &s.methods {
        out.histogram(
            "hafs_rpc_processing_seconds",
            &[("port", &port), ("method", method)],
            &h.buckets,
            h.sum_seconds,
            h.count,
        );
    }
    out.help(
        "hafs_rpc_queue_seconds",
        "histogram",
        "Time an IPC call waited for room on its connection and the server before it ran.",
    );
    out.histogram(
        "hafs_rpc_queue_seconds",
        &[("port", &port)],
        &s.queue_time.buckets,
        s.queue_time.sum_seconds,
        s.queue_time.count,
    );
    out.counter(
        "hafs_rpc_failed_calls_total",
        &[("port", &port)],
        s.failed_calls as f64,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use hafs_util::latency::LatencyHistogram;
    use std::time::Duration;

    fn snapshot() -> RpcSnapshot {
        let h = LatencyHistogram::new();
        h.record(Duration::from_millis(3));
        h.record(Duration::from_millis(5));
        RpcSnapshot {
            open_connections: 2,
            dropped_connections: 0,
            call_queue_length: 1,
            queue_time: h.snapshot(),
            processing_time: h.snapshot(),
            failed_calls: 1,
            methods: vec![("getFileInfo".into(), h.snapshot())],
        }
    }

    #[test]
    fn beans_have_hadoops_names_and_prom_exports_them_under_hadoops_names() {
        let beans = rpc_beans("NameNode", 8020, "nn1", &snapshot());
        assert_eq!(
            beans[0].name,
            "Hadoop:service=NameNode,name=RpcActivityForPort8020"
        );
        assert_eq!(beans[0].get("RpcProcessingTimeNumOps"), Some(&2.into()));
        assert_eq!(beans[0].get("RpcProcessingTimeAvgTime"), Some(&4.0.into()));
        assert_eq!(beans[0].get("tag.port"), Some(&"8020".into()));
        assert_eq!(beans[1].get("GetFileInfoNumOps"), Some(&2.into()));
        let mut out = PromText::new();
        out.add_beans(&beans);
        rpc_prometheus(&mut out, 8020, &snapshot());
        let text = out.render();
        for want in [
            "rpc_rpc_processing_time_num_ops{port=\"8020\",context=\"rpc\",hostname=\"nn1\"} 2",
            "rpcdetailed_get_file_info_num_ops{",
            "hafs_rpc_processing_seconds_bucket{port=\"8020\",method=\"getFileInfo\",le=\"0.005\"} 2",
            "hafs_rpc_processing_seconds_bucket{port=\"8020\",method=\"getFileInfo\",le=\"0.0025\"} 0",
            "hafs_rpc_queue_seconds_count{port=\"8020\"} 2",
            "hafs_rpc_failed_calls_total{port=\"8020\"} 1",
        ] {
            assert!(text.contains(want), "missing {want} in\n{text}");
        }
    }
}
