package dev.coldcopy.libvirt;

/** libvirt refused or failed a call; the message is virsh's own reason on one line. */
public class LibvirtException extends RuntimeException {
    public LibvirtException(String message) {
        super(message);
    }
}
