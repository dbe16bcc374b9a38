// ClientProtocol calls the Java shell has no verb for, made through Hadoop's own
// DistributedFileSystem, for crates/tests/tests/namespace_xattrs.rs:
//
//   flags <file>   setXAttr with CREATE alone and REPLACE alone (the shell always
//                  passes both): prints one line per step, "step: ok" or
//                  "step: <exception class>: <first line of the message>"
//   absent <dir>   the calls an HDFS without encryption zones, erasure coding and
//                  snapshots answers, one line each, and one call of each refused kind
//
// The default file system comes from the conf dir on the classpath.

import java.util.EnumSet;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.fs.XAttrSetFlag;
import org.apache.hadoop.hdfs.DistributedFileSystem;
import org.apache.hadoop.hdfs.protocol.ErasureCodingPolicyInfo;
import org.apache.hadoop.hdfs.protocol.OpenFileEntry;

public class HafsClientProtocolCalls {
  interface Call {
    String run() throws Exception;
  }

  static void step(String name, Call c) {
    try {
      String out = c.run();
      System.out.println(name + ": " + (out == null ? "ok" : out));
    } catch (Exception e) {
      String msg = String.valueOf(e.getMessage()).split("\n")[0];
      String cls = e.getClass().getName();
      if (e instanceof org.apache.hadoop.ipc.RemoteException) {
        cls = ((org.apache.hadoop.ipc.RemoteException) e).getClassName();
      }
      System.out.println(name + ": " + cls + ": " + msg);
    }
  }

  public static void main(String[] args) throws Exception {
    Configuration conf = new Configuration();
    DistributedFileSystem fs = (DistributedFileSystem) FileSystem.get(conf);
    Path p = new Path(args[1]);
    if (args[0].equals("flags")) {
      byte[] v1 = "one".getBytes("UTF-8");
      byte[] v2 = "two".getBytes("UTF-8");
      EnumSet<XAttrSetFlag> create = EnumSet.of(XAttrSetFlag.CREATE);
      EnumSet<XAttrSetFlag> replace = EnumSet.of(XAttrSetFlag.REPLACE);
      step("replace-missing", () -> { fs.setXAttr(p, "user.flag", v1, replace); return null; });
      step("create", () -> { fs.setXAttr(p, "user.flag", v1, create); return null; });
      step("create-again", () -> { fs.setXAttr(p, "user.flag", v2, create); return null; });
      step("replace", () -> { fs.setXAttr(p, "user.flag", v2, replace); return null; });
      step("value", () -> new String(fs.getXAttr(p, "user.flag"), "UTF-8"));
      step("list", () -> String.join(",", new java.util.TreeSet<>(fs.listXAttrs(p))));
    } else if (args[0].equals("absent")) {
      step("ec-policies", () -> {
        StringBuilder sb = new StringBuilder();
        for (ErasureCodingPolicyInfo i : fs.getAllErasureCodingPolicies()) {
          sb.append(i.getPolicy().getName()).append('=').append(i.getState()).append(' ');
        }
        return sb.toString().trim();
      });
      step("ec-policy", () -> String.valueOf(fs.getErasureCodingPolicy(p)));
      step("ec-codecs", () -> String.valueOf(fs.getAllErasureCodingCodecs().size()));
      step("encryption-zones", () -> String.valueOf(fs.listEncryptionZones().hasNext()));
      step("ez-for-path", () -> String.valueOf(fs.getEZForPath(p)));
      step("snapshottable-dirs", () -> String.valueOf(fs.getSnapshottableDirListing()));
      step("trash-roots", () -> String.valueOf(fs.getTrashRoots(true).size()));
      step("open-files", () -> {
        RemoteIterator<OpenFileEntry> it = fs.listOpenFiles();
        int n = 0;
        while (it.hasNext()) {
          it.next();
          n++;
        }
        return String.valueOf(n);
      });
      step("enclosing-root", () -> String.valueOf(fs.getEnclosingRoot(p)));
      step("access", () -> { fs.access(p, org.apache.hadoop.fs.permission.FsAction.ALL); return null; });
      step("access-missing", () -> {
        fs.access(new Path("/no/such/path"), org.apache.hadoop.fs.permission.FsAction.READ);
        return null;
      });
      // One call of each refused kind.
      step("create-snapshot", () -> String.valueOf(fs.createSnapshot(p, "s1")));
      step("satisfy-storage-policy", () -> { fs.satisfyStoragePolicy(p); return null; });
      step("set-ec-policy", () -> { fs.setErasureCodingPolicy(p, "RS-6-3-1024k"); return null; });
      step("create-encryption-zone", () -> { fs.createEncryptionZone(p, "key1"); return null; });
      step("add-cache-pool", () -> {
        fs.addCachePool(new org.apache.hadoop.hdfs.protocol.CachePoolInfo("pool1"));
        return null;
      });
    }
  }
}
