package dev.coldcopy.repository.backend;

import dev.coldcopy.repository.ObjectNotFoundException;
import dev.coldcopy.repository.RepositoryException;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.component.aws2.s3.AWS2S3Constants;
import org.apache.camel.support.service.ServiceHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.AbortMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadResponse;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CopyObjectRequest;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectsRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

/**
 * A repository in an S3 bucket under a key prefix. Writes go through Camel's {@code aws2-s3:} endpoint
 * (a single PutObject is atomic on S3), objects larger than the multipart threshold go up in parts;
 * reads, existence checks (HeadObject) and listing use the same S3Client. coldcopy builds that client
 * itself (and hands it to the endpoint) so that it talks to S3-compatible stores the way they expect:
 * see {@link S3Settings}. Every upload carries Content-MD5, and unless {@code verify=content-md5} the ETag
 * the store answers must be the MD5 of what was sent, so a store (or proxy) that keeps something other
 * than the bytes sent fails the write instead of a later restore.
 * URI parameters: {@code endpoint}, {@code region} (else AWS_REGION, else us-east-1), the {@link S3Settings}
 * names, {@code accessKey}/{@code secretKey} (better: {@link RepositoryOptions.Builder#s3Credentials},
 * or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or the AWS default chain).
 */
public final class S3Backend implements RepositoryBackend {
    private static final Logger LOG = LoggerFactory.getLogger(S3Backend.class);
    /** how long a store without conditional writes gets to settle concurrent creations before the read-back */
    static final Duration SETTLE = Duration.ofMillis(Long.getLong("coldcopy.s3.settle-ms", 1500));

    private final String bucket;
    private final String prefix; // "" or "a/b/"
    private final String description;
    private final S3Settings settings;
    private final S3Client s3;
    private final String clientBean;
    private final CamelContext context;
    private final CamelDelivery delivery;
    private volatile Boolean conditionalWrites; // null: not probed yet

    public S3Backend(RepositoryUri uri, RepositoryOptions options, CamelContext context) throws RepositoryException {
        this.bucket = uri.bucket();
        this.prefix = uri.path().isEmpty() ? "" : uri.path() + "/";
        this.description = "s3://" + bucket + "/" + uri.path() + uri.param("endpoint").map(e -> " at " + e).orElse("");
        this.context = context;
        try {
            this.settings = S3Settings.of(uri, options.s3Settings());
        } catch (IllegalArgumentException e) {
            throw new RepositoryException("repository " + uri + ": " + e.getMessage(), e);
        }
        try {
            this.s3 = client(uri, options, settings);
        } catch (RuntimeException e) {
            throw new RepositoryException("cannot set up S3 access to " + description + ": " + CamelDelivery.describe(e), e);
        }
        // the endpoint finds the client in the registry under a name of its own (two repositories, two clients)
        this.clientBean = "coldcopy-s3-" + UUID.randomUUID();
        context.getRegistry().bind(clientBean, S3Client.class, s3);
        this.delivery = new CamelDelivery(context, endpointUri(bucket, clientBean), AWS2S3Constants.KEY);
        try {
            ServiceHelper.startService(delivery.endpoint());
        } catch (RuntimeException e) {
            close();
            throw new RepositoryException("cannot set up S3 access to " + description + ": " + CamelDelivery.describe(e), e);
        }
        LOG.debug("S3 repository {}: {}", description, settings);
    }

    static String endpointUri(String bucket, String clientBean) {
        return "aws2-s3://" + bucket + "?amazonS3Client=#" + clientBean + "&autoCreateBucket=false";
    }

    static S3Client client(RepositoryUri uri, RepositoryOptions options, S3Settings settings) {
        S3ClientBuilder b = S3Client.builder()
                .region(Region.of(settings.region()))
                .httpClientBuilder(ApacheHttpClient.builder())
                .credentialsProvider(credentials(uri, options))
                .requestChecksumCalculation(settings.checksum() == S3Settings.Checksum.WHEN_REQUIRED
                        ? RequestChecksumCalculation.WHEN_REQUIRED : RequestChecksumCalculation.WHEN_SUPPORTED)
                .responseChecksumValidation(settings.checksum() == S3Settings.Checksum.WHEN_REQUIRED
                        ? ResponseChecksumValidation.WHEN_REQUIRED : ResponseChecksumValidation.WHEN_SUPPORTED)
                .serviceConfiguration(S3Configuration.builder()
                        .pathStyleAccessEnabled(settings.pathStyle())
                        .chunkedEncodingEnabled(settings.chunkedEncoding())
                        .build());
        settings.endpoint().ifPresent(b::endpointOverride);
        return b.build();
    }

    private static AwsCredentialsProvider credentials(RepositoryUri uri, RepositoryOptions options) {
        Optional<String> access = options.s3AccessKey().or(() -> uri.param("accessKey"));
        Optional<String> secret = options.s3SecretKey().or(() -> uri.param("secretKey"));
        if (access.isEmpty() && System.getenv("AWS_ACCESS_KEY_ID") != null && System.getenv("AWS_SECRET_ACCESS_KEY") != null) {
            access = Optional.of(System.getenv("AWS_ACCESS_KEY_ID"));
            secret = Optional.of(System.getenv("AWS_SECRET_ACCESS_KEY"));
        }
        if (access.isPresent() && secret.isPresent()) {
            return StaticCredentialsProvider.create(AwsBasicCredentials.create(access.get(), secret.get()));
        }
        return DefaultCredentialsProvider.builder().build();
    }

    /** the settings this backend's client runs with */
    public S3Settings settings() {
        return settings;
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

    /** one ranged GET: its Content-Range ("bytes 0-15/TOTAL") also tells the object's length */
    @Override
    public Optional<ObjectHead> head(String key, int bytes) throws IOException {
        try {
            ResponseBytes<GetObjectResponse> r = s3.getObjectAsBytes(GetObjectRequest.builder().bucket(bucket).key(prefix + key)
                    .range("bytes=0-" + (bytes - 1)).build());
            String range = r.response().contentRange();
            long length = range != null && range.lastIndexOf('/') > 0
                    ? Long.parseLong(range.substring(range.lastIndexOf('/') + 1).trim())
                    : r.asByteArray().length; // the server ignored the range and sent it all
            byte[] all = r.asByteArray();
            return Optional.of(new ObjectHead(length, all.length <= bytes ? all : java.util.Arrays.copyOf(all, bytes)));
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return Optional.empty();
            }
            if (e.statusCode() == 416) { // no byte satisfies the range: the object is empty
                return Optional.of(new ObjectHead(0, new byte[0]));
            }
            throw failure("checking " + key, e);
        } catch (SdkException | NumberFormatException e) {
            throw failure("checking " + key, e);
        }
    }

    /** S3 has no rename: a server-side copy, then the source is deleted */
    @Override
    public void move(String from, String to) throws IOException {
        if (!exists(from)) {
            throw new ObjectNotFoundException(from, description);
        }
        if (exists(to)) {
            throw new RepositoryException("moving " + from + " to " + to + " in " + description + " failed: the target exists");
        }
        try {
            s3.copyObject(CopyObjectRequest.builder().sourceBucket(bucket).sourceKey(prefix + from)
                    .destinationBucket(bucket).destinationKey(prefix + to).build());
            s3.deleteObject(DeleteObjectRequest.builder().bucket(bucket).key(prefix + from).build());
        } catch (SdkException e) {
            throw failure("moving " + from + " to " + to, e);
        }
    }

    @Override
    public void put(String key, byte[] data) throws IOException {
        if (data.length > settings.multipartThreshold()) {
            putMultipart(key, data);
            return;
        }
        byte[] md5 = StoredDigest.md5(data);
        Exchange result = delivery.send(key, prefix + key, data, Map.of(
                AWS2S3Constants.CONTENT_LENGTH, (long) data.length,
                AWS2S3Constants.CONTENT_MD5, Base64.getEncoder().encodeToString(md5)));
        if (settings.verify() == S3Settings.Verify.ETAG) {
            StoredDigest.checkETag(key, description, result.getMessage().getHeader(AWS2S3Constants.E_TAG, String.class), md5);
        }
    }

    /**
     * Uploads a large object in parts of {@link S3Settings#partSizeFor} bytes (at most 10,000 of them), each
     * with its Content-MD5 and its ETag checked; the object's multipart ETag (MD5 of the part MD5s, "-N")
     * is checked too. A failed upload is aborted so no parts are left to pay for.
     */
    private void putMultipart(String key, byte[] data) throws IOException {
        long partSize = settings.partSizeFor(data.length);
        String upload = null;
        String step = "starting";
        try {
            upload = s3.createMultipartUpload(CreateMultipartUploadRequest.builder().bucket(bucket).key(prefix + key).build()).uploadId();
            List<CompletedPart> parts = new ArrayList<>();
            List<byte[]> md5s = new ArrayList<>();
            for (long off = 0; off < data.length; off += partSize) {
                int len = (int) Math.min(partSize, data.length - off);
                byte[] md5 = StoredDigest.md5(data, (int) off, len);
                int number = parts.size() + 1;
                step = "uploading part " + number + " of";
                UploadPartResponse r = s3.uploadPart(UploadPartRequest.builder().bucket(bucket).key(prefix + key)
                                .uploadId(upload).partNumber(number).contentLength((long) len)
                                .contentMD5(Base64.getEncoder().encodeToString(md5)).build(),
                        RequestBody.fromRemainingByteBuffer(ByteBuffer.wrap(data, (int) off, len)));
                if (settings.verify() == S3Settings.Verify.ETAG) {
                    StoredDigest.checkETag(key + " part " + number, description, r.eTag(), md5);
                }
                md5s.add(md5);
                parts.add(CompletedPart.builder().partNumber(number).eTag(r.eTag()).build());
            }
            step = "completing";
            CompleteMultipartUploadResponse done = s3.completeMultipartUpload(CompleteMultipartUploadRequest.builder()
                    .bucket(bucket).key(prefix + key).uploadId(upload)
                    .multipartUpload(CompletedMultipartUpload.builder().parts(parts).build()).build());
            upload = null;
            if (settings.verify() == S3Settings.Verify.ETAG) {
                StoredDigest.checkMultipartETag(key, description, done.eTag(), md5s);
            }
            delivery.count();
        } catch (SdkException e) {
            throw failure(step + " the multipart upload of " + key, e);
        } finally {
            if (upload != null) {
                try {
                    s3.abortMultipartUpload(AbortMultipartUploadRequest.builder().bucket(bucket).key(prefix + key).uploadId(upload).build());
                } catch (SdkException e) {
                    LOG.warn("aborting the multipart upload of {} in {} failed: {}", key, description, CamelDelivery.describe(e));
                }
            }
        }
    }

    /**
     * With conditional writes ({@code If-None-Match: *}, which AWS S3, MinIO, R2 and others honour), the
     * store decides who creates the object. A store that ignores the condition (found out once, with a
     * probe object) gets: look, write, look again. Outside AWS a store may also check the condition and
     * write without a lock between them, so there every creator then waits for concurrent writes to land
     * and reads back: only the one whose object is there has created it; the others adopt that one (and
     * the repository re-reads its config before the first commit, in case a write landed later still).
     */
    @Override
    public boolean createExclusive(String key, byte[] data) throws IOException {
        if (conditionalWrites()) {
            try {
                putIfAbsent(key, data);
                delivery.count();
            } catch (S3Exception e) {
                if (e.statusCode() == 412 || e.statusCode() == 409) {
                    return false; // 409: another conditional write of the key was in flight; it wins
                }
                throw failure("creating " + key, e);
            } catch (SdkException e) {
                throw failure("creating " + key, e);
            }
            if (settings.aws()) {
                return true;
            }
        } else {
            if (exists(key)) {
                return false;
            }
            put(key, data);
        }
        try {
            Thread.sleep(SETTLE.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RepositoryException("interrupted while creating " + key + " in " + description);
        }
        return Arrays.equals(get(key), data);
    }

    @Override
    public Duration creationSettleTime() {
        return settings.aws() ? Duration.ZERO : SETTLE;
    }

    private void putIfAbsent(String key, byte[] data) {
        byte[] md5 = StoredDigest.md5(data);
        s3.putObject(PutObjectRequest.builder().bucket(bucket).key(prefix + key).ifNoneMatch("*")
                .contentLength((long) data.length).contentMD5(Base64.getEncoder().encodeToString(md5)).build(),
                RequestBody.fromBytes(data));
    }

    /** whether the store refuses a second {@code If-None-Match: *} PUT of a key (asked once, with a probe key) */
    synchronized boolean conditionalWrites() throws IOException {
        if (conditionalWrites == null) {
            String probe = "probes/conditional-" + UUID.randomUUID();
            byte[] body = "coldcopy conditional write probe\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            try {
                putIfAbsent(probe, body);
                try {
                    putIfAbsent(probe, body);
                    conditionalWrites = false;
                } catch (S3Exception e) {
                    conditionalWrites = e.statusCode() == 412 || e.statusCode() == 409;
                }
            } catch (S3Exception e) {
                if (e.statusCode() == 501 || e.statusCode() == 400) {
                    conditionalWrites = false; // NotImplemented, or a store that does not know the header
                } else {
                    throw failure("probing conditional writes", e);
                }
            } catch (SdkException e) {
                throw failure("probing conditional writes", e);
            } finally {
                try {
                    delete(probe);
                } catch (IOException e) {
                    LOG.debug("removing the probe {} failed: {}", probe, e.getMessage()); // the probe's own outcome matters more
                }
            }
            LOG.debug("{} {} conditional writes", description, conditionalWrites ? "honours" : "does not honour");
        }
        return conditionalWrites;
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

    private RepositoryException failure(String what, Exception e) {
        String message = what + " in " + description + " failed: " + CamelDelivery.describe(e);
        if (e instanceof S3Exception s3e && s3e.statusCode() == 403) {
            return new dev.coldcopy.repository.RepositoryAccessDeniedException(message
                    + " (check the S3 access key and secret: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or coldcopy.repository.s3.*)", e);
        }
        return new RepositoryException(message, e);
    }

    @Override
    public CamelDelivery delivery() {
        return delivery;
    }

    @Override
    public void close() {
        if (delivery != null) {
            delivery.close();
        }
        try {
            context.getRegistry().unbind(clientBean);
        } catch (RuntimeException e) {
            // best effort
        }
        s3.close();
    }
}
