import java.io.File;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Writes 1 KiB files one after another through the default file system until the stop
 * file (args[1]) exists, printing "ACK <unix seconds> <path>" for each file closed and
 * "ERR <unix seconds> <message>" for each that failed (the next file gets a new name).
 * The failover benchmark (crates/tests/tests/bench_vs_hdfs.rs) reads the times.
 */
public class FailoverProbe {
  public static void main(String[] args) throws Exception {
    Path dir = new Path(args[0]);
    File stop = new File(args[1]);
    Configuration conf = new Configuration();
    // The same client retry settings against every cluster, so the figure is the
    // servers': a failover is found within 50 ms to 1 s of backoff.
    conf.setInt("dfs.client.failover.max.attempts", 30);
    conf.setInt("dfs.client.failover.sleep.base.millis", 50);
    conf.setInt("dfs.client.failover.sleep.max.millis", 1000);
    FileSystem fs = FileSystem.get(conf);
    fs.mkdirs(dir);
    byte[] data = new byte[1024];
    for (long i = 0; !stop.exists(); i++) {
      Path p = new Path(dir, "f" + i);
      try (FSDataOutputStream out = fs.create(p, true)) {
        out.write(data);
      } catch (Exception e) {
        System.out.println("ERR " + now() + " " + String.valueOf(e).replace('\n', ' '));
        System.out.flush();
        Thread.sleep(10);
        continue;
      }
      System.out.println("ACK " + now() + " " + p.toUri().getPath());
      System.out.flush();
    }
  }

  private static String now() {
    return String.format("%.6f", System.currentTimeMillis() / 1000.0);
  }
}
