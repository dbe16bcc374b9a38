// Many Java `hadoop fs` commands in one JVM, for tests that run dozens of them: the JVM's
// start-up (most of a short command's time on a small machine) is paid once, while each
// command still runs the real FsShell through ToolRunner with a fresh Configuration and,
// because every cached FileSystem is closed after it, fresh clients and connections.
//
// Requests on stdin, one per line: tab-separated fields, each in hex (so any byte may
// appear in an argument): the user to run as (empty: this process's user) and then the
// shell's arguments. A command cannot read stdin (it carries the requests); it sees an
// empty one. Replies on stdout, one line per request:
//   HAFS-SHELL <exit code> <hex of the command's stdout> <hex of its stderr>
// System.out and System.err are swapped for buffers while a command runs, so the shell's
// own output and its log lines (the log4j2 console appender follows System.err) are
// returned with the command that printed them.
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.security.PrivilegedExceptionAction;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FsShell;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.util.ToolRunner;

public class HafsShellSession {
    public static void main(String[] argv) throws Exception {
        PrintStream replies = System.out;
        PrintStream realErr = System.err;
        BufferedReader requests =
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        HexFormat hex = HexFormat.of();
        // One UGI per user name: FileSystem's cache keys on the UGI object.
        Map<String, UserGroupInformation> users = new HashMap<>();
        String line;
        while ((line = requests.readLine()) != null) {
            if (line.isEmpty()) {
                continue;
            }
            String[] fields = line.split("\t", -1);
            String user = new String(hex.parseHex(fields[0]), StandardCharsets.UTF_8);
            String[] args = new String[fields.length - 1];
            for (int i = 1; i < fields.length; i++) {
                args[i - 1] = new String(hex.parseHex(fields[i]), StandardCharsets.UTF_8);
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            PrintStream outStream = new PrintStream(out, true, "UTF-8");
            PrintStream errStream = new PrintStream(err, true, "UTF-8");
            System.setOut(outStream);
            System.setErr(errStream);
            System.setIn(new ByteArrayInputStream(new byte[0]));
            int code;
            try {
                UserGroupInformation ugi = user.isEmpty()
                        ? UserGroupInformation.getCurrentUser()
                        : users.computeIfAbsent(user, UserGroupInformation::createRemoteUser);
                code = ugi.doAs((PrivilegedExceptionAction<Integer>) () -> runShell(args));
            } catch (Throwable t) {
                // What FsShell's main would have died of: its stack trace, exit 1.
                t.printStackTrace(errStream);
                code = 1;
            } finally {
                try {
                    FileSystem.closeAll();
                } catch (Throwable t) {
                    t.printStackTrace(errStream);
                }
                outStream.flush();
                errStream.flush();
                System.setOut(replies);
                System.setErr(realErr);
            }
            replies.println("HAFS-SHELL " + code + " " + hex.formatHex(out.toByteArray())
                    + " " + hex.formatHex(err.toByteArray()));
            replies.flush();
        }
    }

    /// What FsShell.main does, without its System.exit.
    private static int runShell(String[] args) throws Exception {
        FsShell shell = new FsShell();
        // Quiet, unlike FsShell's main: in a long-lived JVM some library has registered
        // mapred-site.xml as a default resource, and a loud Configuration fails on it.
        Configuration conf = new Configuration();
        shell.setConf(conf);
        try {
            return ToolRunner.run(shell, args);
        } finally {
            shell.close();
        }
    }
}
