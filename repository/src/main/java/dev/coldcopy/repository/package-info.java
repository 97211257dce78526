/**
 * The backup repository: content-addressed chunks ({@link dev.coldcopy.repository.ChunkCodec}: header,
 * zstd, optional AES-256-GCM, CRC-32C; addressed by SHA-256 or a keyed hash), self-contained snapshot
 * manifests ({@link dev.coldcopy.repository.SnapshotManifest}, {@link dev.coldcopy.repository.ManifestCodec})
 * and the {@link dev.coldcopy.repository.Repository} facade that opens one of the backends in
 * {@code dev.coldcopy.repository.backend} from a {@link dev.coldcopy.repository.RepositoryUri}.
 *
 * <p>Writing a backup: {@code repo.newSnapshot(header, parent)} gives a
 * {@link dev.coldcopy.repository.SnapshotWriter}; put DATA and ZERO ranges, then {@code commit}. The writer
 * packs small ranges into shared chunks and gives long runs whole window-aligned chunks, so a chunk may
 * hold several extents: each manifest extent names its chunk and the offset of its bytes in it. An
 * incremental's manifest is its parent's map with the new ranges laid over it (a synthetic full), so
 * every FULL or INCREMENTAL snapshot restores alone; a DELTA holds only its ranges and restores onto a base.
 */
package dev.coldcopy.repository;
