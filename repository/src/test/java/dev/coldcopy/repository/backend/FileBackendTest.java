package dev.coldcopy.repository.backend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coldcopy.repository.RepositoryOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileBackendTest {

    @TempDir
    Path dir;

    @Test
    void durableWritesAreTheDefault() {
        assertThat(RepositoryOptions.defaults().durableWrites()).isTrue();
        assertThat(RepositoryOptions.builder().durableWrites(false).build().toBuilder().build().durableWrites()).isFalse();
    }

    @Test
    void flushReturnsWithEveryObjectInPlaceAndNoTemporaryFile() throws Exception {
        try (DefaultCamelContext camel = new DefaultCamelContext()) {
            camel.start();
            for (boolean durable : new boolean[] {true, false}) {
                Path root = dir.resolve("repo-" + durable);
                try (FileBackend backend = new FileBackend(root, camel, durable)) {
                    for (int i = 0; i < 40; i++) {
                        backend.put("chunks/%02x/object-%d".formatted(i % 7, i), ("object " + i).getBytes());
                    }
                    backend.flush();
                    backend.flush(); // nothing pending: returns at once
                    for (int i = 0; i < 40; i++) {
                        assertThat(backend.get("chunks/%02x/object-%d".formatted(i % 7, i))).asString().isEqualTo("object " + i);
                    }
                }
                try (Stream<Path> files = Files.walk(root)) {
                    assertThat(files.filter(Files::isRegularFile).map(p -> p.getFileName().toString()))
                            .hasSize(40).noneMatch(n -> n.startsWith(FileBackend.TEMP_PREFIX));
                }
            }
        }
    }
}
