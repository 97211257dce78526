package dev.coldcopy.service.plan;

/**
 * What the repository's latest snapshot of a disk remembers: the checkpoint bitmap that backup created on
 * the top image (null or empty if it created none) and the virtual size it saw.
 */
public record PreviousBackup(String checkpointName, long virtualSize) {

    public boolean createdCheckpoint() {
        return checkpointName != null && !checkpointName.isBlank();
    }
}
