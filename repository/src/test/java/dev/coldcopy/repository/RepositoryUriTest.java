package dev.coldcopy.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RepositoryUriTest {
    @Test
    void parsesTheThreeSchemes() {
        RepositoryUri f = RepositoryUri.parse("file:/var/backups/cc");
        assertThat(f.scheme()).isEqualTo(RepositoryUri.Scheme.FILE);
        assertThat(f.directory().toString()).isEqualTo("/var/backups/cc");
        assertThat(RepositoryUri.parse("file:///var/x").directory().toString()).isEqualTo("/var/x");
        RepositoryUri s = RepositoryUri.parse("s3://bucket/some/prefix/?endpoint=http://127.0.0.1:9000&region=eu-west-1");
        assertThat(s.bucket()).isEqualTo("bucket");
        assertThat(s.path()).isEqualTo("some/prefix");
        assertThat(s.param("endpoint")).contains("http://127.0.0.1:9000");
        RepositoryUri t = RepositoryUri.parse("sftp://backup@host.example:2222/srv/cc");
        assertThat(t.user()).isEqualTo("backup");
        assertThat(t.port()).isEqualTo(2222);
        assertThat(t.path()).isEqualTo("/srv/cc");
    }

    @Test
    void secretsAreRedactedWhenPrinted() {
        RepositoryUri s = RepositoryUri.parse("s3://b/p?endpoint=http://h:1&accessKey=AKIASECRET&secretKey=VERYSECRET&region=r");
        assertThat(s.toString()).doesNotContain("AKIASECRET").doesNotContain("VERYSECRET").contains("secretKey=xxxxxx").contains("region=r");
        assertThat(RepositoryUri.redact("aws2-s3://b?accessKey=RAW(A)&secretKey=RAW(B)")).doesNotContain("RAW(B)").doesNotContain("RAW(A)");
        assertThatThrownBy(() -> RepositoryUri.parse("s3://?secretKey=VERYSECRET")).hasMessageNotContaining("VERYSECRET");
        assertThatThrownBy(() -> RepositoryUri.parse("sftp://u:pw123@h/x")).hasMessageNotContaining("pw123");
        assertThatThrownBy(() -> RepositoryUri.parse("ftp://h/x")).hasMessageContaining("unsupported");
    }
}
