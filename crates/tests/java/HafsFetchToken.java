// Gets HDFS delegation tokens the way Hadoop's tools do (FileSystem.addDelegationTokens
// over a Kerberos connection) and writes them to a token storage file, then renews or
// cancels tokens from such a file — for crates/tests/tests/security_delegation_e2e.rs.
//
//   fetch  <file> <renewer>   getDelegationToken as the logged-in user, write <file>
//   renew  <file>             Token.renew for each token; prints RENEWED <expiry>
//   cancel <file>             Token.cancel for each token; prints CANCELLED
//
// The conf dir (HADOOP_CONF_DIR) is on the classpath; the Kerberos ticket comes from
// KRB5CCNAME, as for the shell.

import java.io.File;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.HdfsConfiguration;
import org.apache.hadoop.security.Credentials;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.security.token.Token;

public class HafsFetchToken {
  public static void main(String[] args) throws Exception {
    Configuration conf = new HdfsConfiguration();
    UserGroupInformation.setConfiguration(conf);
    String op = args[0];
    File file = new File(args[1]);
    if (op.equals("fetch")) {
      FileSystem fs = FileSystem.get(conf);
      Credentials creds = new Credentials();
      Token<?>[] got = fs.addDelegationTokens(args[2], creds);
      for (Token<?> t : got) {
        System.out.println("FETCHED " + t.getKind() + " " + t.getService());
      }
      creds.writeTokenStorageFile(new Path(file.toURI()), conf);
      return;
    }
    Credentials creds = Credentials.readTokenStorageFile(file, conf);
    for (Token<?> t : creds.getAllTokens()) {
      if (op.equals("renew")) {
        System.out.println("RENEWED " + t.renew(conf));
      } else if (op.equals("cancel")) {
        t.cancel(conf);
        System.out.println("CANCELLED");
      }
    }
  }
}
