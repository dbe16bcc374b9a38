// The test harness's fix for a gap in Hadoop 3.5.0's shaded client: WebHdfsFileSystem
// parses every JSON reply's Content-Type with the shaded JAX-RS MediaType.valueOf, and
// hadoop-client-runtime ships the JAX-RS API but no implementation, so every webhdfs://
// call fails with "ClassNotFoundException: ...glassfish.jersey.internal.RuntimeDelegateImpl"
// (real Hadoop NameNodes hit the same). This delegate does the one thing the client
// needs, turning "type/subtype; k=v" into a MediaType; everything else is refused.
// scripts/test-deps.sh compiles it into jaxrs-shim.jar in the Hadoop jars dir, with the
// service file that makes RuntimeDelegate.getInstance() find it.
package hafs.testshim;

import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.hadoop.shaded.javax.ws.rs.core.Application;
import org.apache.hadoop.shaded.javax.ws.rs.core.Link;
import org.apache.hadoop.shaded.javax.ws.rs.core.MediaType;
import org.apache.hadoop.shaded.javax.ws.rs.core.Response;
import org.apache.hadoop.shaded.javax.ws.rs.core.UriBuilder;
import org.apache.hadoop.shaded.javax.ws.rs.core.Variant;
import org.apache.hadoop.shaded.javax.ws.rs.ext.RuntimeDelegate;

public final class MediaTypeRuntimeDelegate extends RuntimeDelegate {
    private static final HeaderDelegate<MediaType> MEDIA_TYPE = new HeaderDelegate<MediaType>() {
        @Override
        public MediaType fromString(String value) {
            if (value == null) {
                throw new IllegalArgumentException("no media type");
            }
            String[] parts = value.split(";");
            String[] type = parts[0].trim().split("/", 2);
            if (type.length != 2 || type[0].isEmpty() || type[1].isEmpty()) {
                throw new IllegalArgumentException("not a media type: " + value);
            }
            Map<String, String> params = new LinkedHashMap<>();
            for (int i = 1; i < parts.length; i++) {
                String[] kv = parts[i].trim().split("=", 2);
                if (kv.length == 2) {
                    params.put(kv[0].trim().toLowerCase(), kv[1].trim().replace("\"", ""));
                }
            }
            return new MediaType(type[0].trim(), type[1].trim(), params);
        }

        @Override
        public String toString(MediaType m) {
            StringBuilder b = new StringBuilder(m.getType()).append('/').append(m.getSubtype());
            for (Map.Entry<String, String> e : m.getParameters().entrySet()) {
                b.append("; ").append(e.getKey()).append('=').append(e.getValue());
            }
            return b.toString();
        }
    };

    @Override
    @SuppressWarnings("unchecked")
    public <T> HeaderDelegate<T> createHeaderDelegate(Class<T> type) {
        if (type == MediaType.class) {
            return (HeaderDelegate<T>) MEDIA_TYPE;
        }
        throw new IllegalArgumentException("the hafs test shim only parses MediaType, not " + type);
    }

    @Override
    public UriBuilder createUriBuilder() {
        throw new UnsupportedOperationException("UriBuilder: not in the hafs test shim");
    }

    @Override
    public Response.ResponseBuilder createResponseBuilder() {
        throw new UnsupportedOperationException("ResponseBuilder: not in the hafs test shim");
    }

    @Override
    public Variant.VariantListBuilder createVariantListBuilder() {
        throw new UnsupportedOperationException("VariantListBuilder: not in the hafs test shim");
    }

    @Override
    public <T> T createEndpoint(Application application, Class<T> endpointType) {
        throw new UnsupportedOperationException("endpoints: not in the hafs test shim");
    }

    @Override
    public Link.Builder createLinkBuilder() {
        throw new UnsupportedOperationException("Link.Builder: not in the hafs test shim");
    }
}
