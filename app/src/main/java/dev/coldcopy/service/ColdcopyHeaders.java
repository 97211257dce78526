package dev.coldcopy.service;

/** Exchange headers the coldcopy routes set and read (names a YAML route can use). */
public final class ColdcopyHeaders {
    public static final String EVENT_ID = "CamelColdcopyEventId";
    public static final String VM = "CamelColdcopyVm";
    public static final String DISK = "CamelColdcopyDisk";
    public static final String REASON = "CamelColdcopyReason";
    public static final String OUTCOME = "CamelColdcopyOutcome";

    private ColdcopyHeaders() {}
}
