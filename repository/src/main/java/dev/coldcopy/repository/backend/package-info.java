/**
 * Where repository objects live: a local directory ({@link dev.coldcopy.repository.backend.FileBackend}),
 * an S3 bucket ({@link dev.coldcopy.repository.backend.S3Backend}) or an SFTP directory
 * ({@link dev.coldcopy.repository.backend.SftpBackend}). Writes go through Camel endpoints ({@code file:},
 * {@code aws2-s3:}, {@code sftp:}) so a route can deliver the same way; reads use the components' clients.
 */
package dev.coldcopy.repository.backend;
