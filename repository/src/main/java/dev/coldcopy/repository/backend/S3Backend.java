package dev.coldcopy.repository.backend;

import dev.coldcopy.repository.ObjectNotFoundException;
import dev.coldcopy.repository.RepositoryException;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.camel.CamelContext;
import org.apache.camel.component.aws2.s3.AWS2S3Constants;
import org.apache.camel.component.aws2.s3.AWS2S3Endpoint;
import org.apache.camel.support.service.ServiceHelper;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectsRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A repository in an S3 bucket under a key prefix. Writes go through Camel's {@code aws2-s3:} endpoint
 * (a single PutObject is atomic on S3); reads, existence checks (HeadObject) and listing use the
 * endpoint's own S3Client. URI parameters: {@code endpoint} (any S3-compatible server; path-style
 * addressing then by default), {@code region} (else AWS_REGION, else us-east-1), {@code forcePathStyle},
 * {@code accessKey}/{@code secretKey} (better: {@link RepositoryOptions.Builder#s3Credentials},
 * or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or the AWS default chain).
 */
public final class S3Backend implements RepositoryBackend {
    private final String bucket;
    private final String prefix; // "" or "a/b/"
    private final String description;
    private final CamelDelivery delivery;
    private final S3Client s3;

    public S3Backend(RepositoryUri uri, RepositoryOptions options, CamelContext context) throws RepositoryException {
        this.bucket = uri.bucket();
        this.prefix = uri.path().isEmpty() ? "" : uri.path() + "/";
        this.description = "s3://" + bucket + "/" + uri.path() + uri.param("endpoint").map(e -> " at " + e).orElse("");
        String endpointUri = endpointUri(uri, options);
        this.delivery = new CamelDelivery(context, endpointUri, AWS2S3Constants.KEY);
        try {
            ServiceHelper.startService(delivery.endpoint());
        } catch (RuntimeException e) {
            throw new RepositoryException("cannot set up S3 access to " + description + ": " + CamelDelivery.describe(e), e);
        }
        this.s3 = ((AWS2S3Endpoint) delivery.endpoint()).getS3Client();
    }

    static String endpointUri(RepositoryUri uri, RepositoryOptions options) {
        StringBuilder sb = new StringBuilder("aws2-s3://").append(uri.bucket()).append('?');
        String region = uri.param("region").or(() -> Optional.ofNullable(System.getenv("AWS_REGION"))).orElse("us-east-1");
        sb.append("region=").append(region);
        Optional<String> endpoint = uri.param("endpoint");
        if (endpoint.isPresent()) {
            sb.append("&overrideEndpoint=true&uriEndpointOverride=").append(endpoint.get());
        }
        boolean pathStyle = uri.param("forcePathStyle").map(Boolean::parseBoolean).orElse(endpoint.isPresent());
        if (pathStyle) {
            sb.append("&forcePathStyle=true");
        }
        Optional<String> access = options.s3AccessKey().or(() -> uri.param("accessKey"));
        Optional<String> secret = options.s3SecretKey().or(() -> uri.param("secretKey"));
        if (access.isEmpty() && System.getenv("AWS_ACCESS_KEY_ID") != null && System.getenv("AWS_SECRET_ACCESS_KEY") != null) {
            access = Optional.of(System.getenv("AWS_ACCESS_KEY_ID"));
            secret = Optional.of(System.getenv("AWS_SECRET_ACCESS_KEY"));
        }
        if (access.isPresent() && secret.isPresent()) {
            // RAW(): Camel takes the value as is, and masks accessKey/secretKey when it logs endpoint URIs
            sb.append("&accessKey=RAW(").append(access.get()).append(")&secretKey=RAW(").append(secret.get()).append(')');
        } else {
            sb.append("&useDefaultCredentialsProvider=true");
        }
        return sb.toString();
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public boolean exists(String key) throws IOException {
        try {
            s3.headObject(HeadObjectRequest.builder().bucket(bucket).key(prefix + key).build());
            return true;
        } catch (NoSuchKeyException e) {
            return false;
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return false;
            }
            throw failure("checking " + key, e);
        } catch (SdkException e) {
            throw failure("checking " + key, e);
        }
    }

    @Override
    public void put(String key, byte[] data) throws IOException {
        delivery.send(key, prefix + key, data, Map.of(AWS2S3Constants.CONTENT_LENGTH, (long) data.length));
    }

    @Override
    public byte[] get(String key) throws IOException {
        try {
            return s3.getObjectAsBytes(GetObjectRequest.builder().bucket(bucket).key(prefix + key).build()).asByteArray();
        } catch (NoSuchKeyException e) {
            throw new ObjectNotFoundException(key, description);
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                throw new ObjectNotFoundException(key, description);
            }
            throw failure("reading " + key, e);
        } catch (SdkException e) {
            throw failure("reading " + key, e);
        }
    }

    @Override
    public Map<String, Long> listSizes(String keyPrefix) throws IOException {
        Map<String, Long> keys = new HashMap<>();
        try {
            for (S3Object o : s3.listObjectsV2Paginator(ListObjectsV2Request.builder().bucket(bucket).prefix(prefix + keyPrefix).build()).contents()) {
                keys.put(o.key().substring(prefix.length()), o.size());
            }
        } catch (SdkException e) {
            throw failure("listing " + keyPrefix, e);
        }
        return keys;
    }

    /** DeleteObjects, up to 1,000 keys a request (the S3 limit) */
    @Override
    public void deleteAll(List<String> keys) throws IOException {
        for (int from = 0; from < keys.size(); from += 1000) {
            List<ObjectIdentifier> batch = new ArrayList<>();
            for (String key : keys.subList(from, Math.min(keys.size(), from + 1000))) {
                batch.add(ObjectIdentifier.builder().key(prefix + key).build());
            }
            try {
                DeleteObjectsResponse r = s3.deleteObjects(DeleteObjectsRequest.builder().bucket(bucket)
                        .delete(Delete.builder().objects(batch).quiet(true).build()).build());
                if (r.hasErrors() && !r.errors().isEmpty()) {
                    throw new RepositoryException("deleting " + r.errors().get(0).key() + " in " + description + " failed: "
                            + r.errors().get(0).code() + " " + r.errors().get(0).message()
                            + (r.errors().size() > 1 ? " (and " + (r.errors().size() - 1) + " more)" : ""));
                }
            } catch (SdkException e) {
                throw failure("deleting " + batch.size() + " objects", e);
            }
        }
    }

    @Override
    public void delete(String key) throws IOException {
        try {
            s3.deleteObject(DeleteObjectRequest.builder().bucket(bucket).key(prefix + key).build());
        } catch (SdkException e) {
            throw failure("deleting " + key, e);
        }
    }



    @Override
    public String keyHeaderValue(String key) {
        return prefix + key;
    }


    /** the S3 client the endpoint uses (for tools and tests) */
    public S3Client client() {
        return s3;
    }

    private RepositoryException failure(String what, Exception e) {
        return new RepositoryException(what + " in " + description + " failed: " + CamelDelivery.describe(e), e);
    }

    @Override
    public CamelDelivery delivery() {
        return delivery;
    }

    @Override
    public void close() {
        delivery.close();
    }
}
