/**
 * Backups of whole VMs: per stop event a record ({@link dev.coldcopy.repository.vm.VmBackup}) of the disk
 * snapshots taken and the files around them (libvirt domain XML, UEFI NVRAM, direct-boot kernel, initrd,
 * dtb), whose contents are stored as chunks like disk data. Written with
 * {@link dev.coldcopy.repository.vm.VmBackupWriter}, read with {@link dev.coldcopy.repository.vm.VmBackups}.
 */
package dev.coldcopy.repository.vm;
