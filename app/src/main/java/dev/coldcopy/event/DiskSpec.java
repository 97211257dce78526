package dev.coldcopy.event;

import java.nio.file.Path;

/** One disk of a stopped VM as the event names it: the guest's target name and the top image. */
public record DiskSpec(String target, Path image) {}
