package dev.coldcopy.repository.lock;

import dev.coldcopy.repository.Repository;
import dev.coldcopy.repository.RepositoryOptions;
import dev.coldcopy.repository.RepositoryUri;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A node in a process of its own that takes the lease on VM/DISK, says so, and holds it until it is killed:
 * args REPO-URI VM DISK [S3-ACCESS-KEY S3-SECRET-KEY].
 */
public final class LeaseHolderMain {
    static final String HELD = "held ";

    private LeaseHolderMain() {
    }

    public static void main(String[] args) throws Exception {
        RepositoryOptions.Builder options = RepositoryOptions.builder();
        if (args.length >= 5) {
            options.s3Credentials(args[3], args[4]);
        }
        Repository repo = Repository.open(RepositoryUri.parse(args[0]), options.build());
        RepositoryLock lease = repo.locks().leaseDisk(args[1], args[2], "backup " + args[1] + "/" + args[2], Duration.ZERO);
        System.out.println(HELD + lease.key());
        System.out.flush();
        Thread.sleep(Duration.ofMinutes(5).toMillis());
    }

    static ProcessBuilder command(String... args) {
        String[] cmd = new String[5 + args.length];
        cmd[0] = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        cmd[1] = "-Xmx128m";
        cmd[2] = "-cp";
        cmd[3] = System.getProperty("java.class.path");
        cmd[4] = LeaseHolderMain.class.getName();
        System.arraycopy(args, 0, cmd, 5, args.length);
        return new ProcessBuilder(cmd).redirectErrorStream(true);
    }
}
