package dev.coldcopy.service;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.camel.RuntimeCamelException;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.exception.SdkClientException;

/** One-line reasons (pure logic). */
class ReasonsTest {

    @Test
    void theInnermostMessageOnOneLine() {
        assertThat(Reasons.oneLine(new RuntimeCamelException(new IllegalStateException("disk vda:\n  gone"))))
                .isEqualTo("disk vda: gone");
    }

    @Test
    void missingS3CredentialsSayWhatToSetInsteadOfEveryProviderTried() {
        SdkClientException sdk = SdkClientException.create("Unable to load credentials from any of the providers in the chain"
                + " AwsCredentialsProviderChain(credentialsProviders=[SystemPropertyCredentialsProvider(), ...]) : [...]");
        String reason = Reasons.oneLine(new RuntimeCamelException(sdk));
        assertThat(reason).startsWith("no S3 credentials: set COLDCOPY_REPOSITORY_S3_ACCESS_KEY").doesNotContain("Provider")
                .hasSizeLessThan(300);
    }
}
