import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;

import org.apache.hadoop.conf.Configurable;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.net.NetUtils;
import org.apache.hadoop.net.StandardSocketFactory;

/**
 * The socket factory of the reference cluster's DataNodes when each has its own
 * loopback address (scripts/reference-hdfs.sh start --datanode-hosts): every socket a
 * DataNode opens (its RPC to the NameNodes, its data transfer to other DataNodes) is
 * bound to the host of its own dfs.datanode.address before it connects.
 *
 * Why: the NameNode takes a DataNode's IP address from the RPC connection's source
 * address, and resolves its rack from that IP. Hadoop binds an RPC client socket only
 * under Kerberos, so without this every DataNode on one machine would register from
 * 127.0.0.1 and land on one rack. Set through hadoop.rpc.socket.factory.class.default
 * on the DataNodes' command line only.
 */
public class DataNodeBoundSocketFactory extends StandardSocketFactory implements Configurable {
    private Configuration conf;
    private InetAddress local;

    @Override
    public void setConf(Configuration conf) {
        this.conf = conf;
        String addr = conf.get("dfs.datanode.address", "0.0.0.0:0");
        this.local = NetUtils.createSocketAddr(addr).getAddress();
    }

    @Override
    public Configuration getConf() {
        return conf;
    }

    @Override
    public Socket createSocket() throws IOException {
        Socket socket = super.createSocket();
        if (local != null) {
            socket.bind(new InetSocketAddress(local, 0));
        }
        return socket;
    }
}
