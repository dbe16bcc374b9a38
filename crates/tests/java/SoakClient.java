// A long-running Java client for the real-client soak test (crates/tests/tests/
// soak_real_clients.rs), run with the Hadoop 3.5.0 client jars and the cluster's conf
// dir on the class path through Java's single-file source launcher. One JVM writes or
// reads many files, so JVM start-up stays out of the latencies it reports.
//
//   write DIR SEED COUNT THREADS   writes DIR/j0 .. DIR/j<COUNT-1> with FileSystem.create
//                                  (block size 64 KiB, 1 MiB or 128 MiB, replication 1..3, writes
//                                  of 1 byte to 1 MiB), appends to about one in six;
//                                  prints "ACK path length sha256 write_ms close_ms" once
//                                  close() (and the append's close) returned.
//   read LISTFILE                  reads every path listed; prints "READ path length sha256".
// Failures print "FAIL path message"; the last line is "DONE".

import java.io.BufferedReader;
import java.io.FileReader;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

public class SoakClient {
    static final int MAX_SIZE = 3 << 20;

    public static void main(String[] args) throws Exception {
        FileSystem fs = FileSystem.get(new Configuration());
        if (args[0].equals("write")) {
            write(fs, args[1], Long.parseLong(args[2]), Integer.parseInt(args[3]),
                    Integer.parseInt(args[4]));
        } else {
            read(fs, args[1]);
        }
        System.out.println("DONE");
        System.out.flush();
        System.exit(0);
    }

    static void write(FileSystem fs, String dir, long seed, int count, int threads)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        for (int i = 0; i < count; i++) {
            final int n = i;
            pool.submit(() -> writeOne(fs, dir, seed, n));
        }
        pool.shutdown();
        pool.awaitTermination(10, TimeUnit.MINUTES);
    }

    /// Sizes spread evenly over orders of magnitude, 1 byte to MAX_SIZE.
    static int size(Random r) {
        return (int) Math.max(1, Math.round(Math.exp(r.nextDouble() * Math.log(MAX_SIZE))));
    }

    static void writeOne(FileSystem fs, String dir, long seed, int i) {
        String path = dir + "/j" + i;
        try {
            Random r = new Random(seed * 1_000_003L + i);
            int len = size(r);
            long blockSize = new long[] {64L << 10, 1L << 20, 128L << 20}[r.nextInt(3)];
            short replication = (short) (1 + r.nextInt(3));
            byte[] data = new byte[len];
            r.nextBytes(data);
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            long t0 = System.nanoTime();
            FSDataOutputStream out = fs.create(new Path(path), true, 4096, replication, blockSize);
            for (int off = 0; off < len; ) {
                int n = Math.min(len - off, 1 + r.nextInt(1 << 20));
                out.write(data, off, n);
                off += n;
            }
            long t1 = System.nanoTime();
            out.close();
            long t2 = System.nanoTime();
            md.update(data);
            long total = len;
            if (r.nextInt(6) == 0) {
                byte[] more = new byte[1 + r.nextInt(300_000)];
                r.nextBytes(more);
                FSDataOutputStream app = fs.append(new Path(path));
                app.write(more);
                app.close();
                md.update(more);
                total += more.length;
            }
            println("ACK " + path + " " + total + " " + hex(md.digest()) + " "
                    + (t1 - t0) / 1_000_000.0 + " " + (t2 - t1) / 1_000_000.0);
        } catch (Throwable e) {
            println("FAIL " + path + " " + e.toString().replace('\n', ' '));
        }
    }

    static void read(FileSystem fs, String list) throws Exception {
        List<String> paths = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new FileReader(list))) {
            for (String line; (line = in.readLine()) != null; ) {
                if (!line.isBlank()) paths.add(line.trim());
            }
        }
        byte[] buf = new byte[1 << 16];
        for (String path : paths) {
            try (InputStream in = fs.open(new Path(path))) {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                long len = 0;
                for (int n; (n = in.read(buf)) > 0; ) {
                    md.update(buf, 0, n);
                    len += n;
                }
                println("READ " + path + " " + len + " " + hex(md.digest()));
            } catch (Throwable e) {
                println("FAIL " + path + " " + e.toString().replace('\n', ' '));
            }
        }
    }

    static synchronized void println(String s) {
        System.out.println(s);
        System.out.flush();
    }

    static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) s.append(String.format("%02x", x));
        return s.toString();
    }
}
