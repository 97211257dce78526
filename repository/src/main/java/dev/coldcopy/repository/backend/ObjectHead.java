package dev.coldcopy.repository.backend;

/**
 * What {@link RepositoryBackend#head} sees of a stored object.
 *
 * @param length the object's stored length in bytes
 * @param start  its first bytes (as many as were asked for, fewer if the object is shorter)
 */
public record ObjectHead(long length, byte[] start) {
}
