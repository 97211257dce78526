package dev.coldcopy.security;

/** A VM name, disk target or checkpoint name that does not match coldcopy's strict patterns. */
public class NameRefusedException extends RefusedException {

    public NameRefusedException(String message) {
        super(message);
    }
}
