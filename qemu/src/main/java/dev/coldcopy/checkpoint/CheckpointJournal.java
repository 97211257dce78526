package dev.coldcopy.checkpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

import dev.coldcopy.qemu.ProcessOwner;

/**
 * Bitmaps coldcopy added to a top image but whose backup has not been committed yet. An entry is written
 * <em>before</em> {@code qemu-img bitmap --add} and removed once the backup commits (the bitmap is then a
 * real checkpoint) or the bitmap has been removed again. Whatever is left after a crash the
 * {@link dev.coldcopy.backup.Reaper} removes at the next start, so a failed backup never leaves a new
 * checkpoint that the repository knows nothing about.
 *
 * <p>One small text file per entry: owner (pid and start time), image path, bitmap name.
 */
public final class CheckpointJournal {

    public record Entry(Path file, ProcessOwner owner, Path image, String bitmap) {
    }

    private final Path dir;

    public CheckpointJournal(Path dir) {
        this.dir = dir;
    }

    public Path directory() {
        return dir;
    }

    public Entry record(Path image, String bitmap) {
        ProcessOwner owner = ProcessOwner.current();
        Path file = dir.resolve(key(image, bitmap) + ".pending");
        try {
            Files.createDirectories(dir);
            Path tmp = dir.resolve(file.getFileName() + ".tmp");
            Files.writeString(tmp, owner.encode() + "\n" + image + "\n" + bitmap + "\n", StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint journal " + file, e);
        }
        return new Entry(file, owner, image, bitmap);
    }

    public void forget(Entry entry) {
        try {
            Files.deleteIfExists(entry.file());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove checkpoint journal entry " + entry.file(), e);
        }
    }

    public List<Entry> entries() {
        List<Entry> result = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return result;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.pending")) {
            for (Path f : files) {
                read(f).ifPresent(result::add);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list checkpoint journal " + dir, e);
        }
        return result;
    }

    private static Optional<Entry> read(Path file) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            if (lines.size() < 3) {
                return Optional.empty();
            }
            return ProcessOwner.decode(lines.get(0)).map(o -> new Entry(file, o, Path.of(lines.get(1)), lines.get(2)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static String key(Path image, String bitmap) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest((image + "\0" + bitmap).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
