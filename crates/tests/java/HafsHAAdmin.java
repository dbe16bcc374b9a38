// Hadoop's own HAAdmin (org.apache.hadoop.ha.HAAdmin, abstract, in the client jars) made
// concrete for the hafs tests: NameNode ids resolve through the configuration
// (dfs.ha.namenodes.<ns>, dfs.namenode.rpc-address.<ns>.<id>) to HAServiceTargets, so the
// real Java HAServiceProtocol client talks to hafs NameNodes. hadoop-hdfs's
// NNHAServiceTarget does the same in Hadoop but is not in the client jars.
//
//   java -cp <conf dir>:<classes>:<jars>/* HafsHAAdmin -ns <ns> -getServiceState nn1

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.ha.BadFencingConfigurationException;
import org.apache.hadoop.ha.HAAdmin;
import org.apache.hadoop.ha.HAServiceTarget;
import org.apache.hadoop.ha.NodeFencer;
import org.apache.hadoop.util.ToolRunner;

public class HafsHAAdmin extends HAAdmin {
    private String nameservice;

    @Override
    protected String getUsageString() {
        return "Usage: haadmin [-ns <nameserviceId>]";
    }

    private String ns() {
        if (nameservice != null) {
            return nameservice;
        }
        Collection<String> all = getConf().getTrimmedStringCollection("dfs.nameservices");
        if (all.size() != 1) {
            throw new IllegalArgumentException("give the nameservice with -ns");
        }
        return all.iterator().next();
    }

    @Override
    protected HAServiceTarget resolveTarget(String nnId) {
        String ns = ns();
        String addr = getConf().getTrimmed("dfs.namenode.rpc-address." + ns + "." + nnId);
        if (addr == null || addr.isEmpty()) {
            throw new IllegalArgumentException(
                "Unable to determine service address for namenode '" + nnId + "'");
        }
        int colon = addr.lastIndexOf(':');
        InetSocketAddress sa = new InetSocketAddress(
            addr.substring(0, colon), Integer.parseInt(addr.substring(colon + 1)));
        return new Target(getConf(), ns, nnId, sa);
    }

    @Override
    protected Collection<String> getTargetIds(String targetNodeToActivate) {
        return new ArrayList<String>(
            getConf().getTrimmedStringCollection("dfs.ha.namenodes." + ns()));
    }

    @Override
    protected int runCmd(String[] argv) throws Exception {
        if (argv.length >= 2 && "-ns".equals(argv[0])) {
            nameservice = argv[1];
            argv = Arrays.copyOfRange(argv, 2, argv.length);
        }
        return super.runCmd(argv);
    }

    /** A NameNode of the nameservice, as hadoop-hdfs's NNHAServiceTarget describes it. */
    static class Target extends HAServiceTarget {
        private final Configuration conf;
        private final String ns;
        private final String nnId;
        private final InetSocketAddress addr;

        Target(Configuration conf, String ns, String nnId, InetSocketAddress addr) {
            this.conf = conf;
            this.ns = ns;
            this.nnId = nnId;
            this.addr = addr;
        }

        @Override
        public InetSocketAddress getAddress() {
            return addr;
        }

        @Override
        public InetSocketAddress getZKFCAddress() {
            return null;
        }

        @Override
        public NodeFencer getFencer() {
            try {
                return NodeFencer.create(conf, "dfs.ha.fencing.methods");
            } catch (BadFencingConfigurationException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        }

        @Override
        public void checkFencingConfigured() throws BadFencingConfigurationException {
            if (getFencer() == null) {
                throw new BadFencingConfigurationException("No fencer configured for " + this);
            }
        }

        @Override
        public boolean isAutoFailoverEnabled() {
            return conf.getBoolean("dfs.ha.automatic-failover.enabled." + ns,
                conf.getBoolean("dfs.ha.automatic-failover.enabled", false));
        }

        @Override
        protected void addFencingParameters(Map<String, String> ret) {
            super.addFencingParameters(ret);
            ret.put("nameserviceid", ns);
            ret.put("namenodeid", nnId);
        }

        @Override
        public String toString() {
            return "NameNode at " + addr;
        }
    }

    public static void main(String[] argv) throws Exception {
        Configuration conf = new Configuration();
        conf.addResource("hdfs-site.xml");
        System.exit(ToolRunner.run(conf, new HafsHAAdmin(), argv));
    }
}
