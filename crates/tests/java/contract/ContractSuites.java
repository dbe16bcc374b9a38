// Hadoop's FileSystem contract suites (org.apache.hadoop.fs.contract.AbstractContract*Test
// in hadoop-common's test jar) against an external, already running cluster: the one
// whose conf dir is first on the classpath (its fs.defaultFS). Run by
// crates/tests/tests/contract_suites.rs against hafs and against the reference HDFS.
//
//   java -cp <conf dir>:<these classes>:<hadoop jars>:<test jars> ContractSuites \
//       <contract options xml> <suite>...
//
// For each suite it prints one line per test and a closing line per suite:
//   test <Suite> <display name> PASS|FAIL|SKIP [reason]
//   suite <Suite> passed=<n> failed=<n> skipped=<n>

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.contract.*;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

public class ContractSuites {
    /** The contract options file (what the file system promises), from main's first argument. */
    static String optionsFile;

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: ContractSuites <contract options xml> <suite>...");
            System.exit(2);
        }
        optionsFile = args[0];
        Launcher launcher = LauncherFactory.create();
        for (int i = 1; i < args.length; i++) {
            String suite = args[i];
            Class<?> cls;
            try {
                cls = Class.forName(suite + "Suite");
            } catch (ClassNotFoundException e) {
                System.err.println("unknown suite " + suite);
                System.exit(2);
                return;
            }
            Counter counter = new Counter(suite);
            LauncherDiscoveryRequest request =
                LauncherDiscoveryRequestBuilder.request().selectors(selectClass(cls)).build();
            launcher.execute(request, counter);
            System.out.println("suite " + suite + " passed=" + counter.passed + " failed="
                + counter.failed + " skipped=" + counter.skipped);
            System.out.flush();
        }
    }

    /** Prints each test's outcome and counts them. */
    static final class Counter implements TestExecutionListener {
        final String suite;
        int passed, failed, skipped;

        Counter(String suite) {
            this.suite = suite;
        }

        private String name(TestIdentifier id) {
            // The unique id's method segment, e.g. testCreateNewFile() or
            // testRename()[2]: stable where display names are not.
            String uid = id.getUniqueId();
            int m = uid.lastIndexOf("[method:");
            if (m < 0) m = uid.lastIndexOf("[test-template:");
            String name = m < 0 ? id.getDisplayName() : uid.substring(uid.indexOf(':', m) + 1);
            name = name.replace("]/[test-template-invocation:#", "#").replace("]", "");
            int c = uid.indexOf("[class-template-invocation:#");
            if (c >= 0) {
                int end = uid.indexOf(']', c);
                name = name + "@" + uid.substring(c + "[class-template-invocation:#".length(), end);
            }
            return name.replace(' ', '_');
        }

        private static String reason(Optional<Throwable> t) {
            return t.map(e -> {
                String msg = e.getClass().getName() + ": " + e.getMessage();
                int nl = msg.indexOf('\n');
                msg = nl < 0 ? msg : msg.substring(0, nl);
                return msg.length() > 300 ? msg.substring(0, 300) + "…" : msg;
            }).orElse("");
        }

        @Override
        public void executionSkipped(TestIdentifier id, String why) {
            if (id.isTest()) {
                skipped++;
                System.out.println("test " + suite + " " + name(id) + " SKIP " + oneLine(why));
            } else {
                // A skipped container (a disabled class) counts as one skip.
                skipped++;
                System.out.println("test " + suite + " " + name(id) + " SKIP " + oneLine(why));
            }
        }

        @Override
        public void executionFinished(TestIdentifier id, TestExecutionResult r) {
            if (!id.isTest()) {
                // A container failing (a @BeforeAll, the class's setup) fails the suite.
                if (r.getStatus() == TestExecutionResult.Status.FAILED) {
                    failed++;
                    System.out.println("test " + suite + " " + name(id) + " FAIL "
                        + reason(r.getThrowable()));
                }
                return;
            }
            switch (r.getStatus()) {
                case SUCCESSFUL:
                    passed++;
                    System.out.println("test " + suite + " " + name(id) + " PASS");
                    break;
                case ABORTED:
                    // An assumption that did not hold: the suite chose to skip.
                    skipped++;
                    System.out.println("test " + suite + " " + name(id) + " SKIP "
                        + reason(r.getThrowable()));
                    break;
                default:
                    failed++;
                    System.out.println("test " + suite + " " + name(id) + " FAIL "
                        + reason(r.getThrowable()));
            }
        }

        private static String oneLine(String s) {
            return s == null ? "" : s.replace('\n', ' ');
        }
    }
}

/**
 * The contract binding: the cluster of the conf dir on the classpath (fs.defaultFS), with
 * the options file HDFS's contract declares, tests under /test.
 */
class ExternalClusterContract extends AbstractFSContract {
    private FileSystem fs;

    ExternalClusterContract(Configuration conf) {
        super(conf);
        getConf().addResource(new Path(ContractSuites.optionsFile));
    }

    @Override
    public void init() throws IOException {
        super.init();
        fs = FileSystem.get(getConf());
    }

    @Override
    public FileSystem getTestFileSystem() {
        return fs;
    }

    @Override
    public String getScheme() {
        return "hdfs";
    }

    @Override
    public Path getTestPath() {
        return new Path("/test");
    }
}

// One concrete class per abstract suite, each bound to the external cluster; the
// suites are the ones hadoop-hdfs runs against HDFS (its TestHDFSContract* classes).

class AppendSuite extends AbstractContractAppendTest {
    @Override protected AbstractFSContract createContract(Configuration c) { return new ExternalClusterContract(c); }
}

class BulkDeleteSuite extends AbstractContractBulkDeleteTest {
    @Override protected AbstractFSContract createContract(Configuration c) { return new ExternalClusterContract(c); }
}

class ConcatSuite extends AbstractContractConcatTest {
    @Override protected AbstractFSContract createContract(Configuration c) { return new ExternalClusterContract(c); }
}

class CreateSuite extends AbstractContractCreateTest {
    @Override protected AbstractFSContract createContract(Configuration c) { return new ExternalClusterContract(c); }
}

class DeleteSuite extends AbstractContractDeleteTest {
    @Override protected AbstractFSContract createContract(Configuration c) { return new ExternalClusterContract(c); }
}

class GetFileStatusSuite extends AbstractContractGetFileStatusTest {
    @Override protected AbstractFSContract createContract(Configuration c) { return new ExternalClusterContract(c); }
}

class LeaseRecoverySuite extends AbstractContractLeaseRecoveryTest {
    @Override protected AbstractFSContract createContract(Configuration c) { return new ExternalClusterContract(c); }
}

class MkdirSuite extends AbstractContractMkdirTest {
    @Override protected AbstractFSContract createContract(Configuration c) { return new ExternalClusterContract(c); }
}

class MultipartUploaderSuite extends AbstractContractMultipartUploaderTest {
    @Override protected AbstractFSContract createContract(Configuration c) { return new ExternalClusterContract(c); }
    // HDFS's values: small parts, an upload id consumed by its completion, concurrent
    // uploads to one path allowed.
    @Override protected int partSizeInBytes() { return 1024; }
    @Override protected boolean finalizeConsumesUploadIdImmediately() { return true; }
    @Override protected boolean supportsConcurrentUploadsToSamePath() { return true; }
}

class OpenSuite extends AbstractContractOpenTest {
    @Override protected AbstractFSContract createContract(Configuration c) { return new ExternalClusterContract(c); }
}

class PathHandleSuite extends AbstractContractPathHandleTest {
    @Override protected AbstractFSContract createContract(Configuration c) { return new ExternalClusterContract(c); }
}

class RenameSuite extends AbstractContractRenameTest {
    @Override protected AbstractFSContract createContract(Configuration c) { return new ExternalClusterContract(c); }
}

class RootDirectorySuite extends AbstractContractRootDirectoryTest {
    @Override protected AbstractFSContract createContract(Configuration c) { return new ExternalClusterContract(c); }
}

class SafeModeSuite extends AbstractContractSafeModeTest {
    @Override protected AbstractFSContract createContract(Configuration c) { return new ExternalClusterContract(c); }
}

class SeekSuite extends AbstractContractSeekTest {
    @Override protected AbstractFSContract createContract(Configuration c) { return new ExternalClusterContract(c); }
}

class SetTimesSuite extends AbstractContractSetTimesTest {
    @Override protected AbstractFSContract createContract(Configuration c) { return new ExternalClusterContract(c); }
}

class UnbufferSuite extends AbstractContractUnbufferTest {
    @Override protected AbstractFSContract createContract(Configuration c) { return new ExternalClusterContract(c); }
}

@ParameterizedClass
@MethodSource("params")
class VectoredReadSuite extends AbstractContractVectoredReadTest {
    VectoredReadSuite(String bufferType) { super(bufferType); }
    @Override protected AbstractFSContract createContract(Configuration c) { return new ExternalClusterContract(c); }
}
