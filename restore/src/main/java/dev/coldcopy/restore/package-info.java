/**
 * Restore ({@link dev.coldcopy.restore.Restorer}: a snapshot to a new raw file or qcow2, a delta onto a
 * copy of its base) and verification ({@link dev.coldcopy.repository.verify.Verifier}) of a repository. Every chunk
 * is verified before any of its bytes are written; a failed restore leaves no output file.
 */
package dev.coldcopy.restore;
