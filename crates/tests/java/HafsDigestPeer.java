import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

import javax.security.auth.callback.Callback;
import javax.security.auth.callback.CallbackHandler;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.sasl.AuthorizeCallback;
import javax.security.sasl.RealmCallback;
import javax.security.sasl.RealmChoiceCallback;
import javax.security.sasl.Sasl;
import javax.security.sasl.SaslClient;
import javax.security.sasl.SaslServer;

/**
 * The JDK's own DIGEST-MD5 (com.sun.security.sasl.digest), as one side of a SASL exchange
 * with hafs's Rust mechanism, for crates/tests/tests/security_digest.rs.
 *
 * Usage: HafsDigestPeer client|server QOP PROTOCOL SERVER_NAME USER PASSWORD COUNT
 *
 * Tokens travel over stdin/stdout as int32 big-endian length + bytes. After the handshake
 * this side sends "ok QOP AUTHZID" in the clear; then, unless QOP is auth, COUNT messages:
 * the client wraps message(i) and the server answers with the reversed bytes, wrapped.
 * Each side checks what it unwraps. Any failure prints to stderr and exits non-zero.
 */
public class HafsDigestPeer {
    /** Both sides build the same messages: lengths 1..4999, a pattern per index. */
    static byte[] message(int i) {
        int len = 1 + (i * 997) % 4999;
        byte[] b = new byte[len];
        for (int j = 0; j < len; j++) {
            b[j] = (byte) (i + j * 31);
        }
        return b;
    }

    static byte[] reversed(byte[] b) {
        byte[] r = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            r[i] = b[b.length - 1 - i];
        }
        return r;
    }

    static byte[] read(DataInputStream in) throws IOException {
        int len = in.readInt();
        if (len < 0 || len > (1 << 20)) {
            throw new IOException("frame of " + len + " bytes");
        }
        byte[] b = new byte[len];
        in.readFully(b);
        return b;
    }

    static void write(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
        out.flush();
    }

    public static void main(String[] args) throws Exception {
        String role = args[0];
        String qop = args[1];
        String protocol = args[2];
        String serverName = args[3];
        String user = args[4];
        char[] password = args[5].toCharArray();
        int count = Integer.parseInt(args[6]);

        DataInputStream in = new DataInputStream(new BufferedInputStream(System.in));
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(System.out));
        Map<String, String> props = new HashMap<>();
        props.put(Sasl.QOP, qop);
        try {
            if (role.equals("server")) {
                server(in, out, props, protocol, serverName, user, password, count);
            } else {
                client(in, out, props, protocol, serverName, user, password, count);
            }
        } catch (Exception e) {
            e.printStackTrace();
            System.exit(3);
        }
    }

    static void server(DataInputStream in, DataOutputStream out, Map<String, String> props,
            String protocol, String serverName, String user, char[] password, int count)
            throws Exception {
        CallbackHandler handler = callbacks -> {
            String name = null;
            for (Callback cb : callbacks) {
                if (cb instanceof NameCallback) {
                    name = ((NameCallback) cb).getDefaultName();
                }
            }
            for (Callback cb : callbacks) {
                if (cb instanceof RealmCallback) {
                    RealmCallback rc = (RealmCallback) cb;
                    rc.setText(rc.getDefaultText());
                } else if (cb instanceof PasswordCallback) {
                    if (!user.equals(name)) {
                        throw new IOException("unknown user " + name);
                    }
                    ((PasswordCallback) cb).setPassword(password);
                } else if (cb instanceof AuthorizeCallback) {
                    AuthorizeCallback ac = (AuthorizeCallback) cb;
                    ac.setAuthorized(ac.getAuthenticationID().equals(ac.getAuthorizationID()));
                    if (ac.isAuthorized()) {
                        ac.setAuthorizedID(ac.getAuthorizationID());
                    }
                }
            }
        };
        SaslServer ss = Sasl.createSaslServer("DIGEST-MD5", protocol, serverName, props, handler);
        write(out, ss.evaluateResponse(new byte[0]));
        byte[] fin = ss.evaluateResponse(read(in));
        if (!ss.isComplete()) {
            throw new IllegalStateException("server not complete after the response");
        }
        write(out, fin == null ? new byte[0] : fin);
        String negotiated = (String) ss.getNegotiatedProperty(Sasl.QOP);
        write(out, ("ok " + negotiated + " " + ss.getAuthorizationID())
                .getBytes(StandardCharsets.UTF_8));
        if (negotiated.equals("auth")) {
            return;
        }
        for (int i = 0; i < count; i++) {
            byte[] wrapped = read(in);
            byte[] msg = ss.unwrap(wrapped, 0, wrapped.length);
            if (!Arrays.equals(msg, message(i))) {
                throw new IllegalStateException("message " + i + " differs");
            }
            byte[] reply = reversed(msg);
            write(out, ss.wrap(reply, 0, reply.length));
        }
    }

    static void client(DataInputStream in, DataOutputStream out, Map<String, String> props,
            String protocol, String serverName, String user, char[] password, int count)
            throws Exception {
        CallbackHandler handler = callbacks -> {
            for (Callback cb : callbacks) {
                if (cb instanceof NameCallback) {
                    ((NameCallback) cb).setName(user);
                } else if (cb instanceof PasswordCallback) {
                    ((PasswordCallback) cb).setPassword(password);
                } else if (cb instanceof RealmCallback) {
                    RealmCallback rc = (RealmCallback) cb;
                    rc.setText(rc.getDefaultText());
                } else if (cb instanceof RealmChoiceCallback) {
                    ((RealmChoiceCallback) cb).setSelectedIndex(0);
                }
            }
        };
        // No authorization id, as Hadoop's SaslRpcClient and SaslDataTransferClient pass.
        SaslClient sc = Sasl.createSaslClient(new String[] {"DIGEST-MD5"}, null, protocol,
                serverName, props, handler);
        if (sc.hasInitialResponse()) {
            throw new IllegalStateException("DIGEST-MD5 client has an initial response");
        }
        write(out, sc.evaluateChallenge(read(in)));
        byte[] last = sc.evaluateChallenge(read(in));
        if (!sc.isComplete() || (last != null && last.length != 0)) {
            throw new IllegalStateException("client not complete after rspauth");
        }
        String negotiated = (String) sc.getNegotiatedProperty(Sasl.QOP);
        write(out, ("ok " + negotiated + " -").getBytes(StandardCharsets.UTF_8));
        if (negotiated.equals("auth")) {
            return;
        }
        for (int i = 0; i < count; i++) {
            byte[] msg = message(i);
            write(out, sc.wrap(msg, 0, msg.length));
            byte[] wrapped = read(in);
            byte[] reply = sc.unwrap(wrapped, 0, wrapped.length);
            if (!Arrays.equals(reply, reversed(msg))) {
                throw new IllegalStateException("reply " + i + " differs");
            }
        }
    }
}
