// Java 17's own SASL GSSAPI mechanism (javax.security.sasl, the one Hadoop's IPC uses),
// as a peer for hafs's Rust mechanism in crates/tests/tests/security_gssapi.rs.
//
//   java HafsSaslPeer client <qop list> <ccache file> <principal>
//   java HafsSaslPeer server <qop list> <keytab file> <principal>
//
// The service is always protocol "nn" on server "localhost", as Hadoop names the
// NameNode. Frames on stdin/stdout: one tag byte, a big-endian int32 length, the bytes.
//   T  a SASL token (the exchange continues)
//   C  the server is complete (with its last token, possibly empty)
//   Q  the negotiated QOP (javax.security.sasl.qop), sent by each side once complete
//   A  the authorization id the Java server saw
//   W  a wrapped message
//   D  no more messages
//   E  an error text (then exit 1)
// After the exchange at auth-int or auth-conf the server sends three W messages; the
// client answers each with W(wrap("echo:" + message)), which the server checks. Anything printed by the JDK goes
// to stderr, so stdout carries only frames.
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.security.PrivilegedExceptionAction;
import java.util.HashMap;
import java.util.Map;
import javax.security.auth.Subject;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.CallbackHandler;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;
import javax.security.auth.login.LoginContext;
import javax.security.sasl.AuthorizeCallback;
import javax.security.sasl.Sasl;
import javax.security.sasl.SaslClient;
import javax.security.sasl.SaslServer;

public class HafsSaslPeer {
    static DataInputStream in;
    static DataOutputStream out;

    static void send(char tag, byte[] data) throws IOException {
        out.writeByte(tag);
        out.writeInt(data == null ? 0 : data.length);
        if (data != null) out.write(data);
        out.flush();
    }

    static void send(char tag, String s) throws IOException {
        send(tag, s.getBytes(StandardCharsets.UTF_8));
    }

    static char tag;

    static byte[] read() throws IOException {
        tag = (char) in.readUnsignedByte();
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        if (tag == 'E') throw new IOException("peer failed: " + new String(b, StandardCharsets.UTF_8));
        return b;
    }

    static Subject login(boolean initiator, String file, String principal) throws Exception {
        Map<String, String> opts = new HashMap<>();
        opts.put("principal", principal);
        opts.put("doNotPrompt", "true");
        if (initiator) {
            opts.put("useTicketCache", "true");
            opts.put("ticketCache", file);
        } else {
            opts.put("useKeyTab", "true");
            opts.put("keyTab", file);
            opts.put("storeKey", "true");
            opts.put("isInitiator", "false");
        }
        Configuration cfg = new Configuration() {
            @Override
            public AppConfigurationEntry[] getAppConfigurationEntry(String name) {
                return new AppConfigurationEntry[] {
                    new AppConfigurationEntry("com.sun.security.auth.module.Krb5LoginModule",
                        AppConfigurationEntry.LoginModuleControlFlag.REQUIRED, opts)
                };
            }
        };
        LoginContext lc = new LoginContext("hafs", new Subject(), null, cfg);
        lc.login();
        return lc.getSubject();
    }

    static void client(String qops, String ccache, String principal) throws Exception {
        Subject subject = login(true, ccache, principal);
        Subject.doAs(subject, (PrivilegedExceptionAction<Void>) () -> {
            Map<String, String> props = new HashMap<>();
            props.put(Sasl.QOP, qops);
            props.put(Sasl.SERVER_AUTH, "true");
            SaslClient sc = Sasl.createSaslClient(new String[] {"GSSAPI"}, null, "nn", "localhost", props, null);
            byte[] t = sc.hasInitialResponse() ? sc.evaluateChallenge(new byte[0]) : new byte[0];
            send('T', t);
            while (true) {
                byte[] f = read();
                if (tag == 'T') {
                    send('T', sc.evaluateChallenge(f));
                } else if (tag == 'C') {
                    if (f.length > 0) sc.evaluateChallenge(f);
                    break;
                } else {
                    throw new IOException("unexpected frame " + tag);
                }
            }
            if (!sc.isComplete()) throw new IOException("server completed before the client");
            String qop = (String) sc.getNegotiatedProperty(Sasl.QOP);
            send('Q', qop);
            while (true) {
                byte[] f = read();
                if (tag == 'D') break;
                byte[] plain = sc.unwrap(f, 0, f.length);
                byte[] echo = ("echo:" + new String(plain, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
                send('W', sc.wrap(echo, 0, echo.length));
            }
            sc.dispose();
            return null;
        });
    }

    static void server(String qops, String keytab, String principal) throws Exception {
        Subject subject = login(false, keytab, principal);
        Subject.doAs(subject, (PrivilegedExceptionAction<Void>) () -> {
            Map<String, String> props = new HashMap<>();
            props.put(Sasl.QOP, qops);
            CallbackHandler cb = (Callback[] callbacks) -> {
                for (Callback c : callbacks) {
                    if (c instanceof AuthorizeCallback) {
                        AuthorizeCallback ac = (AuthorizeCallback) c;
                        // Hadoop's SaslGssCallbackHandler: authorized only as itself.
                        ac.setAuthorized(ac.getAuthenticationID().equals(ac.getAuthorizationID()));
                    }
                }
            };
            SaslServer ss = Sasl.createSaslServer("GSSAPI", "nn", "localhost", props, cb);
            while (true) {
                byte[] f = read();
                if (tag != 'T') throw new IOException("unexpected frame " + tag);
                byte[] c = ss.evaluateResponse(f);
                if (ss.isComplete()) {
                    send('C', c == null ? new byte[0] : c);
                    break;
                }
                send('T', c);
            }
            String qop = (String) ss.getNegotiatedProperty(Sasl.QOP);
            send('Q', qop);
            send('A', ss.getAuthorizationID());
            if (!qop.equals("auth")) {
                for (int i = 0; i < 3; i++) {
                    byte[] m = ("java server message " + i).getBytes(StandardCharsets.UTF_8);
                    send('W', ss.wrap(m, 0, m.length));
                    byte[] f = read();
                    if (tag != 'W') throw new IOException("unexpected frame " + tag);
                    byte[] plain = ss.unwrap(f, 0, f.length);
                    String got = new String(plain, StandardCharsets.UTF_8);
                    if (!got.equals("echo:java server message " + i)) throw new IOException("bad echo: " + got);
                }
            }
            send('D', new byte[0]);
            ss.dispose();
            return null;
        });
    }

    public static void main(String[] args) throws Exception {
        in = new DataInputStream(new BufferedInputStream(System.in));
        out = new DataOutputStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out)));
        System.setOut(System.err);
        try {
            if (args[0].equals("client")) client(args[1], args[2], args[3]);
            else server(args[1], args[2], args[3]);
        } catch (Throwable e) {
            e.printStackTrace();
            Throwable root = e;
            StringBuilder msg = new StringBuilder(e.toString());
            while (root.getCause() != null) {
                root = root.getCause();
                msg.append(" / ").append(root);
            }
            try {
                send('E', msg.toString());
            } catch (IOException ignored) {
            }
            System.exit(1);
        }
    }
}
