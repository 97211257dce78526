package dev.coldcopy.cli;

import picocli.CommandLine.IVersionProvider;

/** The version as packaged in the jar manifest. */
final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = ColdcopyCommand.class.getPackage().getImplementationVersion();
        return new String[] {"coldcopy " + (v == null ? "(development build)" : v)};
    }
}
