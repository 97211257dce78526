package dev.coldcopy.repository;

import java.time.Duration;

/**
 * Figures of one backup. The caller of {@link SnapshotWriter#commit} gives what the reader knows
 * (bytesRead, durationMillis; zero if unknown); the writer fills in the rest.
 *
 * @param bytesRead      bytes read from the source
 * @param bytesData      bytes put as DATA
 * @param bytesZero      bytes put as ZERO
 * @param bytesStored    bytes written to the repository for new chunks (compressed, with headers)
 * @param bytesNew       plaintext bytes of the new chunks
 * @param chunksNew      chunks uploaded
 * @param chunksReused   chunks that already existed (not uploaded again)
 * @param durationMillis wall time of the backup
 */
public record BackupStatistics(long bytesRead, long bytesData, long bytesZero, long bytesStored, long bytesNew,
                               long chunksNew, long chunksReused, long durationMillis) {

    public static BackupStatistics none() {
        return new BackupStatistics(0, 0, 0, 0, 0, 0, 0, 0);
    }

    /** what a reader knows */
    public static BackupStatistics read(long bytesRead, Duration duration) {
        return new BackupStatistics(bytesRead, 0, 0, 0, 0, 0, 0, duration.toMillis());
    }
}
