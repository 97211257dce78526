package dev.coldcopy.repository.lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import dev.coldcopy.repository.lifecycle.KeepRules;
import dev.coldcopy.repository.lifecycle.PruneResult;
import dev.coldcopy.repository.lifecycle.Pruner;
import dev.coldcopy.repository.testing.StartedCamel;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Disk leases between two nodes (two Repository instances on one real backend, as two coldcopy processes of a
 * fleet would have): one holder per disk, the waiting one told who holds it; a holder that stops refreshing
 * loses the disk after the expiry and can no longer commit; a holder killed with -9 on this host loses it at
 * once; prune neither waits for leases nor keeps stale ones. Short lease timings, so it runs in seconds.
 */
abstract class AbstractDiskLeaseTest {
    /** leases expire after 1.5 s here, refreshed every 0.3 s */
    static final LockTimings SHORT = new LockTimings(Duration.ofMinutes(30), Duration.ofMinutes(5), Duration.ofMillis(50),
            Duration.ofSeconds(5)).withLeases(Duration.ofMillis(4000), Duration.ofMillis(300));   // a loaded CI machine may skip a few refreshes
    /** a node whose refresher never comes round within a test: it holds, then stops refreshing (frozen or killed) */
    static final LockTimings NEVER_REFRESHED = SHORT.withLeases(Duration.ofHours(2), Duration.ofHours(1));

    @TempDir
    Path work;
    @RegisterExtension
    final StartedCamel camel = new StartedCamel();

    /** a repository location of this backend, fresh for each test */
    abstract RepositoryUri repositoryUri() throws Exception;

    abstract RepositoryOptions.Builder backendOptions(RepositoryOptions.Builder b);

    /** the arguments the child node needs after URI, VM and disk (credentials) */
    abstract List<String> childArguments();

    Repository node(boolean first, LockTimings timings) throws Exception {
        RepositoryOptions options = backendOptions(RepositoryOptions.builder().camelContext(camel.context()).parallelism(2))
                .lockTimings(timings).build();
        return first ? Repository.init(repositoryUri(), options) : Repository.open(repositoryUri(), options);
    }

    @Test
    void oneNodeAtATimePerDiskAndTheOtherIsToldWhoHoldsIt() throws Exception {
        try (Repository a = node(true, SHORT); Repository b = node(false, SHORT)) {
            RepositoryLock held = a.locks().leaseDisk("web", "vda", "backup web/vda (event e1)", Duration.ZERO);
            // another disk, or the same disk name of another VM, is not held up
            b.locks().leaseDisk("web", "vdb", "backup web/vdb", Duration.ZERO).close();
            b.locks().leaseDisk("db", "vda", "backup db/vda", Duration.ZERO).close();

            long t0 = System.nanoTime();
            // longer than the expiry: the holder's refreshes keep the lease alive all along
            assertThatThrownBy(() -> b.locks().leaseDisk("web", "vda", "backup web/vda (event e1)", Duration.ofMillis(5000)))
                    .isInstanceOf(RepositoryLockedException.class)
                    .hasMessageContaining("disk web/vda is held by another coldcopy")
                    .hasMessageContaining("backup web/vda (event e1)")
                    .hasMessageContaining("by pid " + ProcessHandle.current().pid() + " on " + ProcessIdentity.host())
                    .hasMessageContaining("gave up after waiting 5");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(5000));
            held.confirm();

            // backups' shared locks and a prune's exclusive one are not held up by leases, nor do they hold them up
            b.locks().acquire(LockMode.SHARED, "backup web/vda", Duration.ZERO).close();
            PruneResult pruned = prune(b);
            assertThat(pruned.staleLocksRemoved()).isZero();
            held.confirm();
            assertThat(b.locks().list()).as("repository locks do not count leases").isEmpty();
            assertThat(b.locks().listLeases()).hasSize(1).allSatisfy(l -> assertThat(l.stale()).isFalse());

            held.close();
            try (RepositoryLock mine = b.locks().leaseDisk("web", "vda", "backup web/vda (event e1)", Duration.ZERO)) {
                mine.confirm();
                assertThat(b.backend().list(RepositoryLocks.PREFIX)).containsExactly(mine.key());
            }
            assertThat(a.backend().list(RepositoryLocks.PREFIX)).as("nothing left behind").isEmpty();
        }
    }

    @Test
    void aLeaseNotRefreshedForItsExpiryIsTakenOverAndItsHolderCannotCommit() throws Exception {
        try (Repository frozen = node(true, NEVER_REFRESHED); Repository b = node(false, SHORT)) {
            RepositoryLock stalled = frozen.locks().leaseDisk("web", "vda", "backup web/vda (event e1)", Duration.ZERO);
            assertThatThrownBy(() -> b.locks().leaseDisk("web", "vda", "backup web/vda (event e1)", Duration.ZERO))
                    .as("fresh: still the holder's").isInstanceOf(RepositoryLockedException.class);
            long t0 = System.nanoTime();
            try (RepositoryLock taken = b.locks().leaseDisk("web", "vda", "backup web/vda (event e1)", Duration.ofSeconds(10))) {
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("taken over once expired, not before")
                        .isBetween(Duration.ofMillis(1000), Duration.ofSeconds(8));
                assertThatThrownBy(stalled::confirm).as("the old holder must not commit")
                        .isInstanceOf(RepositoryLockedException.class).hasMessageContaining("taken over by another node");
                stalled.close(); // its release leaves the new holder's lease alone
                taken.confirm();
                assertThat(b.backend().list(RepositoryLocks.PREFIX)).containsExactly(taken.key());
            }
        }
    }

    @Test
    void aNodeKilledOnThisHostLosesItsLeaseAtOnceAndPruneRemovesStaleLeases() throws Exception {
        try (Repository b = node(true, SHORT)) {
            Process child = LeaseHolderMain.command(childCommand()).start();
            String key;
            try {
                key = awaitHeld(child);
                assertThatThrownBy(() -> b.locks().leaseDisk("web", "vda", "backup web/vda", Duration.ZERO))
                        .isInstanceOf(RepositoryLockedException.class).hasMessageContaining("by pid " + child.pid());
            } finally {
                child.destroyForcibly(); // kill -9
                assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(b.backend().list(RepositoryLocks.PREFIX)).as("a killed node removes nothing").containsExactly(key);
            assertThat(b.locks().listLeases()).singleElement().satisfies(l -> assertThat(l.stale()).isTrue());
            assertThat(b.locks().list()).isEmpty();

            // a prune does not wait for it (it guards no chunk) and tidies it away
            PruneResult pruned = prune(b);
            assertThat(pruned.staleLocksRemoved()).isEqualTo(1);
            assertThat(b.backend().list(RepositoryLocks.PREFIX)).isEmpty();
            // and the next taker would have had it at once, expiry or not
            b.locks().leaseDisk("web", "vda", "backup web/vda", Duration.ZERO).close();
        }
    }

    private String[] childCommand() throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of(repositoryUri().toString(), "web", "vda"));
        args.addAll(childArguments());
        return args.toArray(String[]::new);
    }

    private static String awaitHeld(Process child) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder seen = new StringBuilder();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String line;
        while (System.nanoTime() < deadline && (line = out.readLine()) != null) {
            if (line.startsWith(LeaseHolderMain.HELD)) {
                return line.substring(LeaseHolderMain.HELD.length());
            }
            seen.append(line).append('\n');
        }
        throw new AssertionError("the child node did not take the lease: " + seen);
    }

    private static PruneResult prune(Repository repo) throws Exception {
        return new Pruner(repo).prune(new Pruner.Request(Optional.empty(), Optional.empty(), KeepRules.NONE.withLast(1), false,
                Duration.ZERO), d -> { });
    }
}
