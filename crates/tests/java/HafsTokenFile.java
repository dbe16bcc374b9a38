// Reads and writes Hadoop token storage files with Hadoop's own classes, for
// crates/tests/tests/security_token_file.rs:
//
//   read  <file>                      print every token of the file, one per line
//   write <file> <format> <urlString> write the token (Token.decodeFromUrlString) to a
//                                     new file, format WRITABLE or PROTOBUF
//
// A printed token is
//   TOKEN alias|kind|service|owner|renewer|realUser|issueDate|maxDate|seq|keyId|pwHex|url
// with the identifier decoded by Hadoop's DelegationTokenIdentifier.

import java.io.File;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.security.token.delegation.DelegationTokenIdentifier;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.security.Credentials;
import org.apache.hadoop.security.token.Token;
import org.apache.hadoop.security.token.TokenIdentifier;

public class HafsTokenFile {
  public static void main(String[] args) throws Exception {
    Configuration conf = new Configuration(false);
    if (args[0].equals("read")) {
      Credentials creds = Credentials.readTokenStorageFile(new File(args[1]), conf);
      for (java.util.Map.Entry<Text, Token<? extends TokenIdentifier>> e
          : creds.getTokenMap().entrySet()) {
        Text alias = e.getKey();
        Token<? extends TokenIdentifier> t = e.getValue();
        DelegationTokenIdentifier id = new DelegationTokenIdentifier();
        id.readFields(new DataInputStream(new ByteArrayInputStream(t.getIdentifier())));
        StringBuilder hex = new StringBuilder();
        for (byte b : t.getPassword()) {
          hex.append(String.format("%02x", b));
        }
        System.out.println("TOKEN " + alias + "|" + t.getKind() + "|" + t.getService() + "|"
            + id.getOwner() + "|" + id.getRenewer() + "|" + id.getRealUser() + "|"
            + id.getIssueDate() + "|" + id.getMaxDate() + "|" + id.getSequenceNumber() + "|"
            + id.getMasterKeyId() + "|" + hex + "|" + t.encodeToUrlString());
        // The string names the owner's short name: map principals as a Kerberos
        // cluster's auth_to_local would (no krb5.conf here, so no DEFAULT rule).
        org.apache.hadoop.security.authentication.util.KerberosName.setRules(
            "RULE:[1:$1]\nRULE:[2:$1]");
        System.out.println("STRING " + id);
      }
      System.out.println("SECRETS " + creds.numberOfSecretKeys());
    } else if (args[0].equals("write")) {
      Token<DelegationTokenIdentifier> t = new Token<>();
      t.decodeFromUrlString(args[3]);
      Credentials creds = new Credentials();
      creds.addToken(t.getService(), t);
      creds.writeTokenStorageFile(new org.apache.hadoop.fs.Path("file://" + args[1]), conf,
          Credentials.SerializedFormat.valueOf(args[2]));
      System.out.println("WROTE");
    } else {
      throw new IllegalArgumentException("read or write");
    }
  }
}
