package dev.coldcopy.service;

/** One-line reasons for failures, as users and dead-letter readers see them. */
public final class Reasons {
    private static final String AWS_NO_CREDENTIALS = "Unable to load credentials from any of the providers";

    private Reasons() {}

    /** The most specific non-empty message in the cause chain, on one line, without the class name noise. */
    public static String oneLine(Throwable t) {
        if (t == null) {
            return "unknown failure";
        }
        Throwable current = t;
        // Camel wraps processor failures; the user's reason is the innermost meaningful message.
        while (current.getCause() != null && current.getCause() != current
                && (current instanceof org.apache.camel.CamelExecutionException
                        || current instanceof org.apache.camel.CamelExchangeException
                        || current instanceof org.apache.camel.RuntimeCamelException
                        || current instanceof java.util.concurrent.CompletionException
                        || current instanceof java.util.concurrent.ExecutionException
                        || current.getMessage() == null || current.getMessage().isBlank())) {
            current = current.getCause();
        }
        String message = current.getMessage();
        if (message == null || message.isBlank()) {
            message = current.getClass().getSimpleName();
        }
        if (message.startsWith(AWS_NO_CREDENTIALS)) {
            // the SDK lists every provider it tried, over a thousand characters: say what to set instead
            return "no S3 credentials: set COLDCOPY_REPOSITORY_S3_ACCESS_KEY and COLDCOPY_REPOSITORY_S3_SECRET_KEY (or"
                    + " AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or an AWS profile) in the environment, or"
                    + " coldcopy.repository.s3.access-key and .secret-key in the service's configuration";
        }
        return message.replaceAll("\\s*[\\r\\n]+\\s*", " ").strip();
    }
}
